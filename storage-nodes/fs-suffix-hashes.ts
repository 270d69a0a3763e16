/**
 * Suffix hashes on disk (Swift's hashes.pkl + hashes.invalid): every commit or delete appends its suffix to
 * `<partition>/hashes.invalid`; reading the hashes folds that list into `<partition>/hashes.json`, recomputes
 * only the stale suffixes and writes the cache back. That recomputation runs on a worker thread
 * (suffix-hash-worker.ts), one message each way.
 *
 * The parsed cache of each partition is also kept in memory (up to `maxCachedSuffixes` suffixes per process,
 * least recently read first out), so reading the hashes of a partition nothing was written to costs one
 * `readdir` of its dir (no `hashes.invalid` there and the same suffix dirs as cached means nothing changed),
 * or nothing at all when the caller trusts the cache (`listdir: false`).
 * That listing also catches suffix dirs that appeared or vanished behind the cache's back. Changes inside a
 * suffix dir that came with no invalidation are not seen until the suffix is recalculated (as on disk).
 *
 * It also numbers the changes (a process-wide generation, bumped for a partition whenever one of its suffixes
 * is invalidated, or its hashes turn out different when recomputed with no invalidation since the last read),
 * so the replicator of a peer can ask which
 * partitions changed since it last looked (`changedSince`, through FsPartitions.changes).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { KeyedMutex, readdirIfExists } from './fs-util.js';
import { hashDirState } from './hash-dir.js';
import { errorOf, JobThread } from '../src/common/job-thread.js';
import { invalidFileName, isInvalidFileName, type RehashJob, type RehashReply } from './suffix-hash-worker.js';
import { type HashDirEntry, hashDirEntry, isHashDirName, isSuffix, type SuffixEntry } from './suffix-hashes.js';

export { hashesFileName, invalidFileName, isInvalidFileName } from './suffix-hash-worker.js';

const workerUrl = new URL('./suffix-hash-worker.js', import.meta.url);

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

interface Cached {
  /** The complete cache (no `null`), as written to hashes.json; never mutated once cached (callers hold it). */
  suffixes: Record<string, SuffixEntry>;
  /** Suffix dirs that exist but hold nothing (so they are not recomputed on every read). */
  empty: ReadonlySet<string>;
}

/** The suffix-hash caches of a node's partitions; one instance per process (it owns the locks). */
export class FsSuffixHashes {
  /** Appends to hashes.invalid and the fold of it into the cache exclude each other, per partition. */
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
  readonly #thread = new JobThread<RehashJob, RehashReply>(workerUrl, {
    name: 'suffix hash worker',
    workerData: { arcaSuffixHashes: true },
    // A job holds one partition's cache (4,096 suffixes at most, ~0.5 MiB): a small heap keeps the thread's RSS low.
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
  });

  constructor(private readonly maxSuffixes = maxCachedSuffixes) {}

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
   * worker does, in the job that writes the object), while no fold of that file runs; then numbers the
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
      // Most partitions the ring gives a device hold nothing here: a synchronous existence check answers those
      // without a thread-pool round trip and the ENOENT error a readdir would build.
      const names = fs.existsSync(partitionDir) ? await readdirIfExists(partitionDir) : undefined;
      const cached = this.#take(partitionDir);
      if (names === undefined) {
        if (cached && Object.keys(cached.suffixes).length > 0 && !announced) this.#noteChanged(partitionDir);
        return {};
      }
      const onDisk = names.filter(isSuffix);
      const recalculate = (opts.recalculate ?? []).filter(isSuffix);
      const folding = names.filter((n) => n !== invalidFileName && isInvalidFileName(n));
      const invalid = names.includes(invalidFileName);
      if (cached && recalculate.length === 0 && !invalid && folding.length === 0 && sameSuffixDirs(new Set(onDisk), cached)) {
        this.#put(partitionDir, cached);
        return cached.suffixes;
      }
      // hashes.invalid moves aside (no write's append is in flight meanwhile); the job folds it and removes it
      // once the hashes are written. A name no leftover of an interrupted job has.
      if (invalid) {
        let n = 1;
        while (names.includes(`${invalidFileName}.${n}`)) n++;
        const name = `${invalidFileName}.${n}`;
        if (await this.#invalidLocks.run(partitionDir, () => renameIfExists(join(partitionDir, invalidFileName), join(partitionDir, name)))) folding.push(name);
      }
      const reply = await this.#thread.run({ partitionDir, onDisk, cached: cached && { suffixes: cached.suffixes, empty: [...cached.empty] }, recalculate, folding });
      if (reply.kind === 'failed') throw errorOf(reply.error);
      if (reply.changed && !announced) this.#noteChanged(partitionDir);
      this.#put(partitionDir, { suffixes: reply.suffixes, empty: new Set(reply.empty) });
      return reply.suffixes;
    });
  }

  /** Drops the cached hashes of every partition dir under `prefix` (a device that was wiped or replaced). */
  forget(prefix: string): void {
    for (const dir of [...this.#cache.keys()]) if (dir.startsWith(prefix)) this.#take(dir);
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
      if (this.#cachedSuffixes <= this.maxSuffixes) break;
      this.#cache.delete(dir);
      this.#cachedSuffixes -= cacheSize(old);
    }
  }
}

function cacheSize(c: Cached): number {
  return Object.keys(c.suffixes).length + c.empty.size + 1;
}

/** True when the suffix dirs on disk are exactly those the cache knows (with an entry or as empty). */
function sameSuffixDirs(onDisk: ReadonlySet<string>, c: Cached): boolean {
  let known = c.empty.size;
  for (const s of c.empty) if (!onDisk.has(s)) return false;
  for (const s in c.suffixes) {
    if (!onDisk.has(s)) return false;
    known++;
  }
  return known === onDisk.size;
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

/** rename that answers false when the source is gone. */
async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await fs.promises.rename(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
