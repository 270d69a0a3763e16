/**
 * Reading and recomputing a partition's suffix hashes on disk: the job that the node's disk worker runs
 * (write-queue-worker.ts; fs-suffix-hashes.ts is the side the node's main thread sees). A job is a handful of
 * small file-system calls: list the partition dir, read what was appended to `hashes.invalid` since the last
 * fold, read `hashes.json` when the main thread holds no cache, list each stale suffix dir and its hash dirs,
 * and now and then write `hashes.json` back. Made one by one through libuv's thread pool they would cost the
 * main thread a round trip, a promise and a wake-up each; on the worker they are plain synchronous calls, and
 * the main thread posts one message and gets one back. On the main thread itself they would stall every
 * request whenever a call waits for a directory's lock behind a write's fsync.
 *
 * **`hashes.invalid` is an append-only log.** Writes append `<suffix>\n` lines to it; a fold reads the lines
 * after the offset the cache records (`InvalidLog`: the log's inode and the offset folded up to) and moves the
 * offset on, without renaming or removing anything, so folds and appends need no lock between them: an
 * append that lands during a fold is read by the next one, and every write appends only after its file is in
 * place, so a fold that reads a line sees the write it names. Only whole lines count (an append in flight may
 * be half there). A log with another inode than recorded (replaced), or shorter than the offset (cut short by
 * a crash), is read from its start.
 *
 * **`hashes.json` is written every `foldsPerWrite` folds**, not on every one (a create and a rename each
 * time, the costliest calls of a fold on ext4): the log is kept, so a `hashes.json` that is older than the
 * memory cache, as after a crash, still records an offset from which the log names every suffix changed
 * since; the next process folds those again. It is also written when there was none (or it was torn),
 * when leftover `hashes.invalid.N` lists of an older version are folded (removed once it is written), and
 * when the log is rotated: once the offset passes `rotateLogBytes`, the main thread runs a job with
 * `rotate` while it keeps appends out; it folds the whole log, writes `hashes.json` with an empty log
 * record, then removes the log (a crash in between folds it again from its start).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { readdirIfExistsSync, readFileIfExistsSync, unlinkIfExistsSync } from './fs-util.js';
import { hashDirState } from './hash-dir.js';
import type { JobError } from '../src/common/job-thread.js';
import { type HashDirEntry, type HashesFile, hashDirEntry, type InvalidLog, isHashDirName, isSuffix, parseHashesFile, type SuffixEntry, suffixEntry } from './suffix-hashes.js';

export const hashesFileName = 'hashes.json';
export const invalidFileName = 'hashes.invalid';

/** `hashes.invalid`, or a `hashes.invalid.N` that an older version's fold left (folded, then removed). */
export function isInvalidFileName(name: string): boolean {
  return name === invalidFileName || (name.startsWith(`${invalidFileName}.`) && /^\d+$/.test(name.slice(invalidFileName.length + 1)));
}

/** The `hashes.invalid.N` lists an older version's fold left, among a partition dir's entries `names`. */
export function leftoverLists(names: readonly string[]): string[] {
  return names.filter((n) => n !== invalidFileName && isInvalidFileName(n));
}

/** The valid suffixes a list file names, one per line (none when it is gone). */
export function listedSuffixes(path: string): string[] {
  return (readFileIfExistsSync(path) ?? '').split('\n').filter(isSuffix);
}

export const noLog: InvalidLog = { ino: 0, offset: 0 };

/** What the main thread's cache holds for a partition. */
export interface CachedHashes {
  /** The complete entries, as in `hashes.json`. */
  suffixes: Record<string, SuffixEntry>;
  /** Suffix dirs that exist but hold nothing (so they are not recomputed on every read). */
  empty: string[];
  log: InvalidLog;
  /** Folds since `hashes.json` was last written. */
  unwritten: number;
}

export interface RehashJob {
  id: number;
  /** Tells it from the disk worker's other jobs (writes). */
  op: 'rehash';
  partitionDir: string;
  /** What the main thread's cache holds for the partition (else `hashes.json` is read). */
  cached?: CachedHashes;
  /** Suffixes to recompute whatever the cache says. */
  recalculate: string[];
  /** Fold the whole log, write `hashes.json` and remove the log: the caller keeps appends out meanwhile. */
  rotate: boolean;
}

