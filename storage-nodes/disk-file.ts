/**
 * The DiskFile abstraction: how a storage node keeps one object (or fragment archive) per hash dir, with the
 * durable-write protocol explicit in the API (create → write → put(meta) → commit, or abort). Two backends
 * implement it: `FsDiskFiles` (Swift's on-disk layout) and `MemoryDiskFiles` (its in-memory twin for tests);
 * one conformance suite holds both to the same contract.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Timestamp } from '../src/common/timestamp.js';
import type { ObjectMeta } from '../src/common/wire.js';

/** Where an object lives: the device, its policy's object directory, the partition and the object's name. */
export interface ObjectLocation {
  device: string;
  policyIndex: number;
  partition: number;
  /** `/account/bucket/key`, unencoded; only its hash ever becomes part of a path. */
  name: string;
}

/** An inclusive byte range of an object's body, as in HTTP. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The newest file of a hash dir when it is a data file. */
export interface DataFile {
  kind: 'data';
  /** The metadata (from `open`: with the newest `.meta` patch applied). */
  meta: ObjectMeta;
  /** `meta` as UTF-8 JSON, so the server forwards it without re-encoding (as stored when nothing changed it). */
  rawMeta: Uint8Array;
  /** Timestamp of the `.meta` patch applied to `meta`, if one was. */
  metaTs?: Timestamp;
  /** Fragment index of an EC fragment archive. */
  frag?: number;
  /**
   * XXH64 (hex) of each fragment of an EC fragment archive, in order: fragment s is the bytes the object's
   * segment s put in this archive. Node-internal (stored with the file, never part of `meta`).
   */
  fragmentChecksums?: string[];
  /** Body bytes. */
  size: number;
  /**
   * The body (or `range` of it): a Buffer when the bytes are already in memory (small objects are read whole
   * by `open`), otherwise a stream. Takes over the open file: call `read` or `close`, once.
   */
  read(range?: ByteRange): Buffer | Readable;
  /** Releases the open file without reading (HEAD, errors). */
  close(): Promise<void>;
}

/** The newest file of a hash dir when it is a tombstone. */
export interface TombstoneFile {
  kind: 'tombstone';
  ts: Timestamp;
}

export type OpenedObject = DataFile | TombstoneFile;

/** Kind and timestamp of the newest file of a hash dir, without opening it. */
export interface NewestFile {
  kind: 'data' | 'tombstone';
  ts: Timestamp;
}

/**
 * Writes one new version of an object. `write` the body (awaiting each call is the backpressure; chunks are
 * kept by reference until written, so do not reuse them), `put` the metadata, then `commit` to make it the
 * object's version atomically and durably — or `abort` to leave nothing behind.
 */
export interface DiskFileWriter {
  /** Takes `chunk` for good: the writer may free its memory once it is written (src/common/free-bytes.ts). */
  write(chunk: Uint8Array): Promise<void>;
  /** Body bytes accepted so far. */
  readonly bytesWritten: number;
  /** Sets the metadata stored with the body; `meta.ts` names the version. */
  put(meta: ObjectMeta): void;
  /**
   * Makes the version visible, then removes older versions. Throws ArcaError `Conflict` (detail
   * `existingTs`) when the hash dir already holds this or a newer timestamp, `Locked` when the version it
   * would replace is under an object lock; nothing is left behind then.
   * A non-durable fragment archive is installed but not visible until `markDurable`.
   */
  commit(): Promise<CommitOutcome>;
  /** Discards everything written; safe to call at any time, also after a failed commit. */
  abort(): Promise<void>;
}

/** What a commit made visible replaced. */
export interface CommitOutcome {
  /** The merged metadata of the live data version it replaced, when there was one. */
  replaced?: ObjectMeta;
  /** Timestamp of the `.meta` applied to `replaced`, if any (which of several replicas' reports is newest). */
  replacedMetaTs?: Timestamp;
}

/** The state a tombstone replaced. */
export interface DeleteOutcome {
  previous: 'data' | 'tombstone' | undefined;
  /** The merged metadata of the live data version it replaced, when there was one. */
  replaced?: ObjectMeta;
  replacedMetaTs?: Timestamp;
}

/** What a metadata update found: the merged metadata it made, or no live data. */
export type PostOutcome = { kind: 'posted'; meta: ObjectMeta } | { kind: 'absent' };

