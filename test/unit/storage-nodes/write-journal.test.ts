import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { WriteQueue } from '../../../storage-nodes/write-queue.js';
import { decodeRecords, encodeRecord, type JournalRecord, replayJournal, WriteJournal } from '../../../storage-nodes/write-journal.js';
import { hashOf as hash, withDeviceDir as withDevice, writeJob } from './write-fixture.js';

const t1 = '1700000001.000000';
const t2 = '1700000002.000000';

function record(i: number, file: string, body: string): JournalRecord {
  return { dir: `objects/1/${hash(i).slice(-3)}/${hash(i)}`, file, invalid: 'objects/1/hashes.invalid', line: `${hash(i).slice(-3)}\n`, data: Buffer.from(body) };
}

const segments = async (dir: string) => (await readdir(join(dir, 'journal')).catch(() => [])).filter((n) => n.endsWith('.wal')).sort();

test('records round-trip; decoding stops at a torn tail or a record that fails its CRC', (t) => {
  const recs = [record(1, `${t1}.data`, 'one'), record(2, `${t1}.ts`, ''), record(3, `${t2}.data`, 'x'.repeat(70_000))];
  const buf = Buffer.concat(recs.flatMap(encodeRecord));
  const back = decodeRecords(buf);
  t.deepEqual(
    back.map((r) => ({ ...r, data: Buffer.from(r.data).toString() })),
    recs.map((r) => ({ ...r, data: Buffer.from(r.data).toString() })),
  );
  // A crash in the middle of the last append.
  t.is(decodeRecords(buf.subarray(0, buf.length - 5)).length, 2);
  t.is(decodeRecords(buf.subarray(0, 10)).length, 0);
  // A flipped byte fails its record's CRC: that record and everything after it are not trusted.
  const bad = Buffer.from(buf);
  bad[bad.length - 1] ^= 0xff;
  t.is(decodeRecords(bad).length, 2);
  bad[20] ^= 0xff;
  t.is(decodeRecords(bad).length, 0);
  t.is(decodeRecords(Buffer.alloc(64)).length, 0);
});

test('appends share a sync; a checkpoint flushes the file system and removes its segment; the next append opens another', async (t) => {
  await withDevice(async (dir) => {
    const flushes: string[] = [];
    const journal = new WriteJournal(dir, { maxAgeMs: 3_600_000, syncfs: async (d) => void flushes.push(d) });
    const segs = Array.from({ length: 10 }, (_, i) => journal.append(record(i, `${t1}.data`, `body ${i}`)));
    await Promise.all(segs.map((s) => journal.sync(s)));
    t.is(new Set(segs).size, 1, 'one segment');
    t.deepEqual(await segments(dir), ['0000000000.wal']);
    t.is(decodeRecords(readFileSync(join(dir, 'journal', '0000000000.wal'))).length, 10);
    await journal.flush();
    t.deepEqual(flushes, [dir]);
    t.deepEqual(await segments(dir), []);
    await journal.sync(journal.append(record(11, `${t1}.data`, 'after')));
    t.deepEqual(await segments(dir), ['0000000001.wal']);
    await journal.flush();
  });
});

test('a segment is checkpointed once it is old or large; a failed flush keeps it until one succeeds', async (t) => {
  await withDevice(async (dir) => {
    let fail = true;
    let flushes = 0;
    const journal = new WriteJournal(dir, {
      maxAgeMs: 3_600_000,
      maxBytes: 1000,
      syncfs: async () => {
        flushes++;
        if (fail) throw new Error('EIO');
      },
    });
    // Each record is ~190 bytes: the sixth fills the first segment, which is then checkpointed.
    for (let i = 0; i < 7; i++) await journal.sync(journal.append(record(i, `${t1}.data`, 'x'.repeat(40))));
    await journal.flush();
    t.is(flushes, 2, 'the full segment, then the one flush() took');
    t.deepEqual(await segments(dir), ['0000000000.wal', '0000000001.wal'], 'kept: the flushes failed');
    t.is(decodeRecords(readFileSync(join(dir, 'journal', '0000000000.wal'))).length, 6);
    fail = false;
    await journal.sync(journal.append(record(9, `${t1}.data`, 'y')));
    await journal.flush();
    t.deepEqual(await segments(dir), [], 'both gone once a flush succeeded');

    const timed = new WriteJournal(dir, { maxAgeMs: 100, syncfs: async () => {} });
    await timed.sync(timed.append(record(10, `${t1}.data`, 'z')));
    t.is((await segments(dir)).length, 1);
    await new Promise((r) => setTimeout(r, 400));
    t.deepEqual(await segments(dir), [], 'removed by its timer');
  });
});

test('a segment removed while open (a wiped device): its sync flushes the file system, and appends go to a new segment', async (t) => {
  await withDevice(async (dir) => {
    let flushes = 0;
    const journal = new WriteJournal(dir, { maxAgeMs: 3_600_000, syncfs: async () => void flushes++ });
    await journal.sync(journal.append(record(1, `${t1}.data`, 'a')));
    t.is(flushes, 0);
    await rm(join(dir, 'journal'), { recursive: true });
    await journal.sync(journal.append(record(2, `${t1}.data`, 'b')));
    t.true(flushes >= 1, 'the writes in the removed segment were flushed in place');
    await journal.sync(journal.append(record(3, `${t1}.data`, 'c')));
    const segs = await segments(dir);
    t.is(segs.length, 1);
    t.deepEqual(
      decodeRecords(readFileSync(join(dir, 'journal', segs[0]))).map((r) => r.dir),
      [record(3, `${t1}.data`, 'c').dir],
    );
    await journal.flush();
  });
});