/** The partition dir is not there (`missing`); the cache is current (`same`); else the new cache. */
export type Rehashed = { kind: 'missing' } | { kind: 'same' } | ({ kind: 'done'; changed: boolean } & CachedHashes);

export type RehashReply = ({ id: number } & Rehashed) | { id: number; kind: 'failed'; error: JobError };

/**
 * Lists the hash dirs of a partition's suffixes after `after` (the auditor's walk), in one job rather than a
 * readdir per directory; a job stops at the first suffix that brings its entries to `listBatchEntries`.
 */
export interface ListJob {
  id: number;
  op: 'list';
  partitionDir: string;
  after?: string;
}

/**
 * The suffixes listed (ascending) with their hash dirs, suffixes that hold none left out, and whether suffixes
 * are left after the last one listed; or `missing`.
 */
export type Listed = { kind: 'missing' } | { kind: 'listed'; suffixes: Array<[suffix: string, entries: HashDirEntry[]]>; more: boolean };

export type ListReply = ({ id: number } & Listed) | { id: number; kind: 'failed'; error: JobError };

/** `hashes.json` is written back every this many folds that changed it (and whenever it must be: see above). */
export const foldsPerWrite = 16;

/** The log is rotated once folded up to this offset (16,384 lines). */
export const rotateLogBytes = 64 * 1024;

/** Lists the partition, folds what is stale into its cache and writes `hashes.json` when due: the whole job, synchronously. */
export function rehashPartition(job: Omit<RehashJob, 'id' | 'op'>): Rehashed {
  const dir = job.partitionDir;
  const names = readdirIfExistsSync(dir);
  if (names === undefined) return { kind: 'missing' };
  const onDisk = new Set(names.filter(isSuffix));
  const leftovers = leftoverLists(names);
  let file: HashesFile | undefined = job.cached && { version: 1, suffixes: { ...job.cached.suffixes }, invalid: job.cached.log };
  file ??= parseHashesFile(readFileIfExistsSync(join(dir, hashesFileName)));
  // Written whatever the count: a missing or torn hashes.json (everything is recomputed), leftover lists to
  // remove, a rotation.
  const mustWrite = file === undefined || leftovers.length > 0 || job.rotate;
  file ??= { version: 1, suffixes: {} };
  // A hashes.json with no log record predates the log: whatever hashes.invalid holds is not folded yet.
  const from = file.invalid ?? noLog;
  const tail = readLogTail(join(dir, invalidFileName), from);
  const cached = job.cached;
  if (cached && !mustWrite && job.recalculate.length === 0 && tail.suffixes.length === 0 && tail.ino === from.ino && tail.end === from.offset && sameSuffixDirs(onDisk, cached)) {
    return { kind: 'same' };
  }
  const previous = { ...file.suffixes };
  const empty = new Set((cached?.empty ?? []).filter((s) => onDisk.has(s)));
  const stale = (s: string) => {
    file.suffixes[s] = null;
    empty.delete(s);
  };
  for (const name of leftovers) for (const s of listedSuffixes(join(dir, name))) stale(s);
  for (const s of tail.suffixes) stale(s);
  for (const s of onDisk) if (!(s in file.suffixes) && !empty.has(s)) file.suffixes[s] = null;
  for (const s of Object.keys(file.suffixes)) if (!onDisk.has(s)) file.suffixes[s] = null;
  for (const s of job.recalculate) if (isSuffix(s)) stale(s);
  let changed = false;
  let dirty = false;
  for (const [suffix, entry] of Object.entries(file.suffixes)) {
    if (entry) continue;
    dirty = true;
    const fresh = suffixEntry(listSuffixSync(dir, suffix));
    if (fresh) file.suffixes[suffix] = fresh;
    else {
      delete file.suffixes[suffix];
      if (onDisk.has(suffix)) empty.add(suffix);
    }
    if (fresh?.hash !== previous[suffix]?.hash) changed = true;
  }
  let log: InvalidLog = { ino: tail.ino, offset: tail.end };
  let unwritten = (cached?.unwritten ?? 0) + (dirty ? 1 : 0);
  if (mustWrite || unwritten >= foldsPerWrite) {
    if (job.rotate) log = noLog;
    writeHashesFile(dir, { ...file, invalid: log });
    unwritten = 0;
    for (const name of leftovers) unlinkIfExistsSync(join(dir, name));
    if (job.rotate) unlinkIfExistsSync(join(dir, invalidFileName));
  }
  return { kind: 'done', suffixes: file.suffixes as Record<string, SuffixEntry>, empty: [...empty], log, unwritten, changed };
}

