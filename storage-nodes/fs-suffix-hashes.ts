/**
 * Suffix hashes on disk (Swift's hashes.pkl + hashes.invalid): every commit or delete appends its suffix to
 * `<partition>/hashes.invalid`; reading the hashes folds that list into `<partition>/hashes.json` (marking those
 * suffixes stale, durably, before the list is emptied), recomputes only the stale suffixes and writes the cache
 * back. A pass over an unchanged partition therefore reads two small files and lists no directory.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { hashDirState } from './hash-dir.js';
import { KeyedMutex, readdirIfExists, unlinkIfExists } from './fs-util.js';
import { type HashDirEntry, type HashesFile, hashDirEntry, isHashDirName, isSuffix, parseHashesFile, type SuffixEntry, suffixEntry } from './suffix-hashes.js';

export const hashesFileName = 'hashes.json';
export const invalidFileName = 'hashes.invalid';

export interface SuffixHashOptions {
  /** Suffixes to recompute whatever the cache says (the replicator's check before it syncs a suffix). */
  recalculate?: readonly string[];
  /** Also list the partition dir, so suffix dirs that appeared or vanished behind the cache's back count. */
  rescan?: boolean;
}

/** The suffix-hash caches of a node's partitions; one instance per process (it owns the locks). */
export class FsSuffixHashes {
  /** Appends to hashes.invalid and the fold of it into the cache exclude each other, per partition. */
  readonly #invalidLocks = new KeyedMutex();
  /** One recomputation per partition at a time (the replicator and a peer's request may overlap). */
  readonly #calcLocks = new KeyedMutex();

  /** Notes that `suffix` of the partition at `partitionDir` changed. */
  async invalidate(partitionDir: string, suffix: string): Promise<void> {
    await this.#invalidLocks.run(partitionDir, () => fs.promises.appendFile(join(partitionDir, invalidFileName), `${suffix}\n`, 'latin1'));
  }

  /**
   * The partition's suffix entries, recomputing what is stale; `{}` for a partition dir that does not exist
   * (nothing is created then).
   */
  async get(partitionDir: string, opts: SuffixHashOptions = {}): Promise<Record<string, SuffixEntry>> {
    return this.#calcLocks.run(partitionDir, async () => {
      let file: HashesFile | undefined;
      try {
        file = await this.#fold(partitionDir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
        throw err;
      }
      let dirty = false;
      if (!file || opts.rescan) {
        const onDisk = await readdirIfExists(partitionDir);
        if (onDisk === undefined) return {};
        const suffixes = new Set(onDisk.filter(isSuffix));
        if (!file) {
          file = { version: 1, suffixes: {} };
          dirty = true;
        }
        for (const s of suffixes) if (!(s in file.suffixes)) file.suffixes[s] = null;
        for (const s of Object.keys(file.suffixes)) if (!suffixes.has(s)) file.suffixes[s] = null;
      }
      for (const s of opts.recalculate ?? []) if (isSuffix(s)) file.suffixes[s] = null;
      const entries: Record<string, SuffixEntry> = {};
      for (const [suffix, cached] of Object.entries(file.suffixes)) {
        if (cached) {
          entries[suffix] = cached;
          continue;
        }
        dirty = true;
        const entry = suffixEntry(await listSuffix(partitionDir, suffix));
        if (entry) {
          file.suffixes[suffix] = entry;
          entries[suffix] = entry;
        } else {
          delete file.suffixes[suffix];
        }
      }
      if (dirty) await writeHashesFile(partitionDir, file);
      return entries;
    });
  }

  /** Runs `fn` while no hash computation of the partition runs (used before removing a partition dir). */
  exclusive<T>(partitionDir: string, fn: () => Promise<T>): Promise<T> {
    return this.#calcLocks.run(partitionDir, fn);
  }

  /**
   * Reads the cache and folds hashes.invalid into it: the named suffixes are marked stale and the cache written
   * before the list is removed, so a crash in between loses no invalidation. Undefined when there is no usable
   * cache (everything is recomputed then). Throws ENOENT when the partition dir is gone.
   */
  async #fold(partitionDir: string): Promise<HashesFile | undefined> {
    return this.#invalidLocks.run(partitionDir, async () => {
      const [cacheText, invalidText] = await Promise.all([readIfExists(join(partitionDir, hashesFileName)), readIfExists(join(partitionDir, invalidFileName))]);
      const file = parseHashesFile(cacheText);
      if (invalidText === undefined) {
        if (cacheText === undefined) await fs.promises.access(partitionDir); // ENOENT for a missing partition
        return file;
      }
      if (file) {
        for (const s of invalidText.split('\n')) if (isSuffix(s)) file.suffixes[s] = null;
        await writeHashesFile(partitionDir, file);
      }
      await unlinkIfExists(join(partitionDir, invalidFileName));
      return file;
    });
  }
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
