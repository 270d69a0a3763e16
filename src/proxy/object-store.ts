/**
 * ObjectStore: the one interface through which the API dialects (S3, Glance, Swift, hooks) reach storage.
 * Behind it sit the storage policies, the rings and the storage-node clients; nothing here speaks HTTP to
 * clients or knows a dialect's error codes. Absence is a value (`undefined`), failures are ArcaErrors.
 */
import type { Readable } from 'node:stream';
import type { Timestamp } from '../common/timestamp.js';

/** A bucket as the proxy knows it: who owns it, how its objects are stored, and its settings. */
export interface BucketInfo {
  name: string;
  /** The owning account. */
  account: string;
  /** Storage policy name (`replica-3`, `ec-8+4`, …). */
  policy: string;
  createdTs: Timestamp;
  /** Bucket settings (ACL, CORS, tags, location, …), each key the newest value written. */
  meta: Record<string, unknown>;
}

/** A bucket in an account's bucket list. */
export interface BucketSummary {
  name: string;
  createdTs: Timestamp;
}

/** Everything known about one stored object version. */
export interface ObjectInfo {
  bucket: string;
  key: string;
  /** The version's timestamp; Last-Modified derives from it. */
  ts: Timestamp;
  /** Size in bytes as a client sees it. */
  size: number;
  /** ETag without quotes. */
  etag: string;
  contentType: string;
  /** Everything else kept with the object by the dialect that wrote it (user metadata, headers, checksums). */
  meta: Record<string, unknown>;
  /** For an object made of segments (multipart): how many. */
  parts?: number;
  /** In a bucket with versioning configured: the version's id (`null` for the null version). */
  versionId?: string;
  /** The version is a delete marker (versioned buckets; only when asked for by versionId). */
  deleteMarker?: boolean;
}

/**
 * Bucket setting (`BucketInfo.meta.versioning`) that turns versioning on: `Enabled` keeps every write as a
 * version of its own, `Suspended` writes the `null` version again (docs/versioning.md).
 */
export type VersioningState = 'Enabled' | 'Suspended';

/** The versioning state of a bucket, if versioning was ever configured. */
export function versioningOf(bucket: BucketInfo): VersioningState | undefined {
  const v = bucket.meta.versioning;
  return v === 'Enabled' || v === 'Suspended' ? v : undefined;
}

/** True for a version id the store could have made (`null` included): 20 hex digits (docs/versioning.md). */
export function isValidVersionId(id: string): boolean {
  return id === 'null' || /^[0-9a-f]{20}$/.test(id);
}

/** Which version of an object: the current one when `versionId` is absent. */
export interface VersionOptions {
  /** A version id as listed (`null` for the null version); an id that is not well-formed reads as absent. */
  versionId?: string;
}

/**
 * A read: which version, and whether it must be the newest. A replicated object is read from one device
 * (Swift's default), which serves what it holds: right after a write that a device missed (it was down, and
 * is back before the replicator caught it up) that may be the older version. `newest` asks a read quorum of
 * devices and serves the newest version among them (Swift's `X-Newest`), so a read sees every acknowledged
 * write; it costs more node requests. Reads that decide a write (conditions, copies, cleanups) use it.
 */
export interface ObjectReadOptions extends VersionOptions {
  newest?: boolean;
}

/** A removal (delete, metadata update) and the object lock: see src/common/object-lock.ts. */
export interface RemoveOptions extends VersionOptions {
  /** Pass a GOVERNANCE retention (the caller was allowed s3:BypassGovernanceRetention). */
  bypassGovernance?: boolean;
}

/** What a delete did. */
export interface DeleteResult {
  /** A live version was found (and removed, or hidden by a delete marker). */
  existed: boolean;
  /** The version removed, or the delete marker made (versioned buckets). */
  versionId?: string;
  /** The version removed was a delete marker, or a delete marker was made. */
  deleteMarker?: boolean;
}

/** One version in ListObjectVersions order: by key, newest first. */
export interface ObjectVersionSummary extends ObjectSummary {
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
}

export interface ListVersionsOptions {
  prefix?: string;
  delimiter?: string;
  /** Versions after this key (all of its versions), or after `versionIdMarker` of it. */
  keyMarker?: string;
  versionIdMarker?: string;
  limit: number;
}

export interface ListVersionsPage {
  entries: Array<ObjectVersionSummary | { prefix: string }>;
  truncated: boolean;
  /** Where the next page starts (the last entry's key and the marker id to pass back), when truncated. */
  next?: { keyMarker: string; versionIdMarker?: string };
}

/** One segment of a manifest object: an object in the bucket's `segments` internal bucket. */
export interface SegmentRef {
  key: string;
  size: number;
  etag: string;
  /**
   * Dialect data about the segment, kept in the manifest exactly as given and returned by `getManifest`
   * (S3 keeps the part's checksum and its SSE-C IV here); the store itself ignores it.
   */
  extra?: Record<string, unknown>;
}

