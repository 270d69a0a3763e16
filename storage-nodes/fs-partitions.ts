/**
 * The replicator's and auditor's view of FsDiskFiles: objects by partition, suffix and hash dir rather than by
 * name. It lists what a device holds, reads suffix hashes and suffix contents, opens a version by file name,
 * and removes or quarantines a version — always under the hash dir's lock and only while that version is
 * still the newest, so a write that lands meanwhile is never lost.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { Timestamp } from '../src/common/timestamp.js';
import { maxChangedDigests, type PartitionChanges, type SuffixContents, type SuffixInventory } from '../src/common/wire.js';
import { CorruptDataFileError, type DataFile, DeviceUnavailableError, objectsDirName } from './disk-file.js';
import type { FsDiskFiles } from './fs-disk-file.js';
import { hashesFileName, isInvalidFileName, listSuffix, type SuffixHashOptions } from './fs-suffix-hashes.js';
import type { Listed } from './suffix-hash-files.js';
import { mkdirTracked, readdirIfExists, unlinkIfExists } from './fs-util.js';
import { hashDirState, type MetaFileContent, parseFileName } from './hash-dir.js';
import { entrySummary, type HashDirEntry, hashDirEntry, hashesDigest, hashMap, isHashDirName, isSuffix, type SuffixEntry } from './suffix-hashes.js';

/** A partition of one policy on one device. */
export interface PartitionRef {
  device: string;
  policyIndex: number;
  partition: number;
}

/** One hash dir of a partition. */
export interface HashDirRef extends PartitionRef {
  suffix: string;
  hash: string;
}

/** A version opened by file name: a data file (to stream) or a tombstone (its object's name read from it). */
export type OpenedVersion = { kind: 'data'; ts: Timestamp; file: DataFile } | { kind: 'tombstone'; ts: Timestamp; name: string };

/** Replication and audit operations over a node's FsDiskFiles. */
export class FsPartitions {
  /** Names this process in change epochs: a peer that sees another knows everything may have changed. */
  readonly #boot = randomBytes(6).toString('hex');
  /** Times each device was found wiped and made a new, empty device (the second part of its epoch). */
  readonly #resets = new Map<string, number>();

  constructor(private readonly files: FsDiskFiles) {}

  /**
   * The partitions of a policy on a device whose suffix hashes changed after generation `since` of this
   * process (all changed since it started when `since` is 0), with the current generation and the device's
   * epoch: a peer replicator asks only about those, unless the epoch differs from the one it saw last (the
   * node restarted, or the device was wiped) — then anything may have changed. DeviceUnavailableError when
   * the device is not there. With `digests`, a digest of each changed partition's suffix hashes too
   * (`hashesDigest`; recomputed where writes invalidated them), up to `maxChangedDigests`: a peer then takes
   * those it holds alike as in sync without asking for each. With `all` (a peer's full pass), every partition
   * the device holds of the policy is listed, not only the changed ones, and `complete` says whether each came
   * with its digest (then a partition not listed is one the device does not hold).
   *
   * The hashes come from the cache as it stands (`listdir: false`): a partition dir is listed again by this
   * node's own walkers, one pass in ten and in every full pass, and a change found then is numbered like any
   * other, so the peers learn of it from their next `changes`. Listing every partition again for every peer
   * device's full pass made a full pass cost each partition ~7 listings (performance.md, proposal 39).
   */
  async changes(device: string, policyIndex: number, since: number, opts: { digests?: boolean; all?: boolean } = {}): Promise<PartitionChanges> {
    const devicePath = this.files.devicePath(device);
    // (partitionDir also refuses a device this node does not serve.)
    const prefix = dirname(this.files.partitionDir(device, policyIndex, 0)) + sep;
    const { gen, dirs } = this.files.suffixHashes.changedSince(since);
    if (!fs.existsSync(join(devicePath, 'tmp'))) throw new DeviceUnavailableError(device, devicePath, 'missing (not mounted?)');
    let partitions: number[] = [];
    if (opts.all) partitions = await this.partitions(device, policyIndex);
    else {
      for (const dir of dirs) {
        if (!dir.startsWith(prefix)) continue;
        const rest = dir.slice(prefix.length);
        if (/^(0|[1-9]\d{0,9})$/.test(rest)) partitions.push(Number(rest));
      }
      partitions.sort((a, b) => a - b);
    }
    const changes: PartitionChanges = { epoch: `${this.#boot}.${this.#resets.get(device) ?? 0}`, gen, partitions };
    if (opts.digests) {
      const digests: Record<string, string> = {};
      const taken = partitions.slice(0, maxChangedDigests);
      for (const partition of taken) digests[partition] = hashesDigest(hashMap(await this.hashes({ device, policyIndex, partition }, { listdir: false })));
      changes.digests = digests;
      if (opts.all) changes.complete = taken.length === partitions.length;
    }
    return changes;
  }

