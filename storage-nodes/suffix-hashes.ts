/**
 * Suffix hashes (Swift's hashes.pkl), the pure part: how a suffix dir's hash is computed from the names of
 * the newest versions in its hash dirs, the cache file format, and how two partitions' hashes are compared.
 * The file-system side is `fs-suffix-hashes.ts`.
 */
import { createHash } from 'node:crypto';
import type { Timestamp } from '../src/common/timestamp.js';
import type { SuffixHashes } from '../src/common/wire.js';
import { type HashDirState, parseFileName } from './hash-dir.js';

/** One hash dir of a suffix: its name, its version and what else the workers look for (hash-dir.ts). */
export interface HashDirEntry {
  hash: string;
  /**
   * The version: `<ts>.data` or `<ts>.ts` — the file itself for a replicated object or a tombstone; for EC
   * the fragment archives at `<ts>` (`files`). Undefined when only pending archives are there.
   */
  newest?: string;
  /** The `.meta` file applying to the version, if any. */
  meta?: string;
  /** The data files of the version (EC: one per fragment index held here). */
  files?: string[];
  /** Non-durable fragment archives newer than the version. */
  pending?: string[];
}

/** The entry of hash dir `hash` in `state`; undefined when it holds nothing the workers care about. */
export function hashDirEntry(hash: string, state: HashDirState): HashDirEntry | undefined {
  const v = state.version;
  if (!v && state.pending.length === 0) return undefined;
  const e: HashDirEntry = { hash };
  if (v) e.newest = v.kind === 'tombstone' ? v.file : `${v.ts}.data`;
  if (state.meta) e.meta = state.meta.file;
  if (v?.kind === 'data') e.files = v.files.map((f) => f.file);
  if (state.pending.length > 0) e.pending = state.pending.map((f) => f.file);
  return e;
}

/** What peers compare for a hash dir (SuffixContents values): the version, then ` <ts>.meta` when one applies. */
export function entrySummary(e: HashDirEntry): string | undefined {
  if (e.newest === undefined) return undefined;
  return e.meta ? `${e.newest} ${e.meta}` : e.newest;
}

/** What the cache keeps per suffix. */
export interface SuffixEntry {
  /** MD5 over the suffix's hash dirs and their versions (and `.meta` files). */
  hash: string;
  /** Oldest tombstone in the suffix, so the replicator finds reclaimable ones without walking the suffix. */
  oldestTombstone?: Timestamp;
  /** Oldest pending (non-durable) fragment archive, so the reconstructor finds abandoned writes cheaply. */
  oldestPending?: Timestamp;
}

/** The cache file of a partition (`hashes.json`); `null` marks a suffix to recompute. */
export interface HashesFile {
  version: 1;
  suffixes: Record<string, SuffixEntry | null>;
  /** How far `hashes.invalid` is folded into `suffixes` (absent in files written before the log was kept). */
  invalid?: InvalidLog;
}

/** Where a partition's fold of `hashes.invalid` stands: the log's inode (0: there was none) and the offset folded up to. */
export interface InvalidLog {
  ino: number;
  offset: number;
}

/**
 * The entry of a suffix whose hash dirs are `entries` (any order); undefined when the suffix holds nothing
 * (it then drops out of the partition's hashes). Only the state of each hash dir counts (its version and the
 * `.meta` applying to it): older files beside it are leftovers readers ignore, and pending archives are not
 * served yet.
 */
export function suffixEntry(entries: readonly HashDirEntry[]): SuffixEntry | undefined {
  if (entries.length === 0) return undefined;
  const sorted = [...entries].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const md5 = createHash('md5');
  let oldestTombstone: Timestamp | undefined;
  let oldestPending: Timestamp | undefined;
  for (const e of sorted) {
    const summary = entrySummary(e);
    if (summary !== undefined) md5.update(`${e.hash} ${summary}\n`, 'latin1');
    const v = e.newest === undefined ? undefined : parseFileName(e.newest);
    if (v?.kind === 'tombstone' && (oldestTombstone === undefined || v.ts < oldestTombstone)) oldestTombstone = v.ts;
    const p = e.pending?.[0] === undefined ? undefined : parseFileName(e.pending[0]);
    if (p && (oldestPending === undefined || p.ts < oldestPending)) oldestPending = p.ts;
  }
  const entry: SuffixEntry = { hash: md5.digest('hex') };
  if (oldestTombstone !== undefined) entry.oldestTombstone = oldestTombstone;
  if (oldestPending !== undefined) entry.oldestPending = oldestPending;
  return entry;
}