export interface PutManifestInput {
  /** The segments, in order; the object's bytes are their concatenation. */
  segments: SegmentRef[];
  contentType: string;
  /** The object's ETag (the caller computes it: S3 multipart ETags are `md5(part md5s)-N`). */
  etag: string;
  /**
   * The key prefix (in the `segments` bucket) that this object's segments, and no other object's, live
   * under. When set, the store deletes what is under it once the object is replaced or deleted (keeping the
   * segments of a replacing manifest). Without it, segments outlive the manifest until their writer
   * collects them.
   */
  segmentPrefix?: string;
  meta?: Record<string, unknown>;
  listing?: Record<string, unknown>;
  /** As {@link PutObjectInput.event}. */
  event?: string;
}

/** What internal buckets hold: parts of multipart objects, or in-progress upload records. */
export type InternalPurpose = 'segments' | 'uploads' | 'versions';

/** An object in a listing page. */
export interface ObjectSummary {
  key: string;
  ts: Timestamp;
  size: number;
  etag: string;
  contentType: string;
  /** Extra listing fields the writer asked to keep (`PutObjectInput.listing`). */
  listing?: Record<string, unknown>;
}

/** What a writer learns only once the whole body has streamed through. */
export interface PutFinish {
  etag: string;
  /** Metadata known only at the end (checksums, …), merged over `PutObjectInput.meta`. */
  meta?: Record<string, unknown>;
  listing?: Record<string, unknown>;
}

export interface PutObjectInput {
  /** The object bytes; the store reads it exactly once, with backpressure. */
  body: Readable;
  contentType: string;
  /** Metadata known before the body (user metadata, content headers, …). */
  meta?: Record<string, unknown>;
  /** Extra fields for the object's listing row. */
  listing?: Record<string, unknown>;
  /** What the bucket's change feed calls this write (`ObjectCreated:Put` when not given): see {@link ChangeFeed}. */
  event?: string;
  /** Compute hooks that produced this object (the change feed carries it, so a hook never runs on its own output). */
  origin?: string[];
  /**
   * Called once the body has ended and before anything is committed, with the byte count; returns what is
   * known only then (the ETag above all). Throwing aborts the write: nothing becomes visible.
   */
  finish(info: { size: number }): PutFinish | Promise<PutFinish>;
}

/** A byte range as a client asks for it, before the object size is known. */
export type { RangeSpec } from '../common/byte-range.js';
import type { RangeSpec } from '../common/byte-range.js';

export interface GetObjectResult {
  info: ObjectInfo;
  /** The bytes: the whole object, or the resolved `range`. */
  body: Readable;
  /** The inclusive byte range served, when a range was asked for and satisfiable. */
  range?: { start: number; end: number };
}

export interface ListObjectsOptions {
  prefix?: string;
  /** Rolls keys sharing a prefix up to the delimiter into one common prefix. Empty means none. */
  delimiter?: string;
  /** Entries strictly after this name. */
  marker?: string;
  /** At most this many entries (objects plus common prefixes). */
  limit: number;
}

export interface ListObjectsPage {
  entries: Array<ObjectSummary | { prefix: string }>;
  /** True when more entries follow the last one. */
  truncated: boolean;
}

/** One change of a bucket as its change feed reports it: an object version written or deleted. */
export interface ChangeRecord {
  /** The change number on the replica that reported it. */
  seq: number;
  key: string;
  /** The version's timestamp (larger for a later version of the key). */
  ts: Timestamp;
  deleted: boolean;
  /** `ObjectCreated:Put|Post|Copy|CompleteMultipartUpload` or `ObjectRemoved:Delete`. */
  event: string;
  size?: number;
  etag?: string;
  contentType?: string;
  /** Compute hooks that produced the object. */
  origin?: string[];
  /** When the replica recorded it (ms since the epoch, the storage node's clock). */
  at: number;
}

/** A page of one replica's change log. */
export interface ChangePage {
  /** The replica's id: change numbers are its own, and another replica (or this one re-created) numbers differently. */
  replica: string;
  /** The replica's latest change number. */
  head: number;
  changes: ChangeRecord[];
  more: boolean;
}

/**
 * A bucket's change feed: while the bucket's `changeLog` setting is on (`updateBucketMeta({changeLog: true})`),
 * each of its listing replicas records every object write and delete with the listing update of the write
 * itself, so a change is recorded exactly when the write is. Each replica numbers its own changes;
 * `rowStates` tells how far a replica has seen a key, so a reader can relate one replica's log to another's.
 */
export interface ChangeFeed {
  /** How many replicas keep the log (the listing replicas, by index). */
  readonly replicas: number;
  /** Changes of replica `replica` after change `after`; undefined when that replica cannot be reached. */
  read(replica: number, after: number, limit: number): Promise<ChangePage | undefined>;
  /** The newest version of each key on a replica with its change number (undefined: no row; whole result undefined: unreachable). */
  rowStates(replica: number, keys: readonly string[]): Promise<Array<{ ts: Timestamp; seq: number; deleted: boolean } | undefined> | undefined>;
  /** Drops a replica's entries recorded before `beforeMs`; the count, or undefined when unreachable. */
  trim(replica: number, beforeMs: number): Promise<number | undefined>;
}

