/**
 * Listing databases: per-bucket (container) listings of objects and per-account listings of buckets, kept per
 * device and placed by partition like Swift's container and account DBs. Two backends implement
 * `ListingStore` — `LevelListingStore` (one Level DB per device) and `MemoryListingStore` — and one
 * conformance suite holds both to this contract.
 */
import { isTimestamp, type Timestamp } from '../src/common/timestamp.js';
import type {
  ChangeLogPage,
  ChangeRowState,
  ListingCreate,
  ListingInfo,
  ListingMetaUpdate,
  ListingPage,
  ListingReplicaInfo,
  ListingReplicateBatch,
  ListingRow,
  ListingRowsUpdate,
} from '../src/common/wire.js';

/** Which listing: an account listing when `bucket` is undefined, else the bucket's container listing. */
export interface ListingRef {
  device: string;
  partition: number;
  account: string;
  bucket?: string;
}

/** What a listing page asks for; bounds compare names in UTF-8 byte order. */
export interface ListingQuery {
  prefix?: string;
  delimiter?: string;
  /** Only names after it (before it with `reverse`). */
  marker?: string;
  /** Only names before it (after it with `reverse`). */
  endMarker?: string;
  limit: number;
  reverse?: boolean;
}

/** Result of a create: `created` (new or revived), `accepted` (existed; meta merged), `deleted` (deleted later than `ts`). */
export type CreateOutcome = 'created' | 'accepted' | 'deleted';

/** Result of a delete: `conflict` when the listing was created at or after `ts`. */
export type DeleteListingOutcome = 'deleted' | 'not-empty' | 'not-found' | 'conflict';

/** Result of a rows merge; `conflicts` are the live rows that `ifAbsent` rows met. */
export type MergeOutcome = { found: false } | { found: true; conflicts: ListingRow[] };

export type IncomingRow = ListingRowsUpdate['rows'][number];

/** A listing's replication state on its device. */
export interface ListingSyncState {
  /** This replica's id (random; a listing that is removed and comes back gets a new one). */
  id: string;
  /** This replica's latest change: every change of a row, the info or the metadata takes the next number. */
  seq: number;
  /** What replicas compare to tell they hold the same listing (`syncDigest` in listing-merge.ts). */
  digest?: string;
}

/** Another replica's state, for `syncPoint`: `seq` counts as merged when this listing's digest is `digest`. */
export interface SyncMatch {
  seq: number;
  digest: string;
}

/** A run of a listing's changes, read from one consistent snapshot. */
export interface ListingChanges {
  info: ListingReplicaInfo;
  /** Rows changed after `since`, in change order, deleted ones with `deleted: true`. */
  rows: ListingRow[];
  /** Every change up to this one is covered by `info` and `rows` (with what came before `since`). */
  upTo: number;
  /** True when changes after `upTo` exist. */
  more: boolean;
}

/** The listing databases of a node's devices. Unknown or failed devices throw DeviceUnavailableError. */
export interface ListingStore {
  /** Creates the listing, or revives it when it was deleted before `req.ts`; merges `req.meta` either way. */
  create(ref: ListingRef, req: ListingCreate): Promise<CreateOutcome>;
  /** Merges metadata keys by timestamp; false when there is no live listing. */
  updateMeta(ref: ListingRef, req: ListingMetaUpdate): Promise<boolean>;
  /** Merges rows, newest timestamp per name winning, and keeps `objectCount`/`bytesUsed` exact. */
  mergeRows(ref: ListingRef, rows: readonly IncomingRow[]): Promise<MergeOutcome>;
  /** The listing's info, also when it is deleted (`deletedTs` set); undefined when there is none. */
  info(ref: ListingRef): Promise<ListingInfo | undefined>;
  /** A page of live rows and common prefixes; undefined when there is no live listing. */
  list(ref: ListingRef, query: ListingQuery): Promise<ListingPage | undefined>;
  /** The same page as its JSON text (what the listing server sends), built without parsing stored rows where the backend can. */
  listJson(ref: ListingRef, query: ListingQuery): Promise<string | undefined>;
  /** Deletes an empty listing at `ts`. */
  delete(ref: ListingRef, ts: Timestamp): Promise<DeleteListingOutcome>;
  /**
   * Forgets deleted rows older than `before` (reclaim age passed) — with `upToSeq`, only those whose change is
   * at most that number (what every other replica has merged); returns how many.
   */
  reclaim(ref: ListingRef, before: Timestamp, upToSeq?: number): Promise<number>;
  close(): Promise<void>;

  // Replication (the listing replicator and its peers).

