/**
 * Suffix hashes on disk (Swift's hashes.pkl + hashes.invalid): every commit or delete appends its suffix to
 * `<partition>/hashes.invalid`; reading the hashes folds that list into `<partition>/hashes.json` (marking those
 * suffixes stale, durably, before the list is emptied), recomputes only the stale suffixes and writes the cache
 * back.
 *
 * The parsed cache of each partition is also kept in memory (up to `maxCachedSuffixes` suffixes per process,
 * least recently read first out), so reading the hashes of a partition nothing was written to costs one
 * `readdir` of its dir: no `hashes.invalid` there and the same suffix dirs as cached means nothing changed.
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
import { KeyedMutex, readdirIfExists, unlinkIfExists } from './fs-util.js';
import { hashDirState } from './hash-dir.js';
import { type HashDirEntry, type HashesFile, hashDirEntry, isHashDirName, isSuffix, parseHashesFile, type SuffixEntry, suffixEntry } from './suffix-hashes.js';

export const hashesFileName = 'hashes.json';
export const invalidFileName = 'hashes.invalid';

export interface SuffixHashOptions {
  /** Suffixes to recompute whatever the cache says (the replicator's check before it syncs a suffix). */
  recalculate?: readonly string[];
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
      const names = await readdirIfExists(partitionDir);
      const cached = this.#take(partitionDir);
      if (names === undefined) {
        if (cached && Object.keys(cached.suffixes).length > 0 && !announced) this.#noteChanged(partitionDir);
        return {};
      }
      const onDisk = new Set(names.filter(isSuffix));
      const recalculate = (opts.recalculate ?? []).filter(isSuffix);
      if (cached && recalculate.length === 0 && !names.includes(invalidFileName) && sameSuffixDirs(onDisk, cached)) {
        this.#put(partitionDir, cached);
        return cached.suffixes;
      }

      let dirty = false;
      let file: HashesFile | undefined = cached && { version: 1, suffixes: { ...cached.suffixes } };
      file ??= parseHashesFile(await readIfExists(join(partitionDir, hashesFileName)));
      if (!file) {
        file = { version: 1, suffixes: {} };
        dirty = true;
      }
      const previous = { ...file.suffixes };
      const empty = new Set([...(cached?.empty ?? [])].filter((s) => onDisk.has(s)));
      if (names.includes(invalidFileName)) await this.#fold(partitionDir, file, empty);
      for (const s of onDisk) if (!(s in file.suffixes) && !empty.has(s)) file.suffixes[s] = null;
      for (const s of Object.keys(file.suffixes)) if (!onDisk.has(s)) file.suffixes[s] = null;
      for (const s of recalculate) {
        file.suffixes[s] = null;
        empty.delete(s);
      }
      let changed = false;
      for (const [suffix, entry] of Object.entries(file.suffixes)) {
        if (entry) continue;
        dirty = true;
        const fresh = suffixEntry(await listSuffix(partitionDir, suffix));
        if (fresh) file.suffixes[suffix] = fresh;
        else {
          delete file.suffixes[suffix];
          if (onDisk.has(suffix)) empty.add(suffix);
        }
        if (fresh?.hash !== previous[suffix]?.hash) changed = true;
      }
      if (dirty) await writeHashesFile(partitionDir, file);
      if (changed && !announced) this.#noteChanged(partitionDir);
      const suffixes = file.suffixes as Record<string, SuffixEntry>;
      this.#put(partitionDir, { suffixes, empty });
      return suffixes;
    });
  }

  /** Runs `fn` while no hash computation of the partition runs (used before removing a partition dir). */
  exclusive<T>(partitionDir: string, fn: () => Promise<T>): Promise<T> {
    return this.#calcLocks.run(partitionDir, fn);
  }

  /**
   * Folds hashes.invalid into `file`: the named suffixes are marked stale and the cache written before the list
   * is removed, so a crash in between loses no invalidation.
   */
  async #fold(partitionDir: string, file: HashesFile, empty: Set<string>): Promise<void> {
    await this.#invalidLocks.run(partitionDir, async () => {
      const invalidText = await readIfExists(join(partitionDir, invalidFileName));
      if (invalidText === undefined) return;
      for (const s of invalidText.split('\n')) {
        if (!isSuffix(s)) continue;
        file.suffixes[s] = null;
        empty.delete(s);
      }
      await writeHashesFile(partitionDir, file);
      await unlinkIfExists(join(partitionDir, invalidFileName));
    });
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

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(path, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Replaces the cache atomically (not fsynced: a lost cache is recomputed, and a stale one is marked stale first). */
async function writeHashesFile(partitionDir: string, file: HashesFile): Promise<void> {
  const tmp = join(partitionDir, `${hashesFileName}.tmp`);
  try {
    await fs.promises.writeFile(tmp, JSON.stringify(file), 'latin1');
    await fs.promises.rename(tmp, join(partitionDir, hashesFileName));
  } catch (err) {
    // The partition was removed meanwhile (a reverted handoff): nothing to cache.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