  /** Notes that a device was wiped and made a new, empty one (DeviceMonitor): its epoch changes. */
  deviceReset(device: string): void {
    this.#resets.set(device, (this.#resets.get(device) ?? 0) + 1);
    this.files.suffixHashes.forget(`${this.files.devicePath(device)}/`);
  }

  /** Policy indexes with an object dir on the device. */
  async policies(device: string): Promise<number[]> {
    const names = (await this.#readdir(device, this.files.devicePath(device))) ?? [];
    const out: number[] = [];
    for (const n of names) {
      if (n === 'objects') out.push(0);
      const m = /^objects-(\d+)$/.exec(n);
      if (m && m[1] !== '0') out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** Partitions the device holds for a policy, ascending. */
  async partitions(device: string, policyIndex: number): Promise<number[]> {
    const dir = join(this.files.devicePath(device), objectsDirName(policyIndex));
    const names = (await this.#readdir(device, dir)) ?? [];
    return names
      .filter((n) => /^(0|[1-9]\d{0,9})$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /**
   * The partition's suffix entries (cached; see FsSuffixHashes). DeviceUnavailableError when the device itself
   * is gone (unmounted: its `tmp/` is missing), so a peer is never told "empty" by a disk that is not there.
   */
  async hashes(ref: PartitionRef, opts: SuffixHashOptions = {}): Promise<Record<string, SuffixEntry>> {
    let entries: Record<string, SuffixEntry>;
    try {
      entries = await this.files.suffixHashes.get(this.#partitionDir(ref), opts);
    } catch (err) {
      throw this.files.deviceError(ref.device, err);
    }
    // (A synchronous check: the walkers ask this of every partition the ring gives a device, most of them empty.)
    if (Object.keys(entries).length === 0 && !fs.existsSync(`${this.files.devicePath(ref.device)}/tmp`)) {
      throw new DeviceUnavailableError(ref.device, this.files.devicePath(ref.device), 'missing (not mounted?)');
    }
    return entries;
  }

  /** Hash dirs of a suffix with their newest versions. */
  async listSuffix(ref: PartitionRef, suffix: string): Promise<HashDirEntry[]> {
    if (!isSuffix(suffix)) return [];
    try {
      return await listSuffix(this.#partitionDir(ref), suffix);
    } catch (err) {
      throw this.files.deviceError(ref.device, err);
    }
  }

  /** What a peer asks for before a sync: per suffix, per hash dir, its state (`<ts>.data|.ts[ <ts>.meta]`). */
  async suffixContents(ref: PartitionRef, suffixes: readonly string[]): Promise<SuffixContents> {
    const out: SuffixContents = {};
    for (const suffix of suffixes) {
      const entries = await this.listSuffix(ref, suffix);
      const hashes: Record<string, string> = {};
      for (const e of entries) {
        const summary = entrySummary(e);
        if (summary !== undefined) hashes[e.hash] = summary;
      }
      if (Object.keys(hashes).length > 0) out[suffix] = hashes;
    }
    return out;
  }

  /** SuffixContents with each object's name, read from one of its files (the reconstructor's inventory). */
  async suffixInventory(ref: PartitionRef, suffixes: readonly string[]): Promise<SuffixInventory> {
    const out: SuffixInventory = {};
    for (const suffix of suffixes) {
      const hashes: SuffixInventory[string] = {};
      for (const e of await this.listSuffix(ref, suffix)) {
        const state = entrySummary(e);
        const name = state === undefined ? undefined : await this.nameOf({ ...ref, suffix, hash: e.hash }, e);
        if (state !== undefined && name !== undefined) hashes[e.hash] = { state, name };
      }
      if (Object.keys(hashes).length > 0) out[suffix] = hashes;
    }
    return out;
  }

  /** The object name of a hash dir, from its smallest file that names it; undefined when none can be read. */
  async nameOf(ref: HashDirRef, e: HashDirEntry): Promise<string | undefined> {
    if (e.meta) {
      const meta = await this.readMeta(ref, e.meta);
      if (meta?.name) return meta.name;
    }
    for (const file of [e.newest, ...(e.files ?? []), ...(e.pending ?? [])]) {
      if (file === undefined) continue;
      try {
        const v = await this.openVersion(ref, file);
        if (v?.kind === 'tombstone') return v.name;
        if (v?.kind === 'data') {
          await v.file.close();
          if (typeof v.file.meta.name === 'string') return v.file.meta.name;
        }
      } catch (err) {
        if (!(err instanceof CorruptDataFileError)) throw err;
      }
    }
    return undefined;
  }

  /**
   * Removes one file of a hash dir (a fragment archive handed over, an abandoned pending archive) if it is
   * still there; when no version and nothing pending is left, the rest of the hash dir goes too. Invalidates
   * the suffix. False when the file was gone.
   */
  async removeFile(ref: HashDirRef, file: string): Promise<boolean> {
    const dir = this.hashDirPath(ref);
    try {
      return await this.files.withHashDirLock(dir, async () => {
        const names = await readdirIfExists(dir);
        if (!names?.includes(file)) return false;
        await unlinkIfExists(join(dir, file));
        const left = names.filter((n) => n !== file);
        if (!hashDirEntry(ref.hash, hashDirState(left))) {
          for (const n of left) if (parseFileName(n)) await unlinkIfExists(join(dir, n));
          await rmdirIfEmpty(dir);
        }
        await this.files.suffixHashes.invalidate(this.#partitionDir(ref), ref.suffix);
        return true;
      });
    } catch (err) {
      throw this.files.deviceError(ref.device, err);
    }
  }

  /** The current entry of one hash dir (undefined when it holds nothing). */
  async entry(ref: HashDirRef): Promise<HashDirEntry | undefined> {
    let names: string[] | undefined;
    try {
      names = await readdirIfExists(this.hashDirPath(ref));
    } catch (err) {
      throw this.files.deviceError(ref.device, err);
    }
    return names && hashDirEntry(ref.hash, hashDirState(names));
  }

  /** Reads `.meta` file `file` of a hash dir; undefined when it is gone or unreadable. */
  async readMeta(ref: HashDirRef, file: string): Promise<MetaFileContent | undefined> {
    try {
      const content = JSON.parse(await fs.promises.readFile(join(this.hashDirPath(ref), file), 'utf8')) as MetaFileContent;
      return typeof content?.meta === 'object' && content.meta !== null && typeof content.ts === 'string' ? content : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw this.files.deviceError(ref.device, err);
    }
  }

  /**
   * Opens file `file` of a hash dir (a data file, or a tombstone; for a replicated object the version name
   * is its file name); undefined when it is gone (replaced meanwhile). Corrupt data throws CorruptDataFileError.
   */
  async openVersion(ref: HashDirRef, file: string): Promise<OpenedVersion | undefined> {
    const v = parseFileName(file);
    if (!v || v.kind === 'meta') return undefined;
    const path = join(this.hashDirPath(ref), file);
    if (v.kind === 'data') {
      const data = await this.files.openDataFile(ref.device, path);
      return data && { kind: 'data', ts: v.ts, file: data };
    }
    let text: string;
    try {
      text = await fs.promises.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.files.deviceError(ref.device, err);
    }
    try {
      const { name } = JSON.parse(text) as { name?: unknown };
      return typeof name === 'string' ? { kind: 'tombstone', ts: v.ts, name } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Removes everything of a hash dir whose state is still `summary` (HashDirEntry's `newest[ meta]`), then
   * the hash dir if it is empty; invalidates the suffix. False when its state changed meanwhile.
   */
  async removeVersion(ref: HashDirRef, summary: string): Promise<boolean> {
    const dir = this.hashDirPath(ref);
    try {
      return await this.files.withHashDirLock(dir, async () => {
        const names = await readdirIfExists(dir);
        const e = names && hashDirEntry(ref.hash, hashDirState(names));
        if (!e || entrySummary(e) !== summary || e.pending) return false;
        for (const n of names) if (parseFileName(n)) await unlinkIfExists(join(dir, n));
        await rmdirIfEmpty(dir);
        await this.files.suffixHashes.invalidate(this.#partitionDir(ref), ref.suffix);
        return true;
      });
    } catch (err) {
      throw this.files.deviceError(ref.device, err);
    }
  }

  /**
   * Moves a corrupt data file away if it is still there and part of the hash dir's state (Swift's quarantine),
   * and invalidates the suffix so the replicator (or reconstructor) restores it from good copies: for a
   * replicated object the whole hash dir goes to `<device>/quarantined/objects[-N]/<hash>[-n]`; a fragment
   * archive goes alone, into such a dir, so the other archives a handoff holds stay. Returns the quarantine
   * path, or undefined when the file was replaced meanwhile.
   */
  async quarantine(ref: HashDirRef, file: string): Promise<string | undefined> {
    const dir = this.hashDirPath(ref);
    const deviceDir = this.files.devicePath(ref.device);
    const qdir = join(deviceDir, 'quarantined', objectsDirName(ref.policyIndex));
    try {
      return await this.files.withHashDirLock(dir, async () => {
        const names = await readdirIfExists(dir);
        const e = names && hashDirEntry(ref.hash, hashDirState(names));
        if (!e || !(e.files?.includes(file) || e.pending?.includes(file))) return undefined;
        await mkdirTracked(qdir, deviceDir);
        let dest = join(qdir, ref.hash);
        for (let n = 1; await exists(dest); n++) dest = join(qdir, `${ref.hash}-${n}`);
        if (parseFileName(file)?.kind === 'data' && (parseFileName(file) as { frag?: number }).frag !== undefined) {
          await mkdirTracked(dest, deviceDir);
          await fs.promises.rename(join(dir, file), join(dest, file));
          await rmdirIfEmpty(dir);
        } else {
          await fs.promises.rename(dir, dest);
        }
        await this.files.suffixHashes.invalidate(this.#partitionDir(ref), ref.suffix);
        return dest;
      });
    } catch (err) {
      throw this.files.deviceError(ref.device, err);
    }
  }

  /**
   * Removes the partition dir once no suffix dir is left in it (a handoff that gave everything back); false
   * when something is still there or arrived meanwhile.
   */
  async removePartitionIfEmpty(ref: PartitionRef): Promise<boolean> {
    const dir = this.#partitionDir(ref);
    try {
      return await this.files.suffixHashes.exclusive(dir, async () => {
        const names = await readdirIfExists(dir);
        if (names === undefined) return true;
        for (const s of names.filter(isSuffix)) await rmdirIfEmpty(join(dir, s));
        const left = (await readdirIfExists(dir)) ?? [];
        if (left.some(isSuffix)) return false;
        this.files.suffixHashes.forgetPartition(dir);
        for (const n of left) if (n === hashesFileName || isInvalidFileName(n)) await unlinkIfExists(join(dir, n));
        return rmdirIfEmpty(dir);
      });
    } catch (err) {
      throw this.files.deviceError(ref.device, err);
    }
  }

  /**
   * Every hash dir of the device with its state, partition by partition (the auditor's walk). Each partition
   * is listed in one job of the disk worker (FsSuffixHashes.list; a large one in several, each up to
   * `listBatchEntries` 256 hash dirs): a walk lists every directory of the device (~19,000 for two devices of
   * ~4,600 objects each), and each readdir through the thread pool cost the main thread a promise, a round
   * trip and a wake-up (performance.md, proposal 39).
   */
  async *walk(device: string): AsyncGenerator<HashDirRef & { entry: HashDirEntry }> {
    for (const policyIndex of await this.policies(device)) {
      for (const partition of await this.partitions(device, policyIndex)) {
        const ref = { device, policyIndex, partition };
        for (let after = '', more = true; more; ) {
          let listed: Listed;
          try {
            listed = await this.files.suffixHashes.list(this.#partitionDir(ref), after);
          } catch (err) {
            throw this.files.deviceError(device, err);
          }
          if (listed.kind === 'missing') break;
          for (const [suffix, entries] of listed.suffixes) {
            for (const e of entries) yield { ...ref, suffix, hash: e.hash, entry: e };
            after = suffix;
          }
          more = listed.more;
        }
      }
    }
  }

  /** The directory of a hash dir. */
  hashDirPath(ref: HashDirRef): string {
    if (!isSuffix(ref.suffix) || !isHashDirName(ref.hash) || !ref.hash.endsWith(ref.suffix)) throw new Error(`bad hash dir ${ref.suffix}/${ref.hash}`);
    return join(this.#partitionDir(ref), ref.suffix, ref.hash);
  }

  #partitionDir(ref: PartitionRef): string {
    return this.files.partitionDir(ref.device, ref.policyIndex, ref.partition);
  }

  async #readdir(device: string, dir: string): Promise<string[] | undefined> {
    try {
      return await readdirIfExists(dir);
    } catch (err) {
      throw this.files.deviceError(device, err);
    }
  }
}

/** rmdir that answers false for a directory that is not empty (or gone: true). */
async function rmdirIfEmpty(dir: string): Promise<boolean> {
  try {
    await fs.promises.rmdir(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.promises.access(path);
    return true;
  } catch {
    return false;
  }
}