/**
 * The whole lines of the log after `from` (from its start when it is another file than `from` names, or
 * shorter than `from.offset`): their valid suffixes, the log's inode (0: no log) and the offset after them.
 */
export function readLogTail(path: string, from: InvalidLog): { ino: number; end: number; suffixes: string[] } {
  // Most reads find nothing new: one stat says so.
  const st = fs.statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return { ino: 0, end: 0, suffixes: [] };
  if (st.ino === from.ino && st.size === from.offset) return { ino: st.ino, end: from.offset, suffixes: [] };
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ino: 0, end: 0, suffixes: [] };
    throw err;
  }
  try {
    const { ino, size } = fs.fstatSync(fd);
    const start = ino === from.ino && size >= from.offset ? from.offset : 0;
    if (size === start) return { ino, end: start, suffixes: [] };
    const buf = Buffer.allocUnsafe(size - start);
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    const text = buf.toString('latin1', 0, n);
    const whole = text.lastIndexOf('\n') + 1;
    return { ino, end: start + whole, suffixes: text.slice(0, whole).split('\n').filter(isSuffix) };
  } finally {
    fs.closeSync(fd);
  }
}

/** True when the suffix dirs on disk are exactly those the cache knows (with an entry or as empty). */
function sameSuffixDirs(onDisk: ReadonlySet<string>, c: CachedHashes): boolean {
  let known = c.empty.length;
  for (const s of c.empty) if (!onDisk.has(s)) return false;
  for (const s in c.suffixes) {
    if (!onDisk.has(s)) return false;
    known++;
  }
  return known === onDisk.size;
}

/**
 * Hash dirs a list job gathers before it stops (after the suffix it is in). Writes wait behind a job on the disk
 * worker: this bounds the wait (measured on the kept bench cluster, a job of ~12 hash dirs and their suffix
 * dirs: 0.5 ms at the median, 1 ms once the directories had left the page cache; so ~10–20 ms for a full
 * batch), the worker's heap and the reply. Most partitions are listed whole in one job.
 */
export const listBatchEntries = 256;

/** Lists the partition's suffix dirs after `after` and their hash dirs: the whole list job, synchronously. */
export function listPartition(partitionDir: string, after = ''): Listed {
  const names = readdirIfExistsSync(partitionDir);
  if (names === undefined) return { kind: 'missing' };
  const left = names.filter((n) => isSuffix(n) && n > after).sort();
  const suffixes: Array<[string, HashDirEntry[]]> = [];
  let count = 0;
  for (const [i, suffix] of left.entries()) {
    const entries = listSuffixSync(partitionDir, suffix);
    if (entries.length > 0) suffixes.push([suffix, entries]);
    count += entries.length;
    if (count >= listBatchEntries) return { kind: 'listed', suffixes, more: i < left.length - 1 };
  }
  return { kind: 'listed', suffixes, more: false };
}

/** The hash dirs of a suffix with their states, as listSuffix (fs-suffix-hashes.ts) finds them. */
function listSuffixSync(partitionDir: string, suffix: string): HashDirEntry[] {
  const suffixDir = join(partitionDir, suffix);
  const out: HashDirEntry[] = [];
  for (const hash of readdirIfExistsSync(suffixDir) ?? []) {
    if (!isHashDirName(hash)) continue;
    let names: string[] | undefined;
    try {
      names = readdirIfExistsSync(join(suffixDir, hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    const entry = names && hashDirEntry(hash, hashDirState(names));
    if (entry) out.push(entry);
  }
  return out;
}

/** Replaces the cache atomically (not fsynced, like Swift's hashes.invalid: a lost cache file is recomputed). */
function writeHashesFile(partitionDir: string, file: HashesFile): void {
  const tmp = join(partitionDir, `${hashesFileName}.tmp`);
  try {
    fs.writeFileSync(tmp, JSON.stringify(file), 'latin1');
    fs.renameSync(tmp, join(partitionDir, hashesFileName));
  } catch (err) {
    // The partition was removed meanwhile (a reverted handoff): nothing to cache.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