export type CreateBucketOutcome = 'created' | 'already-owned' | 'taken';

export interface ObjectStore {
  /** Creates a bucket for `account`; bucket names are one namespace across all accounts. */
  createBucket(account: string, name: string, opts?: { policy?: string; meta?: Record<string, unknown> }): Promise<CreateBucketOutcome>;
  getBucket(name: string): Promise<BucketInfo | undefined>;
  /** Sets (or with `null`, removes) bucket settings. */
  updateBucketMeta(bucket: BucketInfo, meta: Record<string, unknown>): Promise<void>;
  /**
   * Deletes an empty bucket; `'not-empty'` when objects remain. What its internal companions hold (parts of
   * incomplete multipart uploads, upload records) goes with it.
   */
  deleteBucket(bucket: BucketInfo): Promise<'deleted' | 'not-empty'>;
  listBuckets(account: string): Promise<BucketSummary[]>;
  /** Object and byte counts of a bucket (as its listing knows them). */
  bucketStats(bucket: BucketInfo): Promise<{ objectCount: number; bytesUsed: number }>;

  putObject(bucket: BucketInfo, key: string, input: PutObjectInput): Promise<ObjectInfo>;
  /** The current version, or the version asked for (a delete marker has `deleteMarker` set); undefined when absent. */
  headObject(bucket: BucketInfo, key: string, opts?: ObjectReadOptions): Promise<ObjectInfo | undefined>;
  /**
   * Reads an object (or one of its versions; a delete marker reads as an empty body with `deleteMarker`); a
   * range that cannot be satisfied throws ArcaError `RangeNotSatisfiable` with `detail.size`.
   */
  getObject(bucket: BucketInfo, key: string, opts?: { range?: RangeSpec } & ObjectReadOptions): Promise<GetObjectResult | undefined>;
  /**
   * Deletes an object (a tombstone), or in a versioned bucket makes a delete marker; with `versionId`,
   * removes that version for good. A version under an object lock throws ArcaError `Locked`.
   */
  deleteObject(bucket: BucketInfo, key: string, opts?: RemoveOptions): Promise<DeleteResult>;
  listObjects(bucket: BucketInfo, opts: ListObjectsOptions): Promise<ListObjectsPage>;
  /**
   * Moves an object's (or a version's) bytes to storage policy `policy` in place: same version, ETag and
   * Last-Modified; reads follow (src/proxy/transition.ts). 'skipped' when there is nothing to move: no such
   * object, a locked version, a delete marker, a multipart object, or already there.
   */
  transitionObject(bucket: BucketInfo, key: string, policy: string, opts?: VersionOptions): Promise<'moved' | 'skipped'>;
  /** Names of the cluster's storage policies (what a bucket, or a lifecycle transition, may name). */
  storagePolicies(): string[];
  /** Every version and delete marker (and the null version of objects older than versioning), by key, newest first. */
  listObjectVersions(bucket: BucketInfo, opts: ListVersionsOptions): Promise<ListVersionsPage>;

  /**
   * Changes an object's metadata without rewriting its bytes (tags, ACL): keys of `patch` are set, `null`
   * removes one. The version (timestamp, Last-Modified, ETag) stays. Undefined when there is no object.
   */
  updateObjectMeta(bucket: BucketInfo, key: string, patch: Record<string, unknown>, opts?: RemoveOptions): Promise<ObjectInfo | undefined>;
  /**
   * Writes an object whose bytes are the concatenation of segments already stored in the bucket's
   * `segments` internal bucket; reads stream them in order, without copying.
   */
  putManifest(bucket: BucketInfo, key: string, input: PutManifestInput): Promise<ObjectInfo>;
  /** The manifest of an object made of segments, or undefined for a plain object (or none). */
  getManifest(bucket: BucketInfo, key: string, opts?: ObjectReadOptions): Promise<{ info: ObjectInfo; segments: SegmentRef[] } | undefined>;
  /**
   * A bucket's internal companion, stored like it (same owner and policy) but invisible to clients:
   * `segments` for parts of multipart objects, `uploads` for in-progress upload records.
   */
  internalBucket(bucket: BucketInfo, purpose: InternalPurpose): Promise<BucketInfo>;
  /** Like {@link internalBucket}, but creates nothing: undefined when the companion was never made. */
  findInternalBucket(bucket: BucketInfo, purpose: InternalPurpose): Promise<BucketInfo | undefined>;
  /**
   * Names of all buckets of all accounts, in name order, a page at a time (`marker`: after this name), for
   * background workers that sweep every bucket.
   */
  listAllBuckets(opts: { marker?: string; limit: number }): Promise<{ names: string[]; truncated: boolean }>;
  /** The bucket's change feed (empty while its `changeLog` setting is off). */
  changeFeed(bucket: BucketInfo): ChangeFeed;
}
