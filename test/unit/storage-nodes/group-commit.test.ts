import test from 'ava';
import type { Level } from 'level';
import { DeviceUnavailableError } from '../../../storage-nodes/disk-file.js';
import { GroupCommitDb, type WriteOp } from '../../../storage-nodes/group-commit.js';

/** A fake Level whose batches complete when the test says so. */
function fakeDb() {
  const data = new Map<string, string>();
  const batches: Array<{ ops: WriteOp[]; done: () => void; fail: (e: Error) => void }> = [];
  const db = {
    getSync(key: Buffer) {
      return data.get(key.toString('latin1'));
    },
    batch(ops: WriteOp[]) {
      return new Promise<void>((resolve, reject) => {
        batches.push({
          ops,
          done: () => {
            for (const op of ops) {
              if (op.type === 'put') data.set(op.key.toString('latin1'), op.value);
              else data.delete(op.key.toString('latin1'));
            }
            resolve();
          },
          fail: reject,
        });
      });
    },
    async close() {},
  };
  return { db: db as unknown as Level<Buffer, string>, data, batches };
}

const k = (s: string) => Buffer.from(s);
const put = (key: string, value: string): WriteOp => ({ type: 'put', key: k(key), value });
const tick = () => new Promise((r) => setImmediate(r));

test('writes queued while a batch syncs go out together, and reads see queued values', async (t) => {
  const { db, batches } = fakeDb();
  const g = new GroupCommitDb(db, true, (e) => e as Error);
  const first = g.write([put('a', '1')], g.epoch);
  t.is(batches.length, 1);
  const more = [g.write([put('b', '2')], g.epoch), g.write([put('a', '3')], g.epoch), g.write([{ type: 'del', key: k('b') }], g.epoch)];
  t.is(batches.length, 1, 'the next batch waits for the one in flight');
  t.deepEqual(await g.getMany([k('a'), k('b'), k('c')]), ['3', undefined, undefined]);
  batches[0].done();
  await first;
  await tick();
  t.is(batches.length, 2);
  t.is(batches[1].ops.length, 3);
  let settled = false;
  const barrier = g.write([], g.epoch).then(() => (settled = true));
  await tick();
  t.false(settled, 'an empty write still waits for the queued batch its caller may rely on');
  batches[1].done();
  await Promise.all([...more, barrier]);
  t.is(g.batchCount, 2);
  t.deepEqual(await g.getMany([k('a'), k('b')]), ['3', undefined]);
});

test('a failed batch fails the writes built on it and voids work computed before', async (t) => {
  const { db, batches } = fakeDb();
  const g = new GroupCommitDb(db, true, (e) => new DeviceUnavailableError('d1', '/dev/d1', (e as Error).message));
  const epoch = g.epoch;
  const first = g.write([put('a', '1')], epoch);
  const dependent = g.write([put('a', '2')], epoch);
  batches[0].fail(new Error('EIO'));
  const e1 = await t.throwsAsync(first);
  t.true(e1 instanceof DeviceUnavailableError);
  t.true((await t.throwsAsync(dependent)) instanceof DeviceUnavailableError);
  t.true((await t.throwsAsync(g.write([put('a', '3')], epoch))) instanceof DeviceUnavailableError, 'computed at the old epoch');
  t.deepEqual(await g.getMany([k('a')]), [undefined], 'the overlay of failed batches is gone');
  const retry = g.write([put('a', '4')], g.epoch);
  batches[1].done();
  await retry;
  t.deepEqual(await g.getMany([k('a')]), ['4']);
});

test('with a real Level, batches go through classic-level’s own _batch (no per-op copies) and land as written', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Level: RealLevel } = await import('level');
  const dir = await mkdtemp(join(tmpdir(), 'arca-gc-'));
  const db = new RealLevel<Buffer, string>(dir, { keyEncoding: 'buffer', valueEncoding: 'utf8' });
  await db.open();
  try {
    const raw = db as unknown as { _batch: (...args: unknown[]) => Promise<void> };
    const original = raw._batch;
    let calls = 0;
    raw._batch = function (...args: unknown[]) {
      calls++;
      return original.apply(this, args);
    };
    const g = new GroupCommitDb(db, true, (e) => e as Error);
    await Promise.all([
      g.write([{ type: 'put', key: Buffer.from('a'), value: 'A' }, { type: 'put', key: Buffer.from([0, 0xff]), value: 'bin ✓' }], g.epoch),
      g.write([{ type: 'del', key: Buffer.from('a') }], g.epoch),
    ]);
    t.true(calls >= 1);
    t.is(db.getSync(Buffer.from('a')), undefined);
    t.is(await db.get(Buffer.from([0, 0xff])), 'bin ✓');
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
