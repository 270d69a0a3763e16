import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import test from 'ava';
import { footerMagic } from '../../../storage-nodes/data-file-format.js';
import { CorruptDataFileError, DeviceUnavailableError, type ObjectLocation } from '../../../storage-nodes/disk-file.js';
import { FsDiskFiles, type FsDiskFilesOptions } from '../../../storage-nodes/fs-disk-file.js';
import { pageCacheAdvice } from '../../../storage-nodes/page-cache.js';
import { readBody, writeObject } from './disk-file.conformance.js';

const t1 = '1700000001.000000';
const t2 = '1700000002.000000';

async function withDevice(fn: (files: FsDiskFiles, dir: string) => Promise<void>, opts: Partial<FsDiskFilesOptions> = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-fsdf-'));
  try {
    await mkdir(join(dir, 'sda'));
    const files = new FsDiskFiles({ devicesDir: dir, devices: ['sda'], fsync: true, ...opts });
    await files.prepareDevice('sda');
    await fn(files, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

const loc = (name: string, partition = 5, policyIndex = 0): ObjectLocation => ({ device: 'sda', policyIndex, partition, name });

test('Swift layout: objects[-N]/partition/suffix/md5(name)/ts.data, nothing else left but hashes.invalid and the journal segment', async (t) => {
  await withDevice(async (files, dir) => {
    await writeObject(files, loc('/acc/bkt/a/../b'), t1, Buffer.from('x'));
    await writeObject(files, loc('/acc/bkt/k', 9, 2), t1, Buffer.from('y'));
    const hash = createHash('md5').update('/acc/bkt/a/../b').digest('hex');
    const hash2 = createHash('md5').update('/acc/bkt/k').digest('hex');
    const all = (await walk(dir)).map((p) => relative(dir, p)).sort();
    // The journal's segment holds both small writes until its checkpoint (write-journal.ts).
    t.deepEqual(all, [
      'sda/journal/0000000000.wal',
      `sda/objects-2/9/${hash2.slice(-3)}/${hash2}/${t1}.data`,
      'sda/objects-2/9/hashes.invalid',
      `sda/objects/5/${hash.slice(-3)}/${hash}/${t1}.data`,
      'sda/objects/5/hashes.invalid',
    ]);
    t.is(await readFile(join(dir, 'sda/objects/5/hashes.invalid'), 'utf8'), `${hash.slice(-3)}\n`);
  });
});

test('data file format: body || JSON(meta) || u32le(length) || magic', async (t) => {
  await withDevice(async (files) => {
    await writeObject(files, loc('/a/b/k'), t1, Buffer.from('BODY'), { contentType: 'text/plain' });
    const raw = await readFile(join(files.hashDir(loc('/a/b/k')), `${t1}.data`));
    t.deepEqual(raw.subarray(0, 4), Buffer.from('BODY'));
    t.deepEqual(raw.subarray(-8), footerMagic);
    const metaLength = raw.readUInt32LE(raw.length - 12);
    const meta = JSON.parse(raw.subarray(4, 4 + metaLength).toString());
    t.is(4 + metaLength + 12, raw.length);
    t.is(meta.name, '/a/b/k');
    t.is(meta.ts, t1);
    t.is(meta.contentType, 'text/plain');
  });
});

test('an overwrite and a delete leave one file in the hash dir and an empty tmp dir', async (t) => {
  await withDevice(async (files, dir) => {
    const l = loc('/a/b/k');
    await writeObject(files, l, t1, Buffer.from('1'));
    await writeObject(files, l, t2, Buffer.from('2'));
    t.deepEqual(await readdir(files.hashDir(l)), [`${t2}.data`]);
    await files.delete(l, '1700000003.000000');
    t.deepEqual(await readdir(files.hashDir(l)), ['1700000003.000000.ts']);
    t.deepEqual(JSON.parse(await readFile(join(files.hashDir(l), '1700000003.000000.ts'), 'utf8')), { name: '/a/b/k', ts: '1700000003.000000' });
    const w = await files.create(l);
    await w.write(Buffer.from('abandoned'));
    await w.abort();
    t.deepEqual(await readdir(join(dir, 'sda/tmp')), []);
  });
});

test('what a crash leaves: a stray tmp file is invisible and cleared at startup; an older version beside a newer one loses', async (t) => {
  await withDevice(async (files, dir) => {
    const l = loc('/a/b/k');
    // Crash before rename: a small body is only in memory; a larger one streams into a tmp file.
    const w = await files.create(l);
    await w.write(Buffer.from('torn'));
    t.is((await readdir(join(dir, 'sda/tmp'))).length, 0);
    await w.write(Buffer.alloc(64 * 1024, 't'));
    t.is((await readdir(join(dir, 'sda/tmp'))).length, 1);
    t.is(await files.open(l), undefined);
    await files.prepareDevice('sda');
    t.deepEqual(await readdir(join(dir, 'sda/tmp')), []);
    // Crash after rename, before the older versions were unlinked.
    await writeObject(files, l, t2, Buffer.from('new'));
    await writeObject(files, loc('/a/b/other'), t1, Buffer.from('old'));
    const oldFile = join(files.hashDir(loc('/a/b/other')), `${t1}.data`);
    await writeFile(join(files.hashDir(l), `${t1}.data`), await readFile(oldFile));
    const got = await files.open(l);
    t.is(got?.kind === 'data' && (await readBody(got.read())).toString(), 'new');
    // The next commit tidies up.
    await writeObject(files, l, '1700000003.000000', Buffer.from('newer'));
    t.deepEqual(await readdir(files.hashDir(l)), ['1700000003.000000.data']);
  });
});

test('metadata longer than the tail read takes a second pread; large bodies stream', async (t) => {
  await withDevice(
    async (files) => {
      const body = Buffer.alloc(100_000, 7);
      await writeObject(files, loc('/a/b/k'), t1, body, { user: 'm'.repeat(3000) });
      const got = await files.open(loc('/a/b/k'));
      t.is(got?.kind, 'data');
      if (got?.kind !== 'data') return;
      t.is(got.meta.user, 'm'.repeat(3000));
      const stream = got.read({ start: 10, end: 99_999 });
      t.false(Buffer.isBuffer(stream));
      t.true((await readBody(stream)).equals(body.subarray(10)));
    },
    { smallFileBytes: 1024, tailReadBytes: 256 },
  );
});

test('a data file without a valid footer is reported corrupt', async (t) => {
  await withDevice(async (files) => {
    await writeObject(files, loc('/a/b/k'), t1, Buffer.from('x'));
    await writeFile(join(files.hashDir(loc('/a/b/k')), `${t2}.data`), 'garbage without footer');
    t.true((await t.throwsAsync(files.open(loc('/a/b/k')))) instanceof CorruptDataFileError);
  });
});

test('a missing device directory or a file in its place is a clear error naming the path', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'arca-fsdf-'));
  try {
    const files = new FsDiskFiles({ devicesDir: dir, devices: ['gone', 'file'], fsync: true });
    const err = await t.throwsAsync(files.prepareDevice('gone'));
    t.true(err instanceof DeviceUnavailableError);
    t.true(err!.message.includes(join(dir, 'gone')));
    await writeFile(join(dir, 'file'), '');
    const err2 = await t.throwsAsync(files.prepareDevice('file'));
    t.true(err2 instanceof DeviceUnavailableError);
    t.true(err2!.message.includes(join(dir, 'file')));
    // A device that disappears after startup fails the write, it is not silently recreated.
    await mkdir(join(dir, 'gone'));
    await files.prepareDevice('gone');
    await rm(join(dir, 'gone'), { recursive: true });
    t.true((await t.throwsAsync(files.create(loc('/a/b/k')).then(() => files.create({ ...loc('/a/b/k'), device: 'gone' })))) instanceof DeviceUnavailableError);
    // (A small body is kept in memory until the commit, which finds the device's tmp/ gone.)
    t.true((await t.throwsAsync(writeObject(files, { ...loc('/a/b/k'), device: 'gone' }, t1, Buffer.from('x')))) instanceof DeviceUnavailableError);
    t.true((await t.throwsAsync(writeObject(files, { ...loc('/a/b/k'), device: 'gone' }, t1, Buffer.alloc(200_000)))) instanceof DeviceUnavailableError);
    // Nor did the hash dir's mkdir -p make the device's directory again, on the disk under its mount point.
    t.false(existsSync(join(dir, 'gone')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('concurrent writes and deletes on one device: each durable, each a line in the hashes.invalid of its partition', async (t) => {
  await withDevice(async (files, dir) => {
    const names = Array.from({ length: 40 }, (_, i) => `/a/b/k${i}`);
    await Promise.all(names.map((name, i) => writeObject(files, loc(name, i % 3), t1, Buffer.from(name))));
    await Promise.all(names.slice(0, 20).map((name, i) => files.delete(loc(name, i % 3), t2)));
    for (const [i, name] of names.entries()) {
      const got = await files.open(loc(name, i % 3));
      if (i < 20) t.like(got, { kind: 'tombstone', ts: t2 });
      else t.is(got?.kind === 'data' && (await readBody(got.read())).toString(), name);
    }
    for (const partition of [0, 1, 2]) {
      const listed = (await readFile(join(dir, `sda/objects/${partition}/hashes.invalid`), 'latin1')).split('\n').filter((l) => l !== '');
      const want = names.filter((_, i) => i % 3 === partition).map((n) => createHash('md5').update(n).digest('hex').slice(-3));
      t.deepEqual([...new Set(listed)].sort(), [...new Set(want)].sort());
      // One line per write and per delete.
      t.is(listed.length, want.length + names.slice(0, 20).filter((_, i) => i % 3 === partition).length);
    }
    t.deepEqual(await readdir(join(dir, 'sda/tmp')), []);
  });
});

test('the write buffer budget is shared among open writers', async (t) => {
  await withDevice(
    async (files) => {
      t.is(files.writeBufferShare(), 1024 * 1024);
      const writers = await Promise.all(Array.from({ length: 64 }, (_, i) => files.create(loc(`/a/b/w${i}`))));
      t.is(files.writeBufferShare(), 512 * 1024);
      const more = await Promise.all(Array.from({ length: 448 }, (_, i) => files.create(loc(`/a/b/x${i}`))));
      t.is(files.writeBufferShare(), 64 * 1024, 'never below the minimum');
      for (const w of [...writers, ...more]) await w.abort();
      t.is(files.writeBufferShare(), 1024 * 1024);
      // A streamed body written in pieces of the share still reads back whole.
      const body = Buffer.alloc(3_000_000);
      for (let i = 0; i < body.length; i++) body[i] = i % 253;
      await writeObject(files, loc('/a/b/big'), t1, body);
      const got = await files.open(loc('/a/b/big'));
      t.true(got?.kind === 'data' && (await readBody(got.read())).equals(body));
    },
    { writeBufferBudgetBytes: 32 * 1024 * 1024 },
  );
});

/**
 * Bytes of `path` in the page cache, by util-linux's fincore (mincore(2)). This kind of VM reclaims page cache
 * in the background whatever memory is free (a 50 MiB file read once lost 15 % of its pages in two minutes with
 * 21 GiB free, 2026-12-02), so a check that pages stayed asks for most of them (`mostlyCached`), not all.
 */
function cachedBytes(path: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }).trim());
}

/** At least 90 % of `bytes` cached: a read that kept its pages (one that dropped them leaves next to none). */
function mostlyCached(path: string, bytes: number): boolean {
  return cachedBytes(path) >= 0.9 * bytes;
}

/** Reads a data file's body through a stream and waits for the stream to close its fd. */
async function readClosed(files: FsDiskFiles, l: ObjectLocation, range?: { start: number; end: number }): Promise<Buffer> {
  const got = await files.open(l);
  if (got?.kind !== 'data') throw new Error('no data');
  const stream = got.read(range) as Readable;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  if (!stream.closed) await once(stream, 'close');
  return Buffer.concat(chunks);
}

test('page cache: a streamed body leaves it once synced; with readPastCacheBytes a large file is read past it, small ones stay in it', async (t) => {
  t.true(pageCacheAdvice, 'the fadvise addon loads');
  await withDevice(
    async (files) => {
      const big = randomBytes(3 * 1024 * 1024 + 123);
      const mid = randomBytes(300 * 1024);
      const small = randomBytes(10 * 1024);
      const path = (name: string) => join(files.hashDir(loc(name)), `${t1}.data`);
      await writeObject(files, loc('/a/b/big'), t1, big);
      await writeObject(files, loc('/a/b/mid'), t1, mid);
      await writeObject(files, loc('/a/b/small'), t1, small);
      // Streamed bodies (over the 64 KiB inline limit) are dropped after their sync; an inline one stays.
      t.is(cachedBytes(path('/a/b/big')), 0);
      t.is(cachedBytes(path('/a/b/mid')), 0);
      t.true(cachedBytes(path('/a/b/small')) > 0);
      // Reads of a file over readPastCacheBytes leave (next to) nothing cached behind them, whole or a range from
      // an offset inside a page (a readahead still in flight when the stream closes may land after the drop);
      // a smaller file's read pages stay.
      t.true((await readClosed(files, loc('/a/b/big'))).equals(big));
      t.true(cachedBytes(path('/a/b/big')) <= 64 * 1024);
      t.true((await readClosed(files, loc('/a/b/big'), { start: 5000, end: 2_500_000 })).equals(big.subarray(5000, 2_500_001)));
      t.true(cachedBytes(path('/a/b/big')) <= 64 * 1024);
      t.true((await readClosed(files, loc('/a/b/mid'))).equals(mid));
      t.true(mostlyCached(path('/a/b/mid'), mid.length));
    },
    { readPastCacheBytes: 1024 * 1024 },
  );
});

test('page cache: a streaming writer syncs and drops what it wrote every syncBehindBytes, before its commit', async (t) => {
  await withDevice(
    async (files, dir) => {
      const body = randomBytes(4 * 1024 * 1024);
      const l = loc('/a/b/behind');
      const w = await files.create(l);
      for (let i = 0; i < body.length; i += 65536) await w.write(body.subarray(i, i + 65536));
      const [tmp] = await readdir(join(dir, 'sda', 'tmp'));
      const tmpPath = join(dir, 'sda', 'tmp', tmp!);
      // The syncs behind run in the background: wait (bounded) until the first MiBs have left the cache.
      let cached = cachedBytes(tmpPath);
      for (let i = 0; i < 100 && cached > body.length - 1024 * 1024; i++) {
        await new Promise((r) => setTimeout(r, 20));
        cached = cachedBytes(tmpPath);
      }
      t.true(cached <= body.length - 1024 * 1024, `${cached} bytes of ${body.length} still cached`);
      w.put({ name: l.name, ts: t1, size: body.length, xxh64: '0000000000000000', etag: 'e', contentType: 'application/octet-stream' });
      await w.commit();
      t.true((await readClosed(files, l)).equals(body));
    },
    { syncBehindBytes: 1024 * 1024, writeBufferBytes: 256 * 1024 },
  );
});

test('page cache: by default a read stays cached, whatever the size (a streamed body left it at its commit)', async (t) => {
  await withDevice(async (files) => {
    const big = randomBytes(3 * 1024 * 1024);
    await writeObject(files, loc('/a/b/big'), t1, big);
    const path = join(files.hashDir(loc('/a/b/big')), `${t1}.data`);
    t.is(cachedBytes(path), 0);
    t.true((await readClosed(files, loc('/a/b/big'))).equals(big));
    t.true(mostlyCached(path, big.length));
  });
});
