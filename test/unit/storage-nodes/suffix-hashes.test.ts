import { appendFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import v8 from 'node:v8';
import { join } from 'node:path';
import test from 'ava';
import { hashOfName, type ObjectLocation, suffixOfHash } from '../../../storage-nodes/disk-file.js';
import { FsDiskFiles } from '../../../storage-nodes/fs-disk-file.js';
import { FsPartitions } from '../../../storage-nodes/fs-partitions.js';
import { FsSuffixHashes, listSuffix } from '../../../storage-nodes/fs-suffix-hashes.js';
import { foldsPerWrite, type Listed, listBatchEntries } from '../../../storage-nodes/suffix-hash-files.js';
import { compactSuffixRecord, differingSuffixes, hashesDigest, hashMap, parseHashesFile, suffixEntry } from '../../../storage-nodes/suffix-hashes.js';
import { writeObject } from './disk-file.conformance.js';

const ts = (n: number) => `17000000${String(n).padStart(2, '0')}.000000`;
const h = (c: string) => c.repeat(29) + 'abc';

test('a suffix hash depends on each hash dir and its newest version, not on their order', (t) => {
  const a = { hash: h('1'), newest: `${ts(1)}.data` };
  const b = { hash: h('2'), newest: `${ts(2)}.ts` };
  const e = suffixEntry([a, b]);
  t.deepEqual(suffixEntry([b, a]), e);
  t.notDeepEqual(suffixEntry([a, { ...b, newest: `${ts(3)}.ts` }])?.hash, e?.hash);
  t.notDeepEqual(suffixEntry([a])?.hash, e?.hash);
  t.is(e?.oldestTombstone, ts(2));
  t.is(suffixEntry([a])?.oldestTombstone, undefined);
  t.is(suffixEntry([]), undefined);
  t.deepEqual(differingSuffixes({ abc: 'x', def: 'y', fed: 'z' }, { abc: 'x', def: 'q' }), ['def', 'fed']);
});

test('hashesDigest: the same for the same suffixes and hashes in any order, different when one differs', (t) => {
  const a = hashesDigest({ '0ab': 'h1', '1cd': 'h2', '9ff': 'h3' });
  t.regex(a, /^[A-Za-z0-9+/]{22}$/);
  t.is(hashesDigest({ '9ff': 'h3', '0ab': 'h1', '1cd': 'h2' }), a);
  t.not(hashesDigest({ '0ab': 'h1', '1cd': 'h2', '9ff': 'h4' }), a);
  t.not(hashesDigest({ '0ab': 'h1', '1cd': 'h2' }), a);
  t.not(hashesDigest({ '0ab': 'h1', '1ce': 'h2', '9ff': 'h3' }), a);
  t.not(hashesDigest({}), a);
  // One map object, one computation: a map from hashMap is never changed.
  const map = hashMap({ '0ab': { hash: 'h1' } });
  t.is(hashesDigest(map), hashesDigest({ '0ab': 'h1' }));
});

test('compactSuffixRecord and hashMap: records with few index-like suffixes get dictionary elements, same entries in the same order', (t) => {
  v8.setFlagsFromString('--allow-natives-syntax');
  const hasDictionaryElements = new Function('o', 'return %HasDictionaryElements(o)') as (o: object) => boolean;
  // As a record arrives from the worker thread (structured clone): "987" gives it a flat store of ~1,000 slots.
  const cloned = structuredClone({ '0a1': 1, '105': 2, fff: 3, '987': 4 });
  t.false(hasDictionaryElements(cloned));
  const compact = compactSuffixRecord(cloned);
  t.true(hasDictionaryElements(compact));
  t.deepEqual(Object.entries(compact), Object.entries(cloned));
  t.deepEqual(Object.keys(compact), ['105', '987', '0a1', 'fff']);
  // No index keys, or so many that the flat store is the smaller: returned as it is.
  const named = { abc: 1, '0ff': 2 };
  t.is(compactSuffixRecord(named), named);
  const dense = Object.fromEntries(Array.from({ length: 900 }, (_, i) => [String(100 + i), i]));
  t.is(compactSuffixRecord(dense), dense);
  // hashMap makes its maps the same way.
  const entries = { '105': { hash: 'a' }, '987': { hash: 'b' }, fff: { hash: 'c' } };
  const map = hashMap(entries);
  t.true(hasDictionaryElements(map));
  t.deepEqual(map, { '105': 'a', '987': 'b', fff: 'c' });
  t.false(hasDictionaryElements(hashMap({ abc: { hash: 'a' } })));
  // Made once per entries object: the walkers ask for the same partition's map several times in a pass.
  t.is(hashMap(entries), map);
  t.not(hashMap({ ...entries }), map);
  t.deepEqual(hashMap({ ...entries }), map);
  t.deepEqual(hashMap({ abc: { hash: 'a' }, def: null }), { abc: 'a' }, 'a null entry (to recompute) is left out');
});

test('hashes.json: its log record must be an inode and an offset, or the file counts as torn', (t) => {
  const file = (invalid: unknown) => JSON.stringify({ version: 1, suffixes: { abc: { hash: 'x' } }, invalid });
  t.deepEqual(parseHashesFile(file({ ino: 12, offset: 40 }))?.invalid, { ino: 12, offset: 40 });
  t.is(parseHashesFile(JSON.stringify({ version: 1, suffixes: {} }))?.invalid, undefined, 'written before the log: no record');
  for (const bad of [{ ino: 'x', offset: 0 }, { ino: 1, offset: -4 }, { ino: 1, offset: 1.5 }, { ino: 1 }, null, 7]) t.is(parseHashesFile(file(bad)), undefined, JSON.stringify(bad));
});

/** The files of the device at `dir` as another process sees them (nothing cached in memory). */
const filesAt = (dir: string) => new FsDiskFiles({ devicesDir: dir, devices: ['sda'], fsync: false });

async function withFiles(fn: (files: FsDiskFiles, parts: FsPartitions, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-hashes-'));
  try {
    await mkdir(join(dir, 'sda'));
    const files = filesAt(dir);
    await files.prepareDevice('sda');
    await fn(files, new FsPartitions(files), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const part = { device: 'sda', policyIndex: 0, partition: 5 };
const loc = (name: string): ObjectLocation => ({ device: 'sda', policyIndex: 0, partition: 5, name });
const suffixOf = (name: string) => suffixOfHash(hashOfName(name));
const partDir = (dir: string) => join(dir, 'sda', 'objects', '5');

/** The hashes recomputed from scratch (what the cache must always equal once folded). */
async function fromScratch(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of (await readdir(partDir(dir))).filter((n) => /^[0-9a-f]{3}$/.test(n))) {
    const e = suffixEntry(await listSuffix(partDir(dir), s));
    if (e) out[s] = e.hash;
  }
  return out;
}

test('hashes are computed from the files, cached, and only invalidated suffixes are recomputed', async (t) => {
  await withFiles(async (files, parts, dir) => {
    t.deepEqual(await parts.hashes(part), {}, 'a partition the device does not hold');
    t.deepEqual(await readdir(join(dir, 'sda')), ['tmp'], 'and asking created nothing');

    const names = ['/a/b/one', '/a/b/two', '/a/b/three'];
    for (const n of names) await writeObject(files, loc(n), ts(1), Buffer.from(n));
    await files.delete(loc('/a/b/three'), ts(2));
    t.deepEqual((await readFile(join(partDir(dir), 'hashes.invalid'), 'latin1')).split('\n').filter(Boolean).sort(), [...names.map(suffixOf), suffixOf('/a/b/three')].sort());

    const first = await parts.hashes(part);
    t.deepEqual(hashMap(first), await fromScratch(dir));
    t.deepEqual(Object.keys(first).sort(), [...new Set(names.map(suffixOf))].sort());
    t.is(first[suffixOf('/a/b/three')].oldestTombstone, ts(2));
    t.deepEqual(await files.invalidatedSuffixes('sda', 0, 5), [], 'the invalid list was folded into the cache');

    // Behind the cache's back: a version renamed on disk. The cache answers as before (nothing was listed)…
    const hd = files.hashDir(loc('/a/b/one'));
    await rename(join(hd, `${ts(1)}.data`), join(hd, `${ts(3)}.data`));
    t.deepEqual(await parts.hashes(part), first);
    // …until that suffix is recalculated.
    const re = await parts.hashes(part, { recalculate: [suffixOf('/a/b/one')] });
    t.not(re[suffixOf('/a/b/one')].hash, first[suffixOf('/a/b/one')].hash);
    t.deepEqual(hashMap(re), await fromScratch(dir));

    // A write invalidates its suffix, and only that suffix is recomputed.
    await writeObject(files, loc('/a/b/two'), ts(4), Buffer.from('v2'));
    const after = await parts.hashes(part);
    t.not(after[suffixOf('/a/b/two')].hash, re[suffixOf('/a/b/two')].hash);
    t.deepEqual(hashMap(after), await fromScratch(dir));
  });
});

test('a torn cache is rebuilt; suffix dirs that appeared or vanished behind the cache are noticed', async (t) => {
  await withFiles(async (files, _parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    await writeObject(files, loc('/a/b/y'), ts(1), Buffer.from('y'));
    const good = await new FsPartitions(files).hashes(part);
    // A new process (nothing in memory) finds the cache file torn.
    const fresh = () => new FsPartitions(filesAt(dir));
    await writeFile(join(partDir(dir), 'hashes.json'), '{"version":1,"suff');
    t.deepEqual(await fresh().hashes(part), good);

    const parts = fresh();
    t.deepEqual(await parts.hashes(part), good);
    await rm(join(partDir(dir), suffixOf('/a/b/x')), { recursive: true });
    const after = await parts.hashes(part);
    t.false(suffixOf('/a/b/x') in after);
    t.deepEqual(hashMap(after), await fromScratch(dir));
    await mkdir(join(partDir(dir), 'fff'));
    t.deepEqual(await parts.hashes(part), after, 'an empty suffix dir adds nothing');
  });
});

test('an unchanged partition is answered from memory; a write is folded into it', async (t) => {
  await withFiles(async (files, parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    const first = await parts.hashes(part);
    // Garbage in the cache file is not seen (nor rewritten) while nothing changed: the file is not read.
    await writeFile(join(partDir(dir), 'hashes.json'), 'garbage');
    t.is(await parts.hashes(part), first, 'the same object, from memory');
    t.is(hashMap(await parts.hashes(part)), hashMap(first), 'and so the same map');
    t.is(await readFile(join(partDir(dir), 'hashes.json'), 'latin1'), 'garbage');
    // A write appends to hashes.invalid: folded into the cache kept in memory. The file is written back every
    // foldsPerWrite folds; the log keeps what it lacks meanwhile.
    await writeObject(files, loc('/a/b/y'), ts(1), Buffer.from('y'));
    const second = await parts.hashes(part);
    t.deepEqual(hashMap(second), await fromScratch(dir));
    t.is(await readFile(join(partDir(dir), 'hashes.json'), 'latin1'), 'garbage', 'not written after one fold');
    t.not(second, first, 'a new object when something changed');
    t.deepEqual(Object.keys(first), [suffixOf('/a/b/x')], 'the object handed out before is left alone');
    for (let i = 2; i <= foldsPerWrite; i++) {
      await writeObject(files, loc('/a/b/y'), ts(i), Buffer.from('y'));
      await parts.hashes(part);
    }
    const written = JSON.parse(await readFile(join(partDir(dir), 'hashes.json'), 'latin1'));
    t.deepEqual(Object.keys(written.suffixes).sort(), Object.keys(await parts.hashes(part)).sort(), `written after ${foldsPerWrite} folds`);
    const log = await stat(join(partDir(dir), 'hashes.invalid'));
    t.deepEqual(written.invalid, { ino: log.ino, offset: log.size }, 'with the offset of the log it folded up to');
  });
});

test('the memory cache holds at most maxSuffixes suffixes: the least recently read partition is read from its file again', async (t) => {
  await withFiles(async (files, _parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    await writeObject(files, { ...loc('/a/b/y'), partition: 9 }, ts(1), Buffer.from('y'));
    const hashes = new FsSuffixHashes({ maxSuffixes: 2 });
    const p5 = join(dir, 'sda', 'objects', '5');
    const p9 = join(dir, 'sda', 'objects', '9');
    const first = await hashes.get(p5);
    t.is(await hashes.get(p5), first, 'kept');
    await hashes.get(p9); // each partition counts its suffixes plus one: p5 goes
    const again = await hashes.get(p5);
    t.not(again, first, 'read from the file');
    t.deepEqual(again, first);
  });
});

test('changes: partitions whose hashes changed after a generation, with an epoch that a wiped device renews', async (t) => {
  await withFiles(async (files, parts) => {
    const start = await parts.changes('sda', 0, 0);
    t.deepEqual(start.partitions, []);
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    const other = { device: 'sda', policyIndex: 0, partition: 9, name: '/a/b/z' };
    await writeObject(files, other, ts(1), Buffer.from('z'));
    const c1 = await parts.changes('sda', 0, start.gen);
    t.deepEqual(c1.partitions, [5, 9]);
    t.is(c1.epoch, start.epoch);
    t.deepEqual((await parts.changes('sda', 0, c1.gen)).partitions, [], 'nothing since');
    t.deepEqual((await parts.changes('sda', 1, 0)).partitions, [], 'another policy');
    await writeObject(files, loc('/a/b/x'), ts(2), Buffer.from('x2'));
    const c2 = await parts.changes('sda', 0, c1.gen);
    t.deepEqual(c2.partitions, [5]);
    parts.deviceReset('sda');
    t.not((await parts.changes('sda', 0, c2.gen)).epoch, c2.epoch);
    t.not((await new FsPartitions(files).changes('sda', 0, 0)).epoch, start.epoch, 'another process, another epoch');
  });
});

test('a partition a write touched is read without an existence check, and found empty when it went meanwhile', async (t) => {
  await withFiles(async (files, parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    t.deepEqual(Object.keys(await parts.hashes(part)), [suffixOf('/a/b/x')]);
    await writeObject(files, loc('/a/b/y'), ts(1), Buffer.from('y'));
    // The partition dir goes behind the node's back after the write announced it: the job answers 'missing'.
    await rm(partDir(dir), { recursive: true });
    t.deepEqual(await parts.hashes(part), {});
    t.deepEqual(await parts.hashes(part, { listdir: false }), {}, 'and nothing is cached for it');
  });
});

test('listdir: false trusts the cache of a partition nothing here touched, not one a write touched', async (t) => {
  await withFiles(async (files, parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    const first = await parts.hashes(part);
    // A suffix dir removed behind the node's back: a listing sees it, a trusting read does not.
    await rm(join(partDir(dir), suffixOf('/a/b/x')), { recursive: true });
    t.is(await parts.hashes(part, { listdir: false }), first, 'the cached object itself');
    t.deepEqual(await parts.hashes(part), {}, 'listed: the suffix is gone');
    await writeObject(files, loc('/a/b/y'), ts(1), Buffer.from('y'));
    t.deepEqual(hashMap(await parts.hashes(part, { listdir: false })), await fromScratch(dir), 'a write here is always seen');
    // A device found wiped forgets what was cached for it.
    const cached = await parts.hashes(part, { listdir: false });
    parts.deviceReset('sda');
    await rm(partDir(dir), { recursive: true });
    t.not(cached, first);
    t.deepEqual(await parts.hashes(part, { listdir: false }), {}, 'read again: the partition is gone');
  });
});

test('an invalidation is never lost: hashes.invalid, and a hashes.invalid.N an older version left, are folded; the leftover is removed', async (t) => {
  await withFiles(async (files, parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    await writeObject(files, loc('/a/b/y'), ts(1), Buffer.from('y'));
    await parts.hashes(part);
    // As if writes landed and the process died before the replicator looked (one while an older version's
    // fold had moved the list aside): only the invalid lists know.
    for (const [name, list] of [['/a/b/x', 'hashes.invalid'], ['/a/b/y', 'hashes.invalid.1']]) {
      const hd = files.hashDir(loc(name));
      await rename(join(hd, `${ts(1)}.data`), join(hd, `${ts(2)}.data`));
      await appendFile(join(partDir(dir), list), `${suffixOf(name)}\n`);
    }
    const freshFiles = filesAt(dir);
    t.deepEqual(await freshFiles.invalidatedSuffixes('sda', 0, 5), [suffixOf('/a/b/x'), suffixOf('/a/b/y')].sort());
    t.deepEqual(hashMap(await new FsPartitions(freshFiles).hashes(part)), await fromScratch(dir));
    t.deepEqual(await freshFiles.invalidatedSuffixes('sda', 0, 5), []);
    t.deepEqual((await readdir(partDir(dir))).filter((n) => n.startsWith('hashes.invalid')), ['hashes.invalid'], 'the leftover list removed, the log kept');
  });
});

test('concurrent writes and hash reads leave a cache equal to a recomputation from scratch', async (t) => {
  await withFiles(async (files, parts, dir) => {
    const writes = Array.from({ length: 60 }, (_, i) => writeObject(files, loc(`/a/b/k${i % 20}`), ts(10 + Math.floor(i / 20)), Buffer.from(String(i))).catch(() => {}));
    const reads = Array.from({ length: 10 }, () => parts.hashes(part));
    await Promise.all([...writes, ...reads]);
    t.deepEqual(hashMap(await parts.hashes(part)), await fromScratch(dir));
  });
});

test('removing and quarantining a version happen only while it is the newest; an empty partition goes', async (t) => {
  await withFiles(async (files, parts, dir) => {
    const name = '/a/b/obj';
    await writeObject(files, loc(name), ts(1), Buffer.from('x'));
    const ref = { ...part, suffix: suffixOf(name), hash: hashOfName(name) };
    t.false(await parts.removeVersion(ref, `${ts(0)}.data`), 'not its newest version');
    await writeObject(files, loc(name), ts(2), Buffer.from('y'));
    t.false(await parts.removeVersion(ref, `${ts(1)}.data`), 'replaced meanwhile');
    t.is(await parts.quarantine(ref, `${ts(1)}.data`), undefined);
    const q = await parts.quarantine(ref, `${ts(2)}.data`);
    t.is(q, join(dir, 'sda', 'quarantined', 'objects', hashOfName(name)));
    t.deepEqual(await readdir(q!), [`${ts(2)}.data`]);
    t.deepEqual(await parts.hashes(part), {}, 'the quarantine invalidated the suffix');

    await writeObject(files, loc(name), ts(3), Buffer.from('z'));
    t.is(await parts.quarantine(ref, `${ts(3)}.data`), join(dir, 'sda', 'quarantined', 'objects', `${hashOfName(name)}-1`));
    await writeObject(files, loc(name), ts(4), Buffer.from('w'));
    t.false(await parts.removePartitionIfEmpty(part));
    t.true(await parts.removeVersion(ref, `${ts(4)}.data`));
    t.true(await parts.removePartitionIfEmpty(part));
    t.deepEqual(await readdir(join(dir, 'sda', 'objects')), []);
    t.deepEqual(await parts.partitions('sda', 0), []);
    // Made again by a write: a new log, whose inode may be the old one's (the cache of the old is gone).
    await writeObject(files, loc(name), ts(5), Buffer.from('v'));
    t.deepEqual(hashMap(await parts.hashes(part)), await fromScratch(dir), 'a partition made again is folded from its new log');
  });
});

test("walk: every hash dir of the device with its state, in order; the disk worker's list job", async (t) => {
  await withFiles(async (files, parts, dir) => {
    const names = ['/a/b/one', '/a/b/two', '/a/b/three', '/a/b/four'];
    for (const n of names) await writeObject(files, loc(n), ts(1), Buffer.from(n));
    await files.delete(loc('/a/b/three'), ts(2));
    await writeObject(files, { ...loc('/a/b/other'), partition: 9 }, ts(1), Buffer.from('o'));
    // Left out: an empty suffix dir, an empty hash dir, a stray file among the suffixes and one among the hash dirs.
    await mkdir(join(partDir(dir), 'ffe'));
    await mkdir(join(partDir(dir), 'ffd', `${'f'.repeat(29)}ffd`), { recursive: true });
    await writeFile(join(partDir(dir), 'stray'), 'x');
    await writeFile(join(partDir(dir), suffixOf('/a/b/one'), 'stray'), 'x');

    const walked = [];
    for await (const e of parts.walk('sda')) walked.push(e);
    const expected = [...names.map((n) => ({ partition: 5, n })), { partition: 9, n: '/a/b/other' }]
      .map(({ partition, n }) => {
        const hash = hashOfName(n);
        const newest = n === '/a/b/three' ? `${ts(2)}.ts` : `${ts(1)}.data`;
        return { device: 'sda', policyIndex: 0, partition, suffix: suffixOfHash(hash), hash, entry: { hash, newest, ...(newest.endsWith('.data') ? { files: [newest] } : {}) } };
      })
      .sort((a, b) => a.partition - b.partition || a.suffix.localeCompare(b.suffix) || a.hash.localeCompare(b.hash));
    t.deepEqual(walked, expected);

    // The job itself: a partition that is not there, and one whose suffixes are all empty.
    t.deepEqual(await files.suffixHashes.list(join(dir, 'sda', 'objects', '77')), { kind: 'missing' });
    await mkdir(join(dir, 'sda', 'objects', '78', 'abc'), { recursive: true });
    t.deepEqual(await files.suffixHashes.list(join(dir, 'sda', 'objects', '78')), { kind: 'listed', suffixes: [], more: false });

    // A partition of more than listBatchEntries hash dirs is listed in several jobs, none lost or repeated.
    const big = join(dir, 'sda', 'objects', '80');
    const counts: Record<string, number> = { a00: 200, a01: 200, a02: 10 };
    for (const [suffix, n] of Object.entries(counts)) {
      for (let i = 0; i < n; i++) {
        const hd = join(big, suffix, `${i.toString(16).padStart(29, '0')}${suffix}`);
        await mkdir(hd, { recursive: true });
        await writeFile(join(hd, `${ts(1)}.ts`), '');
      }
    }
    const counted = (l: Listed) => (l.kind === 'listed' ? { more: l.more, suffixes: l.suffixes.map(([suffix, entries]) => [suffix, entries.length]) } : l);
    t.true(listBatchEntries > 200 && listBatchEntries <= 400);
    t.deepEqual(counted(await files.suffixHashes.list(big)), { more: true, suffixes: [['a00', 200], ['a01', 200]] });
    t.deepEqual(counted(await files.suffixHashes.list(big, 'a01')), { more: false, suffixes: [['a02', 10]] });
    const perSuffix: Record<string, number> = {};
    for await (const e of parts.walk('sda')) if (e.partition === 80) perSuffix[e.suffix] = (perSuffix[e.suffix] ?? 0) + 1;
    t.deepEqual(perSuffix, counts);
  });
});

test('a restart folds again what hashes.json had not taken in: the log keeps it', async (t) => {
  await withFiles(async (files, parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    await writeObject(files, loc('/a/b/y'), ts(1), Buffer.from('y'));
    await parts.hashes(part); // no hashes.json yet: written
    await writeObject(files, loc('/a/b/x'), ts(2), Buffer.from('x2'));
    await parts.hashes(part); // folded in memory only
    // Behind the node's back, then a new process: its hashes.json is one fold behind, and the log says which.
    const hd = files.hashDir(loc('/a/b/x'));
    await rename(join(hd, `${ts(2)}.data`), join(hd, `${ts(3)}.data`));
    const fresh = filesAt(dir);
    t.deepEqual(await fresh.invalidatedSuffixes('sda', 0, 5), [suffixOf('/a/b/x')]);
    t.deepEqual(hashMap(await new FsPartitions(fresh).hashes(part)), await fromScratch(dir));
  });
});

test('the log: a half-written line waits for its end; a log replaced by another file is read from its start', async (t) => {
  await withFiles(async (files, parts, dir) => {
    await writeObject(files, loc('/a/b/x'), ts(1), Buffer.from('x'));
    await writeObject(files, loc('/a/b/y'), ts(1), Buffer.from('y'));
    await parts.hashes(part);
    const logPath = join(partDir(dir), 'hashes.invalid');
    const [sx, sy] = [suffixOf('/a/b/x'), suffixOf('/a/b/y')];
    // An append in flight: the first two characters of a line.
    await appendFile(logPath, sx.slice(0, 2));
    t.deepEqual(await files.invalidatedSuffixes('sda', 0, 5), []);
    await parts.hashes(part);
    await appendFile(logPath, `${sx.slice(2)}\n`);
    t.deepEqual(await files.invalidatedSuffixes('sda', 0, 5), [sx], 'whole once its end arrived, and not skipped by the fold before');
    await parts.hashes(part);
    // Another file in the log's place (shorter than the offset folded up to): all of it counts.
    const hd = files.hashDir(loc('/a/b/y'));
    await rename(join(hd, `${ts(1)}.data`), join(hd, `${ts(2)}.data`));
    await writeFile(`${logPath}.tmp`, `${sy}\n`);
    await rename(`${logPath}.tmp`, logPath);
    t.deepEqual(await files.invalidatedSuffixes('sda', 0, 5), [sy]);
    t.deepEqual(hashMap(await parts.hashes(part)), await fromScratch(dir));
  });
});

test('the log is rotated once folded past rotateLogBytes: hashes.json written first, then the log removed', async (t) => {
  await withFiles(async (files, _parts, dir) => {
    const hashes = new FsSuffixHashes({ rotateLogBytes: 8 });
    for (const n of ['/a/b/x', '/a/b/y', '/a/b/z']) await writeObject(files, loc(n), ts(1), Buffer.from(n));
    const p5 = partDir(dir);
    t.deepEqual(hashMap(await hashes.get(p5)), await fromScratch(dir)); // 12 bytes folded
    await writeObject(files, loc('/a/b/x'), ts(2), Buffer.from('x2'));
    t.deepEqual(hashMap(await hashes.get(p5)), await fromScratch(dir), 'the rotating fold took the last line in');
    t.false((await readdir(p5)).includes('hashes.invalid'), 'the log is gone');
    const written = JSON.parse(await readFile(join(p5, 'hashes.json'), 'latin1'));
    t.deepEqual(written.invalid, { ino: 0, offset: 0 });
    t.deepEqual(Object.keys(written.suffixes).sort(), Object.keys(await fromScratch(dir)).sort());
    await writeObject(files, loc('/a/b/y'), ts(2), Buffer.from('y2'));
    t.deepEqual(hashMap(await hashes.get(p5)), await fromScratch(dir), 'a new log is folded from its start');
  });
});