test('replay writes back what a crash lost, keeps what is intact, skips what a newer version made obsolete, then removes the journal', async (t) => {
  await withDevice(async (dir) => {
    const recs = [
      record(1, `${t1}.data`, 'lost'), // missing on disk
      record(2, `${t1}.data`, 'intact'), // on disk as written
      record(3, `${t1}.data`, 'torn file'), // on disk, but short
      record(4, `${t1}.data`, 'old'), // a tombstone on disk is newer
      record(5, `${t1}.data`, 'then deleted'),
      record(5, `${t2}.ts`, ''), // a later record made the data obsolete
      record(6, `${t1}#2.data`, 'fragment'), // a pending EC archive, marked durable since (renamed), then torn
    ];
    await mkdir(join(dir, 'journal'));
    const wal = Buffer.concat(recs.flatMap(encodeRecord));
    writeFileSync(join(dir, 'journal', '0000000007.wal'), Buffer.concat([wal, wal.subarray(0, 30)]));
    const at = (r: JournalRecord) => join(dir, r.dir, r.file);
    for (const r of [recs[1], recs[2]]) await mkdir(join(dir, r.dir), { recursive: true });
    await writeFile(at(recs[1]), 'intact');
    await writeFile(at(recs[2]), 'torn');
    await mkdir(join(dir, recs[3].dir), { recursive: true });
    await writeFile(join(dir, recs[3].dir, `${t2}.ts`), '');
    await mkdir(join(dir, recs[6].dir), { recursive: true });
    await writeFile(join(dir, recs[6].dir, `${t1}#2#d.data`), '');

    const flushed: string[] = [];
    const result = await replayJournal(dir, async (d) => void flushed.push(d));
    t.deepEqual(result, { records: 7, restored: 4, segments: 1 });
    t.deepEqual(flushed, [dir]);
    t.is(await readFile(at(recs[0]), 'utf8'), 'lost');
    t.is(await readFile(at(recs[1]), 'utf8'), 'intact');
    t.is(await readFile(at(recs[2]), 'utf8'), 'torn file');
    t.false(existsSync(at(recs[3])));
    t.deepEqual(await readdir(join(dir, recs[4].dir)), [`${t2}.ts`]);
    t.deepEqual(await readdir(join(dir, recs[6].dir)), [`${t1}#2#d.data`]);
    t.is(await readFile(join(dir, recs[6].dir, `${t1}#2#d.data`), 'utf8'), 'fragment');
    t.deepEqual(await segments(dir), []);
    t.deepEqual(await readdir(join(dir, 'tmp')), []);
    const lines = (await readFile(join(dir, 'objects/1/hashes.invalid'), 'latin1')).split('\n').filter(Boolean).sort();
    t.deepEqual(lines, [recs[0], recs[2], recs[5], recs[6]].map((r) => r.line.trim()).sort());
    // Nothing to do the second time (the real syncfs is not even needed).
    t.deepEqual(await replayJournal(dir), { records: 0, restored: 0, segments: 0 });
  });
});

const job = (dir: string, i: number, file: string, body: string) => writeJob(dir, hash(i), file, body, { name: `/a/b/${i}`, tmpPath: join(dir, 'tmp', `${i}-${file}`), journal: true });

test('journaled jobs on the write queue: installed, in the journal, and back after a crash took their files (real syncfs)', async (t) => {
  await withDevice(async (dir) => {
    const q = new WriteQueue({ maxInFlight: 8, journal: { maxAgeMs: 3_600_000 } });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => q.submit(job(dir, i, `${t1}.data`, `v${i}`))));
      // Overwrites and deletes replace the first versions (their files are removed once the journal is synced).
      const second = await Promise.all(Array.from({ length: 20 }, (_, i) => q.submit(job(dir, i, i % 2 ? `${t2}.data` : `${t2}.ts`, i % 2 ? `w${i}` : ''))));
      t.true(second.every((o) => o.previous === 'data'));
      for (let i = 0; i < 20; i++) t.deepEqual(await readdir(job(dir, i, '', '').hashDir), [i % 2 ? `${t2}.data` : `${t2}.ts`]);
    } finally {
      await q.close();
    }
    const segs = await segments(dir);
    t.is(segs.length, 1);
    t.is(decodeRecords(readFileSync(join(dir, 'journal', segs[0]))).length, 40);
    // A power cut before the file system wrote the files back: they are gone, the journal is not.
    for (let i = 0; i < 20; i += 3) await rm(job(dir, i, '', '').hashDir, { recursive: true });
    await truncate(join(job(dir, 1, '', '').hashDir, `${t2}.data`), 1);
    const result = await replayJournal(dir);
    t.is(result.records, 40);
    t.is(result.restored, 8);
    for (let i = 0; i < 20; i++) {
      const names = await readdir(job(dir, i, '', '').hashDir);
      t.deepEqual(names, [i % 2 ? `${t2}.data` : `${t2}.ts`]);
      if (i % 2) t.is(await readFile(join(job(dir, i, '', '').hashDir, names[0]), 'utf8'), `w${i}`);
    }
    t.deepEqual(await segments(dir), []);
  });
});