/** Parses a cache file; undefined when it is missing, torn or of another version (then everything is recomputed). */
export function parseHashesFile(text: string | undefined): HashesFile | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as HashesFile;
    if (typeof v !== 'object' || v === null || v.version !== 1 || typeof v.suffixes !== 'object' || v.suffixes === null) return undefined;
    // (An inode number past 2^53 comes back rounded, as fstat gives it: compared alike, so it still matches.)
    if (v.invalid !== undefined && !(Number.isFinite(v.invalid?.ino) && v.invalid.ino >= 0 && Number.isSafeInteger(v.invalid.offset) && v.invalid.offset >= 0)) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/** Index keys (of suffixes: "100"–"999") below which a record is better held with dictionary elements. */
const fewIndexKeys = 128;
/** An array index past 2^29: V8 then keeps the object's index keys in a dictionary for good. */
const dictionaryIndex = '4294967294';

/** True when `record` has index-like keys, but fewer than `fewIndexKeys`. */
function fewIndexKeysIn(record: object): boolean {
  let indexKeys = 0;
  for (const k of Object.keys(record)) {
    // Index keys come first, in ascending order.
    if (!/^[1-9]\d*$/.test(k)) break;
    if (++indexKeys >= fewIndexKeys) return false;
  }
  return indexKeys > 0;
}

/** An empty object whose index keys V8 keeps in a dictionary. */
function dictionaryRecord<T>(): Record<string, T> {
  const out: Record<string, T> = {};
  out[dictionaryIndex] = undefined as T;
  delete out[dictionaryIndex];
  return out;
}

/**
 * A partition's suffix-keyed record as it should be held for long (FsSuffixHashes' cache). Suffix names
 * "100"–"999" (900 of the 4,096) are array indexes to V8, which keeps them in a flat store as long as the
 * largest of them: a partition holding "987" and a few others carries ~1,000 slots (8–12 KiB) for them. A
 * bench node caching 769 partitions held 4.4 MiB of such stores for 1,201 keys, a fifth of its live heap
 * (a record cloned from the worker thread gets the flat store; one from JSON.parse does not). With fewer than
 * `fewIndexKeys` of them the copy keeps them in a dictionary instead (about 40 bytes a key); with more, the
 * flat store is the smaller, and the record is returned as it is. Same entries, same key order.
 */
export function compactSuffixRecord<T>(record: Record<string, T>): Record<string, T> {
  return fewIndexKeysIn(record) ? Object.assign(dictionaryRecord<T>(), record) : record;
}

/** The maps `hashMap` made, by the entries they were made of (a partition's cached entries are never changed). */
const hashMaps = new WeakMap<object, SuffixHashes>();

/**
 * The suffix → hash map of a partition's entries (what peers compare; a `null` entry of a cache is left out).
 * Made like `compactSuffixRecord`'s copies: the walkers make several per partition and pass, and with flat
 * stores 768 of them (10 suffixes each) held 6.9 MiB, against 0.15 MiB. The map is made once per entries
 * object and shared: callers must not change it. (A pass after a burst of writes asked for the same
 * partition's map three times — its `changes` answer to each peer, its own comparison, its record — and
 * making them was a tenth of a node's main thread in that pass.)
 */
export function hashMap(entries: Readonly<Record<string, SuffixEntry | null>>): SuffixHashes {
  let out = hashMaps.get(entries);
  if (out) return out;
  out = fewIndexKeysIn(entries) ? dictionaryRecord() : {};
  for (const suffix in entries) {
    const entry = entries[suffix];
    if (entry) out[suffix] = entry.hash;
  }
  hashMaps.set(entries, out);
  return out;
}

/** The digests `hashesDigest` made, by the map they were made of (maps from `hashMap` are never changed). */
const digests = new WeakMap<object, string>();

/**
 * A digest of a partition's suffix → hash map: MD5 over its suffixes in order, each with its hash, base64
 * without padding (22 characters). Two replicas in sync have the same; a peer's `changes` answer carries it
 * instead of the map (wire.ts, `&digests`), since a map that differs is asked for again anyway. Made once per
 * map object.
 */
export function hashesDigest(hashes: SuffixHashes): string {
  let d = digests.get(hashes);
  if (d === undefined) {
    const md5 = createHash('md5');
    for (const s of Object.keys(hashes).sort()) md5.update(`${s} ${hashes[s]}\n`, 'latin1');
    d = md5.digest('base64').slice(0, 22);
    digests.set(hashes, d);
  }
  return d;
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
