/**
 * Suffix hashes on disk (Swift's hashes.pkl + hashes.invalid): every commit or delete appends its suffix to
 * `<partition>/hashes.invalid`; reading the hashes folds what was appended since the last fold into the
 * partition's cache, recomputes only the stale suffixes, and every so often writes the cache to
 * `<partition>/hashes.json`. That job runs on the node's disk worker (suffix-hash-files.ts says how the log,
 * its offsets and the cache file stay crash-safe; write-queue.ts, the worker), one message each way.
 *
 * The parsed cache of each partition is also kept in memory (up to `maxCachedSuffixes` suffixes per process,
 * least recently read first out), so reading the hashes of a partition nothing was written to costs one job
 * that lists its dir and finds nothing new in its log, or nothing at all when the caller trusts the cache
 * (`listdir: false`). That listing also catches suffix dirs that appeared or vanished behind the cache's
 * back. Changes inside a suffix dir that came with no invalidation are not seen until the suffix is
 * recalculated (as on disk).
 *
 * It also numbers the changes (a process-wide generation, bumped for a partition whenever one of its suffixes
 * is invalidated, or its hashes turn out different when recomputed with no invalidation since the last read),
 * so the replicator of a peer can ask which
 * partitions changed since it last looked (`changedSince`, through FsPartitions.changes).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { KeyedMutex, readdirIfExists, readdirIfExistsSync, readFileIfExistsSync } from './fs-util.js';
import { hashDirState } from './hash-dir.js';
import { errorOf } from '../src/common/job-thread.js';
import { type CachedHashes, hashesFileName, invalidFileName, type Listed, leftoverLists, listedSuffixes, noLog, type RehashReply, readLogTail, rotateLogBytes } from './suffix-hash-files.js';
import { sharedWriteQueue, type WriteQueue } from './write-queue.js';
import { compactSuffixRecord, type HashDirEntry, hashDirEntry, isHashDirName, isSuffix, parseHashesFile, type SuffixEntry } from './suffix-hashes.js';

export { hashesFileName, invalidFileName, isInvalidFileName } from './suffix-hash-files.js';

export interface SuffixHashOptions {
  /** Suffixes to recompute whatever the cache says (the replicator's check before it syncs a suffix). */
  recalculate?: readonly string[];
  /**
   * false: a partition cached in memory that no write, delete or quarantine of this process touched since it was
   * read is answered from the cache without listing its dir. The walkers ask so but for one pass in ten per
   * partition (and full passes), as Swift's replicator lists a partition dir one pass in ten. Default true.
   */
  listdir?: boolean;
}

/** Most suffix entries kept in memory over all partitions (about 130 bytes each). */
export const maxCachedSuffixes = 262_144;

/** A partition's cache (CachedHashes); `suffixes` is never mutated once cached (callers hold it). */
type Cached = Readonly<CachedHashes>;

export interface SuffixHashCacheOptions {
  /** Most suffix entries kept in memory (default `maxCachedSuffixes`). */
  maxSuffixes?: number;
  /** Folded offset past which a partition's `hashes.invalid` is rotated (default `rotateLogBytes`; tests). */
  rotateLogBytes?: number;
  /** Whose worker thread runs the recomputations (default: the process's, `sharedWriteQueue()`). */
  worker?: WriteQueue;
}

/** The suffix-hash caches of a node's partitions; one instance per process (it owns the locks). */
export class FsSuffixHashes {
  /** Appends to hashes.invalid and its rotation exclude each other, per partition. */
  readonly #invalidLocks = new KeyedMutex();
  /** One recomputation per partition at a time (the replicator and a peer's request may overlap). */
  readonly #calcLocks = new KeyedMutex();
  /** Parsed caches by partition dir, least recently read first. */
  readonly #cache = new Map<string, Cached>();
  #cachedSuffixes = 0;
  /** Change generation: the last one, and the last of each partition dir (in generation order). */
  #gen = 0;
  readonly #changed = new Map<string, number>();
  /** Partition dirs invalidated since their hashes were last read (their change is numbered already). */
  readonly #invalidated = new Set<string>();
  readonly #worker: WriteQueue;
  readonly #maxSuffixes: number;
  readonly #rotateLogBytes: number;