/**
 * How a removal treats object locks (src/common/object-lock.ts): a version under a legal hold or a compliance
 * retention is never replaced nor deleted (ArcaError `Locked`); a governance retention yields to a tombstone
 * or a metadata update only with `bypassGovernance`.
 */
export interface RemoveOptions {
  bypassGovernance?: boolean;
}

/** Which fragment archive a writer writes (EC policies); absent for replicated objects. */
export interface ArchiveRef {
  frag: number;
  /** Install it durable at once (sync writes of durable archives); otherwise it waits for `markDurable`. */
  durable: boolean;
}

/** Node-internal metadata field holding the fragment checksums (concatenated 16-digit hex), stripped on read. */
export const fragmentChecksumsField = 'fragmentXxh64';

/** A device's store of objects. Errors of an unusable device are `DeviceUnavailableError`. */
export interface DiskFiles {
  /** Starts writing a new version of the object at `location` (fragment archive `archive` for EC). */
  create(location: ObjectLocation, archive?: ArchiveRef): Promise<DiskFileWriter>;
  /**
   * The newest version of the object, with the newest `.meta` applied; undefined when the hash dir holds
   * nothing. For EC, the durable archive of fragment `frag` (any fragment index when undefined); a version
   * whose archive of that index is not here is undefined.
   */
  open(location: ObjectLocation, opts?: { frag?: number }): Promise<OpenedObject | undefined>;
  /** Kind and timestamp of the newest version, cheaper than `open` (no file is opened). */
  newest(location: ObjectLocation): Promise<NewestFile | undefined>;
  /**
   * Writes a tombstone at `ts` (durably, like a data file) and removes older versions. Throws ArcaError
   * `Conflict` (detail `existingTs`) when this or a newer timestamp is already there, `Locked` when the
   * data version is under an object lock (see RemoveOptions).
   */
  delete(location: ObjectLocation, ts: Timestamp, opts?: RemoveOptions): Promise<DeleteOutcome>;
  /**
   * Writes `<ts>.meta` holding `patch` merged over the current `.meta` (a key set to null is removed from the
   * data's metadata when read); `absent` when there is no live data. Throws ArcaError `Conflict` (detail
   * `existingTs`) when the data, a tombstone or a `.meta` at or after `ts` is there; `Locked` when the patch
   * would weaken a retention in force (see RemoveOptions).
   */
  post(location: ObjectLocation, ts: Timestamp, patch: Record<string, unknown>, opts?: RemoveOptions): Promise<PostOutcome>;
  /**
   * Phase 2 of an EC write: marks fragment archive `frag` at `ts` durable, which makes it the version (and
   * removes what it replaced). Undefined when no archive of that fragment index and timestamp is here.
   * Throws ArcaError `Conflict` when a newer version (or a tombstone at `ts`) is there.
   */
  markDurable(location: ObjectLocation, ts: Timestamp, frag: number): Promise<CommitOutcome | undefined>;
  /** Suffixes written since the partition's suffix hashes were last recomputed (for the replicator). */
  invalidatedSuffixes(device: string, policyIndex: number, partition: number): Promise<string[]>;
}

/** A device that is not served here, missing or failing (the server answers 507 for it). */
export class DeviceUnavailableError extends Error {
  readonly code = 'DeviceUnavailable';
  constructor(
    readonly device: string,
    readonly path: string,
    reason: string,
  ) {
    super(`device ${device} (${path}) is unavailable: ${reason}`);
    this.name = 'DeviceUnavailableError';
  }
}

/** A data file whose footer does not parse (torn or bit-rotten); the server treats it as absent. */
export class CorruptDataFileError extends Error {
  readonly code = 'CorruptDataFile';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`corrupt data file ${path}: ${reason}`);
    this.name = 'CorruptDataFileError';
  }
}

/** The hash of an object name: MD5 hex, as Swift names hash dirs. */
export function hashOfName(name: string): string {
  return createHash('md5').update(name, 'utf8').digest('hex');
}

/** The suffix dir of a hash: its last three hex digits. */
export function suffixOfHash(hash: string): string {
  return hash.slice(-3);
}

/** The object directory of a policy: `objects` for policy 0, `objects-N` otherwise. */
export function objectsDirName(policyIndex: number): string {
  return policyIndex === 0 ? 'objects' : `objects-${policyIndex}`;
}

/** True for a device name that can only name a direct sub-directory of the devices dir. */
export function isSafeDeviceName(device: string): boolean {
  return device !== '' && device !== '.' && device !== '..' && !/[/\\\0]/.test(device);
}