  /** Partitions the device holds listings of, ascending. */
  partitions(device: string): Promise<number[]>;
  /** Up to `limit` listings of a partition on the device, in key order, after `after` (paging). */
  listingsIn(device: string, partition: number, limit: number, after?: ListingRef): Promise<ListingRef[]>;
  /** The listing's replica id and latest change; undefined when there is no listing (live or deleted). */
  syncState(ref: ListingRef): Promise<ListingSyncState | undefined>;
  /**
   * Up to which change of replica `id` this listing has merged; 0 when none (or no listing). With `match`,
   * when this listing's digest equals the other replica's (it holds the same rows and info), that replica's
   * `seq` is recorded as merged and answered: its changes need not be sent (Swift's replicators compare their
   * databases' hashes the same way before sending rows).
   */
  syncPoint(ref: ListingRef, id: string, match?: SyncMatch): Promise<number>;
  /** The listing's changes after `since`: at most `limit` rows, with the info; undefined when there is no listing. */
  changesSince(ref: ListingRef, since: number, limit: number): Promise<ListingChanges | undefined>;
  /**
   * Merges a batch of another replica's changes: info by `mergeReplicaInfo`, rows newest-wins (also into a
   * deleted listing; a missing listing is created), then records that replica `batch.id` is merged up to
   * `batch.upTo`. A deleted row older than `reclaimBefore` for a name this listing has no row of is dropped:
   * it was (or is about to be) reclaimed here, and taking it back would only start it on another round.
   */
  mergeReplica(ref: ListingRef, batch: ListingReplicateBatch, opts?: { reclaimBefore?: Timestamp }): Promise<void>;
  /** Removes the whole listing if its latest change is still `ifSeq` (a handoff gave it back); true when removed. */
  removeListing(ref: ListingRef, ifSeq: number): Promise<boolean>;

  // The change log (change-log.ts): kept while the listing's `changeLog` metadata is set.

  /** Up to `limit` change log entries after change `after`, in change order; undefined when there is no listing. */
  readChanges(ref: ListingRef, after: number, limit: number): Promise<ChangeLogPage | undefined>;
  /** The newest row of each name with its change number (null: none); undefined when there is no listing. */
  changeRows(ref: ListingRef, names: readonly string[]): Promise<Array<ChangeRowState | null> | undefined>;
  /** Drops up to `maxTrimPerCall` of the oldest entries that arrived before `beforeMs`; returns how many. */
  trimChanges(ref: ListingRef, beforeMs: number): Promise<number>;
}

/** Largest page a listing GET returns (Swift's container listing limit). */
export const maxListingLimit = 10_000;

/** Why a listing reference is unusable, or undefined when it is fine (names must be NUL-free UTF-8). */
export function checkListingRef(ref: ListingRef): string | undefined {
  if (!Number.isSafeInteger(ref.partition) || ref.partition < 0 || ref.partition > 0xffffffff) return 'bad partition';
  if (!isName(ref.account) || ref.account.includes('\0')) return 'bad account name';
  if (ref.bucket !== undefined && (!isName(ref.bucket) || ref.bucket.includes('\0'))) return 'bad bucket name';
  return undefined;
}

/** Why a row is malformed, or undefined when it is well-formed. */
export function checkRow(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'a row must be an object';
  const r = row as Record<string, unknown>;
  if (!isName(r.name)) return 'row name must be a non-empty, well-formed string';
  if (!isTimestamp(r.ts)) return `row ${r.name}: bad ts`;
  if (r.deleted !== undefined && typeof r.deleted !== 'boolean') return `row ${r.name}: bad deleted`;
  if (r.ifAbsent !== undefined && typeof r.ifAbsent !== 'boolean') return `row ${r.name}: bad ifAbsent`;
  if (r.size !== undefined && (!Number.isSafeInteger(r.size) || (r.size as number) < 0)) return `row ${r.name}: bad size`;
  if (r.etag !== undefined && typeof r.etag !== 'string') return `row ${r.name}: bad etag`;
  if (r.contentType !== undefined && typeof r.contentType !== 'string') return `row ${r.name}: bad contentType`;
  if (r.value !== undefined && !isPlainObject(r.value)) return `row ${r.name}: bad value`;
  return undefined;
}

/** Why listing metadata is malformed, or undefined. */
export function checkMeta(meta: unknown): string | undefined {
  return meta === undefined || isPlainObject(meta) ? undefined : 'meta must be an object';
}

/** A listing replica id as listings make them (a UUID), safe to use in a key. */
export function isReplicaId(id: unknown): id is string {
  return typeof id === 'string' && /^[0-9a-f-]{1,64}$/.test(id);
}

function isName(s: unknown): s is string {
  // In a `u` regex, a surrogate class matches only lone surrogates, which have no UTF-8 form.
  return typeof s === 'string' && s !== '' && !/[\uD800-\uDFFF]/u.test(s);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
