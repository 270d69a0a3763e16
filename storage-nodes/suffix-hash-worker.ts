/**
 * Recomputing a partition's suffix hashes, on a worker thread of its own (fs-suffix-hashes.ts is the side the
 * node's main thread sees). A recomputation is a dozen small file-system calls: read `hashes.json` and the
 * invalidations to fold, list each stale suffix dir and its hash dirs, write `hashes.json` back, remove the
 * folded lists. Made one by one through libuv's thread pool they cost the main thread a round trip, a promise
 * and a wake-up each; here they are plain synchronous calls, and the main thread posts one message and gets one
 * back. On the main thread itself they would stall every request whenever a call waits for a directory's lock
 * behind a write's fsync; here only the recomputations wait.
 *
 * Folding is crash-safe without a lock: the main thread renames `hashes.invalid` to a `hashes.invalid.N` of its
 * own (under the lock that keeps the write queue's appends out), and the job removes that file only after the
 * hashes it folded in are written. A crash in between leaves the file, which the next recomputation folds again.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
import { readdirIfExistsSync, readFileIfExistsSync, unlinkIfExistsSync } from './fs-util.js';
import { hashDirState } from './hash-dir.js';
import { type JobError, jobError, serveJobs } from '../src/common/job-thread.js';
import { type HashDirEntry, type HashesFile, hashDirEntry, isHashDirName, isSuffix, parseHashesFile, type SuffixEntry, suffixEntry } from './suffix-hashes.js';

export const hashesFileName = 'hashes.json';
export const invalidFileName = 'hashes.invalid';

/** `hashes.invalid`, or one of the `hashes.invalid.N` being folded. */
export function isInvalidFileName(name: string): boolean {
  return name === invalidFileName || (name.startsWith(`${invalidFileName}.`) && /^\d+$/.test(name.slice(invalidFileName.length + 1)));
}

export interface RehashJob {
  id: number;
  partitionDir: string;
  /** The suffix dirs in the partition dir (the main thread has just listed it). */
  onDisk: string[];
  /** What the main thread's cache holds for the partition (else `hashes.json` is read). */
  cached?: { suffixes: Record<string, SuffixEntry>; empty: string[] };
  /** Suffixes to recompute whatever the cache says. */
  recalculate: string[];
  /** `hashes.invalid.N` files whose suffixes are stale; removed once the hashes are written. */
  folding: string[];
}

export interface Rehashed {
  /** The complete entries, as written to hashes.json. */
  suffixes: Record<string, SuffixEntry>;
  /** Suffix dirs that exist but hold nothing. */
  empty: string[];
  /** Some suffix's hash differs from what the cache said before (stale entries aside). */
  changed: boolean;
}

export type RehashReply = ({ id: number; kind: 'done' } & Rehashed) | { id: number; kind: 'failed'; error: JobError };

/** Folds, recomputes what is stale and writes `hashes.json` back: the whole job, synchronously. */
export function rehashPartition(job: Omit<RehashJob, 'id'>): Rehashed {
  const dir = job.partitionDir;
  let dirty = false;
  let file: HashesFile | undefined = job.cached && { version: 1, suffixes: { ...job.cached.suffixes } };
  file ??= parseHashesFile(readFileIfExistsSync(join(dir, hashesFileName)));
  if (!file) {
    file = { version: 1, suffixes: {} };
    dirty = true;
  }
  const previous = { ...file.suffixes };
  const onDisk = new Set(job.onDisk);
  const empty = new Set((job.cached?.empty ?? []).filter((s) => onDisk.has(s)));
  const stale = (s: string) => {
    file.suffixes[s] = null;
    empty.delete(s);
  };
  for (const name of job.folding) for (const s of (readFileIfExistsSync(join(dir, name)) ?? '').split('\n')) if (isSuffix(s)) stale(s);
  for (const s of onDisk) if (!(s in file.suffixes) && !empty.has(s)) file.suffixes[s] = null;
  for (const s of Object.keys(file.suffixes)) if (!onDisk.has(s)) file.suffixes[s] = null;
  for (const s of job.recalculate) stale(s);
  let changed = false;
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
  if (dirty) writeHashesFile(dir, file);
  for (const name of job.folding) unlinkIfExistsSync(join(dir, name));
  return { suffixes: file.suffixes as Record<string, SuffixEntry>, empty: [...empty], changed };
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

if ((workerData as { arcaSuffixHashes?: boolean } | undefined)?.arcaSuffixHashes === true) {
  serveJobs<RehashJob, RehashReply>((reply) => (job) => {
    try {
      reply({ id: job.id, kind: 'done', ...rehashPartition(job) });
    } catch (err) {
      reply({ id: job.id, kind: 'failed', error: jobError(err) });
    }
  });
}
