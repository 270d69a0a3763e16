import test from 'ava';
import type { NodeUpload } from '../../../src/proxy/node-client.js';
import { drainQuorum } from '../../../src/proxy/policies/drain.js';

/** An upload that drains after `ms` (never when undefined) and records an abort. */
function upload(ms: number | undefined): NodeUpload & { aborted: boolean } {
  let failed: Error | undefined;
  const u = {
    node: { ip: '127.0.0.1', port: 1 },
    aborted: false,
    write: () => false,
    drained: () => (ms === undefined ? new Promise<void>(() => {}) : new Promise<void>((r) => setTimeout(r, ms))),
    finish: () => Promise.reject(new Error('unused')),
    abort: () => {
      u.aborted = true;
      failed = new Error('aborted');
    },
    get failed() {
      return failed;
    },
  };
  return u;
}

test('every upload drained: nothing dropped', async (t) => {
  const ups = [upload(5), upload(10), upload(20)];
  await drainQuorum(ups, 2, 1000);
  t.deepEqual(ups.map((u) => u.aborted), [false, false, false]);
});

test('one upload stuck: dropped once the quorum drained and the grace passed', async (t) => {
  const ups = [upload(5), upload(undefined), upload(10)];
  const start = Date.now();
  await drainQuorum(ups, 2, 100);
  t.deepEqual(ups.map((u) => u.aborted), [false, true, false]);
  t.true(Date.now() - start < 1000);
});

test('a slow upload that drains within the grace is kept', async (t) => {
  const ups = [upload(5), upload(10), upload(60)];
  await drainQuorum(ups, 2, 500);
  t.deepEqual(ups.map((u) => u.aborted), [false, false, false]);
});

test('below the quorum it keeps waiting for the slow ones', async (t) => {
  const ups = [upload(5), upload(150), upload(200)];
  const start = Date.now();
  await drainQuorum(ups, 3, 10);
  t.true(Date.now() - start >= 190);
  t.deepEqual(ups.map((u) => u.aborted), [false, false, false]);
});
