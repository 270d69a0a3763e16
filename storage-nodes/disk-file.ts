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
  meta: ObjectMeta;
  /** The metadata exactly as stored (UTF-8 JSON), so the server can forward it without re-encoding. */
  rawMeta: Uint8Array;
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
  write(chunk: Uint8Array): Promise<void>;
  /** Body bytes accepted so far. */
  readonly bytesWritten: number;
  /** Sets the metadata stored with the body; `meta.ts` names the version. */
  put(meta: ObjectMeta): void;
  /**
   * Makes the version visible, then removes older versions. Throws ArcaError `Conflict` (detail
   * `existingTs`) when the hash dir already holds this or a newer timestamp; nothing is left behind then.
   */
  commit(): Promise<void>;
  /** Discards everything written; safe to call at any time, also after a failed commit. */
  abort(): Promise<void>;
}

/** The state a tombstone replaced. */
export interface DeleteOutcome {
  previous: 'data' | 'tombstone' | undefined;
}

/** A device's store of objects. Errors of an unusable device are `DeviceUnavailableError`. */
export interface DiskFiles {
  /** Starts writing a new version of the object at `location`. */
  create(location: ObjectLocation): Promise<DiskFileWriter>;
  /** The newest version of the object; undefined when the hash dir holds nothing. */
  open(location: ObjectLocation): Promise<OpenedObject | undefined>;
  /** Kind and timestamp of the newest version, cheaper than `open` (no file is opened). */
  newest(location: ObjectLocation): Promise<NewestFile | undefined>;
  /**
   * Writes a tombstone at `ts` (durably, like a data file) and removes older versions. Throws ArcaError
   * `Conflict` (detail `existingTs`) when this or a newer timestamp is already there.
   */
  delete(location: ObjectLocation, ts: Timestamp): Promise<DeleteOutcome>;
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
