import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { isArcaError } from '../../../src/common/errors.js';
import type { ObjectMeta } from '../../../src/common/wire.js';
import { encodeFooter } from '../../../storage-nodes/data-file-format.js';
import { FsSuffixHashes } from '../../../storage-nodes/fs-suffix-hashes.js';
import { WriteQueue } from '../../../storage-nodes/write-queue.js';
import { CoalescedSyncs } from '../../../storage-nodes/fs-util.js';
import { hashOf as hash, withDeviceDir as withDir, writeJob as job } from './write-fixture.js';

const t1 = '1700000001.000000';
const t2 = '1700000002.000000';



// Writes run on the calling thread by default, on the disk worker with `onWorker`: the same steps either way.
const where = (onWorker: boolean) => (onWorker ? 'on the worker' : 'on the calling thread');

for (const onWorker of [false, true]) {
  test(`many jobs at once, ${where(onWorker)}: each installed, conflicts refused alone, one hashes.invalid line per job`, async (t) => {
    await withDir(async (dir) => {
      const q = new WriteQueue({ maxInFlight: 8, onWorker });
      try {
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => q.submit(job(dir, hash(i), `${t2}.data`, `v${i}`))));
        t.true(results.every((r) => r.status === 'fulfilled'));
        // Older versions of half of them are refused; newer tombstones of the others replace them.
        const second = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => q.submit(i % 2 ? job(dir, hash(i), `${t1}.data`, 'old') : job(dir, hash(i), '1700000003.000000.ts', '{}'))),
        );
        for (const [i, r] of second.entries()) {
          if (i % 2) t.true(r.status === 'rejected' && isArcaError(r.reason, 'Conflict') && r.reason.detail.existingTs === t2);
          else t.like(r.status === 'fulfilled' ? r.value : {}, { previous: 'data' });
        }
        for (let i = 0; i < 20; i++) {
          const names = await readdir(job(dir, hash(i), '', '').hashDir);
          t.deepEqual(names, i % 2 ? [`${t2}.data`] : ['1700000003.000000.ts']);
        }
        const lines = (await readFile(join(dir, 'objects', '1', 'hashes.invalid'), 'latin1')).split('\n').filter((l) => l !== '');
        t.is(lines.length, 30);
        t.deepEqual(await readdir(join(dir, 'tmp')), []);
      } finally {
        await q.close();
      }
    });
  });

  test(`replaced versions go, small and large, ${where(onWorker)}: a data file its tombstone replaced, and a tombstone a data file replaced`, async (t) => {
    await withDir(async (dir) => {
      const q = new WriteQueue({ onWorker });
      // A data file with its footer: the version a write replaces reports its metadata.
      const dataJob = (i: number, file: string, size: number, streamed = false) => {
        const meta = { name: `/a/b/${hash(i)}`, ts: file.slice(0, 17), size, etag: `e${i}` } as unknown as ObjectMeta;
        const data = new Uint8Array(Buffer.concat([Buffer.alloc(size, i), encodeFooter(meta)]));
        // Above 64 KiB the write is not journaled, as a streamed body is not.
        return job(dir, hash(i), file, '', { data, journal: !streamed });
      };
      try {
        // 1: a small data file (unlinked by the job itself); 2: a large one (unlinked in the thread pool).
        for (const [i, size] of [
          [1, 4096],
          [2, 70 * 1024],
        ] as const) {
          await q.submit(dataJob(i, `${t1}.data`, size, size > 65536));
          const gone = await q.submit(job(dir, hash(i), `${t2}.ts`, '{}', { journal: true }));
          t.like(gone, { previous: 'data', replaced: { size, etag: `e${i}` } });
          t.deepEqual(await readdir(job(dir, hash(i), '', '').hashDir), [`${t2}.ts`], `object ${i}`);
          // The tombstone goes when a newer data file comes.
          const back = await q.submit(dataJob(i, '1700000003.000000.data', 10));
          t.like(back, { previous: 'tombstone' });
          t.deepEqual(await readdir(job(dir, hash(i), '', '').hashDir), ['1700000003.000000.data'], `object ${i}`);
        }
      } finally {
        await q.close();
      }
    });
  });

}