  constructor(opts: SuffixHashCacheOptions = {}) {
    this.#worker = opts.worker ?? sharedWriteQueue();
    this.#maxSuffixes = opts.maxSuffixes ?? maxCachedSuffixes;
    this.#rotateLogBytes = opts.rotateLogBytes ?? rotateLogBytes;
  }

  /** Notes that `suffix` of the partition at `partitionDir` changed. */
  async invalidate(partitionDir: string, suffix: string): Promise<void> {
    await this.#invalidLocks.run(partitionDir, () => fs.promises.appendFile(join(partitionDir, invalidFileName), `${suffix}\n`, 'latin1'));
    this.#invalidated.add(partitionDir);
    this.#noteChanged(partitionDir);
  }

  /** The current change generation and the partition dirs changed after generation `since`. */
  changedSince(since: number): { gen: number; dirs: string[] } {
    const dirs: string[] = [];
    for (const [dir, gen] of this.#changed) if (gen > since) dirs.push(dir);
    return { gen: this.#gen, dirs };
  }

  /**
   * Runs `fn`, which appends `<suffix>\n` lines to the partition's hashes.invalid itself (the write queue's
   * job that writes the object does), while the log is not being rotated; then numbers the
   * change as `invalidate` does (also when `fn` failed: it may have appended before it did).
   */
  async appending<T>(partitionDir: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#invalidLocks.run(partitionDir, fn);
    } finally {
      this.#invalidated.add(partitionDir);
      this.#noteChanged(partitionDir);
    }
  }

  /**
   * The partition's suffix entries, recomputing what is stale; `{}` for a partition dir that does not exist
   * (nothing is created then). The object returned is shared: callers must not change it.
   */
  async get(partitionDir: string, opts: SuffixHashOptions = {}): Promise<Record<string, SuffixEntry>> {
    return this.#calcLocks.run(partitionDir, async () => {
      // A change found now that no invalidation here announced (a write through another path, a file lost)
      // is numbered below; one announced was numbered when it was invalidated.
      const announced = this.#invalidated.delete(partitionDir);
      if (opts.listdir === false && !announced && !opts.recalculate?.length) {
        const trusted = this.#take(partitionDir);
        if (trusted) {
          this.#put(partitionDir, trusted);
          return trusted.suffixes;
        }
      }
      const cached = this.#take(partitionDir);
      const recalculate = (opts.recalculate ?? []).filter(isSuffix);
      // Most partitions the ring gives a device hold nothing here: a synchronous existence check answers those
      // without a job. A partition a write touched since its last read is there (and the job answers 'missing'
      // if it went meanwhile): a pass after a burst of writes skips that check for every partition it reads.
      const reply = announced || fs.existsSync(partitionDir) ? await this.#rehash(partitionDir, cached, recalculate) : ({ kind: 'missing' } as const);
      if (reply.kind === 'failed') throw errorOf(reply.error);
      if (reply.kind === 'missing') {
        if (cached && Object.keys(cached.suffixes).length > 0 && !announced) this.#noteChanged(partitionDir);
        return {};
      }
      if (reply.kind === 'same' && cached) {
        this.#put(partitionDir, cached);
        return cached.suffixes;
      }
      if (reply.kind !== 'done') throw new Error(`suffix hash job: unexpected '${reply.kind}' for ${partitionDir}`);
      if (reply.changed && !announced) this.#noteChanged(partitionDir);
      const { empty, log, unwritten } = reply;
      const suffixes = compactSuffixRecord(reply.suffixes);
      this.#put(partitionDir, { suffixes, empty, log, unwritten });
      return suffixes;
    });
  }

  /**
   * The hash dirs of the partition's suffixes after `after` (ascending; suffixes holding none left out), up to
   * about `listBatchEntries` of them, and whether more suffixes are left: one job on the disk worker, which lists
   * each directory with a plain synchronous call. `missing` when the partition dir does not exist.
   */
  async list(partitionDir: string, after?: string): Promise<Listed> {
    const reply = await this.#worker.list(partitionDir, after);
    if (reply.kind === 'failed') throw errorOf(reply.error);
    return reply.kind === 'missing' ? { kind: 'missing' } : { kind: 'listed', suffixes: reply.suffixes, more: reply.more };
  }

  /** The rehash job; one that rotates the log runs while no append to it is in flight. */
  #rehash(partitionDir: string, cached: Cached | undefined, recalculate: string[]): Promise<RehashReply> {
    const rotate = cached !== undefined && cached.log.offset >= this.#rotateLogBytes;
    const job = { partitionDir, cached, recalculate, rotate };
    return rotate ? this.#invalidLocks.run(partitionDir, () => this.#worker.rehash(job)) : this.#worker.rehash(job);
  }

  /**
   * Suffixes appended to the partition's invalid lists and not folded into its cache yet (sorted, each once):
   * what the next read recomputes.
   */
  pending(partitionDir: string): string[] {
    const from = this.#cache.get(partitionDir)?.log ?? parseHashesFile(readFileIfExistsSync(join(partitionDir, hashesFileName)))?.invalid ?? noLog;
    const out = new Set(readLogTail(join(partitionDir, invalidFileName), from).suffixes);
    for (const name of leftoverLists(readdirIfExistsSync(partitionDir) ?? [])) for (const s of listedSuffixes(join(partitionDir, name))) out.add(s);
    return [...out].sort();
  }

  /** Drops the cached hashes of every partition dir under `prefix` (a device that was wiped or replaced). */
  forget(prefix: string): void {
    for (const dir of [...this.#cache.keys()]) if (dir.startsWith(prefix)) this.#take(dir);
  }

  /**
   * Drops the cached hashes of one partition dir, whose log is being removed: a new log could get the same
   * inode, and an offset kept for the old one would skip its first lines.
   */
  forgetPartition(partitionDir: string): void {
    this.#take(partitionDir);
  }

  /** Runs `fn` while no hash computation of the partition runs (used before removing a partition dir). */
  exclusive<T>(partitionDir: string, fn: () => Promise<T>): Promise<T> {
    return this.#calcLocks.run(partitionDir, fn);
  }

  #noteChanged(partitionDir: string): void {
    this.#changed.delete(partitionDir);
    this.#changed.set(partitionDir, ++this.#gen);
  }

  /** Removes and returns the cached entry of a partition (put back by #put, as the most recently read). */
  #take(partitionDir: string): Cached | undefined {
    const c = this.#cache.get(partitionDir);
    if (!c) return undefined;
    this.#cache.delete(partitionDir);
    this.#cachedSuffixes -= cacheSize(c);
    return c;
  }

  #put(partitionDir: string, c: Cached): void {
    this.#cache.set(partitionDir, c);
    this.#cachedSuffixes += cacheSize(c);
    for (const [dir, old] of this.#cache) {
      if (this.#cachedSuffixes <= this.#maxSuffixes) break;
      this.#cache.delete(dir);
      this.#cachedSuffixes -= cacheSize(old);
    }
  }
}

/** Each cached entry's size, counted once: an entry is taken and put back on every read of its partition. */
const cacheSizes = new WeakMap<Cached, number>();

function cacheSize(c: Cached): number {
  let size = cacheSizes.get(c);
  if (size === undefined) {
    size = Object.keys(c.suffixes).length + c.empty.length + 1;
    cacheSizes.set(c, size);
  }
  return size;
}

/** The hash dirs of a suffix with their states; hash dirs holding nothing (no version, nothing pending) are left out. */
export async function listSuffix(partitionDir: string, suffix: string): Promise<HashDirEntry[]> {
  const suffixDir = join(partitionDir, suffix);
  const hashes = (await readdirIfExists(suffixDir)) ?? [];
  const out: HashDirEntry[] = [];
  for (const hash of hashes) {
    if (!isHashDirName(hash)) continue;
    const names = await readdirIfExists(join(suffixDir, hash)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    const entry = names && hashDirEntry(hash, hashDirState(names));
    if (entry) out.push(entry);
  }
  return out;
}
