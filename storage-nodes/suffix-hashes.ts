/**
 * Suffix hashes (Swift's hashes.pkl), the pure part: how a suffix dir's hash is computed from the names of
 * the newest versions in its hash dirs, the cache file format, and how two partitions' hashes are compared.
 * The file-system side is `fs-suffix-hashes.ts`.
 */
import { createHash } from 'node:crypto';
import type { Timestamp } from '../src/common/timestamp.js';
import type { SuffixHashes } from '../src/common/wire.js';
import { parseVersionFileName } from './data-file-format.js';

/** One hash dir of a suffix: its name and the file name of its newest version. */
export interface HashDirEntry {
  hash: string;
  /** `<ts>.data` or `<ts>.ts`. */
  newest: string;
}

/** What the cache keeps per suffix. */
export interface SuffixEntry {
  /** MD5 over the suffix's hash dirs and their newest versions. */
  hash: string;
  /** Oldest tombstone in the suffix, so the replicator finds reclaimable ones without walking the suffix. */
  oldestTombstone?: Timestamp;
}

/** The cache file of a partition (`hashes.json`); `null` marks a suffix to recompute. */
export interface HashesFile {
  version: 1;
  suffixes: Record<string, SuffixEntry | null>;
}

/**
 * The entry of a suffix whose hash dirs are `entries` (any order); undefined when the suffix holds no version
 * at all (it then drops out of the partition's hashes). Only the newest version of each hash dir counts: it
 * is the object's state, and older files beside it are leftovers readers ignore.
 */
export function suffixEntry(entries: readonly HashDirEntry[]): SuffixEntry | undefined {
  if (entries.length === 0) return undefined;
  const sorted = [...entries].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const md5 = createHash('md5');
  let oldestTombstone: Timestamp | undefined;
  for (const e of sorted) {
    md5.update(`${e.hash} ${e.newest}\n`, 'latin1');
    const v = parseVersionFileName(e.newest);
    if (v?.kind === 'tombstone' && (oldestTombstone === undefined || v.ts < oldestTombstone)) oldestTombstone = v.ts;
  }
  const entry: SuffixEntry = { hash: md5.digest('hex') };
  if (oldestTombstone !== undefined) entry.oldestTombstone = oldestTombstone;
  return entry;
}

/** Parses a cache file; undefined when it is missing, torn or of another version (then everything is recomputed). */
export function parseHashesFile(text: string | undefined): HashesFile | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as HashesFile;
    if (typeof v !== 'object' || v === null || v.version !== 1 || typeof v.suffixes !== 'object' || v.suffixes === null) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/** The suffix → hash map of a complete cache (no `null` left). */
export function hashesOf(file: HashesFile): SuffixHashes {
  const out: SuffixHashes = {};
  for (const [suffix, entry] of Object.entries(file.suffixes)) if (entry) out[suffix] = entry.hash;
  return out;
}

/** Suffixes the local side holds whose hash differs from the remote's (what a push has to look at), sorted. */
export function differingSuffixes(local: SuffixHashes, remote: SuffixHashes): string[] {
  return Object.keys(local)
    .filter((s) => remote[s] !== local[s])
    .sort();
}

/** True for a suffix dir name: three lower-case hex digits. */
export function isSuffix(name: string): boolean {
  return /^[0-9a-f]{3}$/.test(name);
}

/** True for a hash dir name: 32 lower-case hex digits (MD5). */
export function isHashDirName(name: string): boolean {
  return /^[0-9a-f]{32}$/.test(name);
}