test('a tmp file that cannot be created is reported as such; a stopped worker fails its jobs and the next job starts another', async (t) => {
  await withDir(async (dir) => {
    const q = new WriteQueue({ onWorker: true });
    try {
      const bad = { ...job(dir, hash(1), `${t1}.data`, 'x'), tmpPath: join(dir, 'no-such-dir', 'tmp1') };
      const err = (await t.throwsAsync(q.submit(bad))) as NodeJS.ErrnoException & { stage?: string };
      t.is(err.code, 'ENOENT');
      t.is(err.stage, 'tmp');
      const pending = q.submit(job(dir, hash(2), `${t1}.data`, 'x'));
      await q.close();
      // Either it finished before the worker stopped, or it failed with the worker.
      await pending.then(
        () => t.pass(),
        (e: Error) => t.regex(e.message, /write worker stopped/),
      );
      await q.submit(job(dir, hash(3), `${t1}.data`, 'y'));
      t.deepEqual(await readdir(job(dir, hash(3), '', '').hashDir), [`${t1}.data`]);
    } finally {
      await q.close();
    }
  });
});

test('on the calling thread: a tmp file that cannot be created is reported as such, and stopping the worker leaves writes alone', async (t) => {
  await withDir(async (dir) => {
    const q = new WriteQueue();
    try {
      const bad = { ...job(dir, hash(1), `${t1}.data`, 'x'), tmpPath: join(dir, 'no-such-dir', 'tmp1') };
      const err = (await t.throwsAsync(q.submit(bad))) as NodeJS.ErrnoException & { stage?: string };
      t.is(err.code, 'ENOENT');
      t.is(err.stage, 'tmp');
      t.deepEqual(await readdir(join(dir, 'tmp')), [], 'nothing left of it');
      const pending = q.submit(job(dir, hash(2), `${t1}.data`, 'x'));
      await q.close();
      await pending;
      t.deepEqual(await readdir(job(dir, hash(2), '', '').hashDir), [`${t1}.data`]);
    } finally {
      await q.close();
    }
  });
});

test('suffix hashes are recomputed on the disk worker: they see what the writes installed, and fail with it when it stops', async (t) => {
  await withDir(async (dir) => {
    const q = new WriteQueue();
    const hashes = new FsSuffixHashes({ worker: q });
    const partitionDir = join(dir, 'objects', '1');
    try {
      // The writes run on this thread, the recomputation on the worker: it folds what the writes finished
      // before it ran, and the next one the rest.
      const writes = Array.from({ length: 8 }, (_, i) => q.submit(job(dir, hash(i), `${t1}.data`, `v${i}`)));
      const during = hashes.get(partitionDir);
      await Promise.all(writes);
      t.true(Object.keys(await during).length <= 8);
      const after = await hashes.get(partitionDir);
      t.deepEqual(Object.keys(after).sort(), Array.from({ length: 8 }, (_, i) => hash(i).slice(-3)).sort());
      t.deepEqual(after, await new FsSuffixHashes({ worker: q }).get(partitionDir), 'the same as a recomputation from the files');
      // Stopping the queue fails a pending recomputation (or it finished first).
      const pending = hashes.get(partitionDir, { recalculate: [hash(1).slice(-3)] });
      await q.close();
      await pending.then(
        () => t.pass(),
        (e: Error) => t.regex(e.message, /write worker stopped/),
      );
      t.deepEqual(await hashes.get(partitionDir, { recalculate: [hash(1).slice(-3)] }), after, 'the next job starts the worker again');
    } finally {
      await q.close();
    }
  });
});

test('directory syncs: one asked for while another runs waits for it, then runs once for all who asked', async (t) => {
  const started: string[] = [];
  const finish: Array<() => void> = [];
  const syncs = new CoalescedSyncs(async (dir) => {
    started.push(dir);
    await new Promise<void>((resolve) => finish.push(resolve));
  });
  const first = syncs.sync('/d');
  const other = syncs.sync('/e');
  // Asked while the first runs: it may have started before their renames, so they need one of their own.
  const second = [syncs.sync('/d'), syncs.sync('/d'), syncs.sync('/d')];
  t.deepEqual(started, ['/d', '/e']);
  finish.shift()!();
  await first;
  await Promise.resolve();
  t.deepEqual(started, ['/d', '/e', '/d']);
  finish.shift()!();
  await other;
  finish.shift()!();
  await Promise.all(second);
  t.deepEqual(started, ['/d', '/e', '/d']);
  // Idle again: the next sync starts at once.
  const third = syncs.sync('/d');
  t.deepEqual(started, ['/d', '/e', '/d', '/d']);
  finish.shift()!();
  await third;
});
