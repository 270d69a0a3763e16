import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import v8 from 'node:v8';
import test from 'ava';
import { canCollect, IdleCollector } from '../../../storage-nodes/idle-collector.js';

const heap = () => v8.getHeapStatistics().total_heap_size;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Leaves ~`mib` MiB of dead objects in the old generation (they live long enough to be promoted). */
function garbage(mib: number): void {
  let keep: Array<{ name: string; n: number[] }> = [];
  for (let i = 0; i < mib * 8_000; i++) keep.push({ name: `object ${i}`, n: [i, i + 1] });
  keep = [];
  void keep;
}

test('an idle node collects once its heap grew, and never while a request is in flight', async (t) => {
  t.true(canCollect());
  const collector = new IdleCollector({ idleMs: 50, minGrowthBytes: 8 * 1024 * 1024 });
  // Whatever this isolate held before: start from a collection.
  await sleep(60);
  collector.check();

  const res = new EventEmitter() as unknown as ServerResponse;
  collector.track(res);
  garbage(40);
  const grown = heap();
  await sleep(60);
  t.false(collector.check(), 'a request is in flight');

  res.emit('close');
  t.false(collector.check(), 'not idle long enough yet');
  await sleep(60);
  t.true(collector.check());
  t.true(heap() < grown - 8 * 1024 * 1024, `heap ${heap() >> 20} MiB after, ${grown >> 20} before`);
  // Nothing grew since: no second collection.
  await sleep(60);
  t.false(collector.check());
});
