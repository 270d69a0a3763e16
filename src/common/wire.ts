/**
 * The internal protocol between proxies and storage nodes (and between storage nodes): paths, headers and
 * the JSON shapes they carry. Both sides import this one definition; nothing else knows the wire format.
 *
 * Object server  `/o/{device}/{partition}/{account}/{bucket}/{key}`   (each name part encodeURIComponent'd)
 * Listing server `/l/{device}/{partition}/{account}`                    account listing (its buckets)
 *                `/l/{device}/{partition}/{account}/{bucket}`           container listing (its objects)
 * Health         `GET /healthcheck` → 200 `OK`
 * Recon          `GET /recon/status` → 200 JSON `ReconStatus`; `POST /recon/run?worker=NAME` (docs/status.md)
 *
 * Object server (policy index in `x-backend-storage-policy-index`, default 0):
 *  PUT    headers: timestamp, meta (everything known before the body), container-updates; body chunked;
 *         trailer `x-backend-footer` (what is known only after the body: etag, size, xxh64, checksums; see
 *         ObjectFooter) — or, for a body the sender holds whole, Content-Length and `x-backend-footer` as a
 *         header. `x-backend-container-updates` is a JSON array of ContainerUpdateTarget, plain or
 *         base64url (nodes accept both); the node POSTs the object's row to each (`?rows`) and queues it
 *         durably (async pending) for any that does not answer 2xx in time — the PUT still answers 201.
 *         The 409 may come before the body is read (then with `Connection: close`).
 *         The node verifies `size` and `xxh64` of the bytes it received against the footer, writes
 *         tmp → fsync → rename → fsync dir, updates its listing replicas, and answers 201. A request that ends
 *         without the footer, or is aborted, leaves nothing behind. 409 (with the existing timestamp) when the
 *         node already holds a newer or equal timestamp; 422 when size/xxh64 do not match; 507 when the device
 *         is unusable.
 *  GET/HEAD  200/206 with `x-backend-timestamp`, `x-backend-meta` (the whole ObjectMeta), Content-Length,
 *         Content-Range; honours one `Range: bytes=…` as RFC 9110 does (end clamped; 416 when unsatisfiable,
 *         with `Content-Range: bytes *\/size`). `x-backend-if-timestamp: TS` answers 412 unless the current
 *         data file has exactly that timestamp (no data file at all is still a 404). 404 when absent; a
 *         tombstone is a 404 with `x-backend-timestamp` and `x-backend-deleted: 1`.
 *  DELETE headers: timestamp, container-updates. Writes a tombstone when newer than what is there; 204 when a
 *         live object was there, 404 when not (the tombstone is still written); 409 when what is there is newer
 *         or equal (with its `x-backend-timestamp`). The deleted row goes to the listing replicas as for PUT.
 *  POST   (metadata update, Swift's fast-POST) headers: timestamp (newer than the data), meta = a JSON patch of
 *         ObjectMeta fields (a key set to null is removed; `name`, `ts`, `size`, `xxh64` cannot be patched).
 *         Writes `<ts>.meta` in the hash dir holding the patch merged over the previous `.meta` (if any), and
 *         removes older `.meta` files. GET/HEAD then answer the data's meta with the newest patch applied,
 *         `x-backend-timestamp` still the data's timestamp and `x-backend-meta-timestamp` the patch's. 202 with
 *         the merged `x-backend-meta`; 404 when there is no live data; 409 when the data, a tombstone or a
 *         `.meta` at or after `ts` is there. No listing update (listing rows do not carry patched fields).
 *         Replication carries the newest `.meta` with its data.
 *         `ec` cannot be patched either (400). A sync POST (`x-backend-replication: 1`) carries a `.meta`'s
 *         whole merged patch at its timestamp.
 *  Object lock (src/common/object-lock.ts): a version whose stored meta holds `legalHold: true` or a
 *         `retention` {mode, retainUntil} in force is never replaced nor deleted: PUT (and an EC commit) over it,
 *         DELETE of it, and a POST weakening its retention answer 423 with `x-backend-locked`; nothing changes.
 *         `x-backend-bypass-governance: 1` lets a DELETE or POST pass a GOVERNANCE retention (never a legal
 *         hold or COMPLIANCE); sync writes are checked the same way (a sync POST passes governance).
 *  Expiry: a version whose meta holds `deleteAt` (ms since the epoch) is answered 404 by GET/HEAD from then
 *         on; the node's expirer writes its tombstone at that time (docs/versioning.md).
 *  Replaced versions: a 201 to PUT and a 204 to DELETE carry `x-backend-replaced-meta` (the merged ObjectMeta
 *         of the live version they replaced, when there was one), so the proxy can clean up what an old
 *         version referenced (segments of a manifest) without reading it first; and, when a `.meta` was
 *         applied to it, `x-backend-replaced-meta-timestamp` (the proxy keeps the newest report). For EC the
 *         replaced version is reported by the commit (202), when the new archive becomes the version.
 *
 * Fragment archives (policies `ec-K+M`; docs/erasure.md): every write names its archive with
 * `x-backend-fragment-index` (0..k+m-1; required for EC policies, refused for replicated ones).
 *  PUT    as above, but phase 1 of a two-phase commit: the meta header carries `ec: {scheme, k, m, segmentSize}`
 *         (enough to cut the body in fragments), the footer `ec: FragmentArchiveInfo` (with the object's
 *         `size`) and `objectSize`; the node hashes every fragment as it arrives (checksums kept with the
 *         file, never on the wire), checks the archive size against `ec`, and stores `<ts>#<frag>.data`,
 *         pending: not served, no listing update, no container-updates header needed. 201; 409 when a newer
 *         version, a tombstone at `ts`, or this very archive is there; 422 when the archive does not fit
 *         its `ec`. `x-backend-durable: 1` on a sync PUT stores it durable at once (rebuilt, reverted).
 *  POST ?commit  phase 2. headers: timestamp, fragment index, container-updates. Renames the pending archive
 *         to `<ts>#<frag>#d.data` (durable: it becomes the version and what it replaces goes), updates the
 *         listing replicas; 202 (also when it was durable already); 404 when no such archive is here; 409
 *         when a newer version (or a tombstone at `ts`) is.
 *  GET/HEAD  with `x-backend-fragment-index`: that archive of the version (404 when this device holds the
 *         version but not that index); without: any archive of it. The answer names its
 *         `x-backend-fragment-index`. Pending archives are never served. Ranges are archive byte ranges; the
 *         node reads the whole fragments covering them, checks each against its checksum, and cuts the
 *         response short at the first that does not match (a short body: the reader takes another archive).
 *  DELETE, POST  as for replicated objects: tombstones and `.meta` files hold for every archive of the hash dir.
 *
 * Listing server:
 *  PUT    body `ListingCreate`: creates the listing, or revives a deleted one older than `ts`, merging `meta`
 *         per key; 201 created, 202 when it already existed (meta still merged); 404 (+ deleted headers) when
 *         it was deleted at or after `ts`.
 *  POST   body `ListingMetaUpdate`: merges metadata keys by timestamp; 204, 404 when there is no live listing.
 *  POST ?rows  body `ListingRowsUpdate`: merges rows (newest ts per name wins) and keeps the stats; 204;
 *         404 when there is no live listing; 409 with body `{conflicts: ListingRow[]}` when an `ifAbsent` row
 *         met a live row (nothing of that row changed; the other rows were merged).
 *  HEAD   204 with `x-backend-listing-info` (base64url JSON ListingInfo); 404 (+ deleted/timestamp headers).
 *  GET    ?prefix=&delimiter=&marker=&end_marker=&limit=&reverse=1 → 200 JSON `ListingPage`; 404 if no listing.
 *         `limit` defaults to (and is capped at) 10000. With `reverse`, names run downwards from `marker` to
 *         `end_marker`. A common prefix is listed only when it sorts after the marker, so a page may continue
 *         from a `{subdir}` used as the marker (as S3's NextMarker).
 *         Rows come in UTF-8 byte order of their names; deleted rows are never returned; with a delimiter, a
 *         run of names sharing a prefix up to the delimiter is one `{subdir}` entry, found by seeking past it.
 *  DELETE header timestamp: 204 when the listing was empty and is now deleted; 409 when it still has live
 *         rows or was created at or after that timestamp; 404 when there is none.
 *  Account and bucket names must be NUL-free; row names are any well-formed Unicode (400 otherwise).
 *  Change log (docs/hooks.md): a container listing whose metadata has `changeLog` set (truthy) records every
 *  row change it applies — from an object server's update, the updater or the listing replicator — as a
 *  `ChangeLogEntry`, numbered with the change number of the row (`seq`), in the same batch as the row.
 *  GET    `?changes&after=SEQ&limit=N` → 200 `ChangeLogPage` (entries after `after`, in change order; `limit`
 *         defaults to and is capped at 1000); 404 when there is no listing.
 *  POST   `?changes` body `{names: string[]}` (at most 1000) → 200 `{rows: Array<ChangeRowState | null>}`: the
 *         newest row of each name on this replica with its change number (null: no row).
 *  POST   `?changes` body `{trimBefore: ms}` → 200 `{trimmed: n}`: drops entries that arrived before then
 *         (at most 10,000 per call).
 *
 * Replication (storage node ↔ storage node; docs/repair.md):
 *  GET    `/o/{device}/{partition}?hashes[&recalculate=abc,def]` (policy header) → 200 JSON `SuffixHashes`:
 *         suffix → hash of the partition's suffix dirs, from the cache, recomputing the suffixes named in
 *         `recalculate` and any written since the last call; `{}` for a partition the device does not hold.
 *  GET    `/o/{device}?changes[&since=GEN][&digests][&all]` (policy header) → 200 JSON `PartitionChanges`: the
 *         node's epoch (new when it restarts or the device was wiped and made new), its change generation, and
 *         the partitions of the policy whose suffix hashes changed after generation GEN (default 0: since the
 *         start); 507 when the device is not there. The replicators ask only about those partitions. With
 *         `&digests`, also a digest of each changed partition's suffix hashes (`hashesDigest` of what `?hashes`
 *         would answer), up to `maxChangedDigests`: the asker takes a partition whose digest equals its own
 *         as in sync without a request, and asks `?hashes` of the others. With `&all` (a full pass), every
 *         partition the device holds is listed, changed or not, and `complete` is true when each came with its
 *         digest (a partition not listed is then not held). (An older node asked with `&hashes` for the maps
 *         themselves; a node that does not know the flag answers without them, and the asker asks each.)
 *  GET    `/o/{device}/{partition}?suffixes=abc,def` → 200 JSON `SuffixContents`: per suffix, per hash dir,
 *         its state: the newest version (`<ts>.data` or `<ts>.ts`; for EC `<ts>.data` stands for the durable
 *         archives at `<ts>` whatever their indexes, so primaries in sync hash alike) and ` <ts>.meta` when a
 *         `.meta` applies. With `&names`: `SuffixInventory`, each state with the object's name (the EC
 *         reconstructor fetches what it lacks by name). Suffix hashes cover the same states.
 *  PUT/DELETE of an object with `x-backend-replication: 1`: a sync write of exactly that version. PUT carries
 *         the whole stored ObjectMeta in `x-backend-meta` (its `ts` = the timestamp header) and the footer
 *         `{size, xxh64}` of the stored body, which the node verifies as for any PUT. Neither sends listing
 *         updates (listings replicate themselves) nor needs `x-backend-container-updates`. Statuses as for
 *         proxy writes: 201/204/404 written, 409 a version as new or newer is already there.
 *  POST   `/l/{device}/{partition}?sync` body `ListingSyncRequest` → 200 `ListingSyncResponse`: for each
 *         listing, up to which change (`seq`) of the sender's replica (`id`) this replica has merged — all of
 *         them when it holds the same rows and info (the same digest).
 *  POST   `/l/{device}/{partition}/{account}[/{bucket}]?replicate` body `ListingReplicateBatch` → 204: merges
 *         info, metadata, deleted state and rows (also into a deleted listing; creates a missing one), then
 *         records that changes of replica `id` up to `upTo` are merged.
 *
 * Recon (Swift's recon middleware; read by the proxy's admin API, docs/status.md):
 *  GET    `/recon/status` → 200 JSON `ReconStatus`: the node's devices (df, partitions held and out of place,
 *         async pendings, quarantined files) and the last pass of each worker.
 *  POST   `/recon/run?worker=NAME` (NAME a `ReconWorkerName`) → 200 JSON `ReconPass`: runs one pass of that
 *         worker now (after any pass in progress) and answers it; 404 unless the node's config sets
 *         `reconRun` (tests, one-off passes); 400 for an unknown worker.
 */
import type { Timestamp } from './timestamp.js';

/** Header names of the internal protocol (lower case, as Node presents them). */
export const BackendHeader = {
  timestamp: 'x-backend-timestamp',
  policyIndex: 'x-backend-storage-policy-index',
  meta: 'x-backend-meta',
  footer: 'x-backend-footer',
  containerUpdates: 'x-backend-container-updates',
  deleted: 'x-backend-deleted',
  ifTimestamp: 'x-backend-if-timestamp',
  listingInfo: 'x-backend-listing-info',
  fragmentIndex: 'x-backend-fragment-index',
  metaTimestamp: 'x-backend-meta-timestamp',
  replacedMeta: 'x-backend-replaced-meta',
  /** Timestamp of the `.meta` applied to `x-backend-replaced-meta`, when one was (picks the newest of several reports). */
  replacedMetaTimestamp: 'x-backend-replaced-meta-timestamp',
  /** `1` on a replicator's sync write (no listing updates; the meta header is the whole stored ObjectMeta). */
  replication: 'x-backend-replication',
  /** `1` on a sync PUT of a fragment archive that is durable at its source: it is installed durable at once. */
  durable: 'x-backend-durable',
  /** `1` on a DELETE or POST allowed to pass a governance retention (S3's x-amz-bypass-governance-retention). */
  bypassGovernance: 'x-backend-bypass-governance',
  /** On a 423: what lock refused the change (`legal-hold`, `compliance`, `governance`). */
  locked: 'x-backend-locked',
} as const;

/** Where a storage node should send the listing update for an object it wrote. */
export interface ContainerUpdateTarget {
  ip: string;
  port: number;
  device: string;
  partition: number;
}

/**
 * Metadata stored with every object (or fragment archive) on a storage node. The node itself only relies on
 * `name`, `ts`, `size`, `xxh64` and on the listing fields; everything else is the proxy's.
 */
export interface ObjectMeta {
  /** `/account/bucket/key`, unencoded. */
  name: string;
  ts: Timestamp;
  /** Bytes stored in this file (for EC: of the fragment archive). */
  size: number;
  /** XXH64 (hex, 16 digits) of the bytes stored in this file, checked by the auditor. */
  xxh64: string;
  /** S3 ETag without quotes (hex MD5, or `md5-N` for multipart). */
  etag: string;
  contentType: string;
  /** Size of the whole object as a client sees it (differs from `size` for EC fragment archives). */
  objectSize?: number;
  /** Extra fields the listing row of this object carries (`ListingRow.value`). */
  listing?: Record<string, unknown>;
  /** Object lock: retention of this version (src/common/object-lock.ts); enforced by the nodes. */
  retention?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; retainUntil: number };
  /** Object lock: a legal hold on this version; enforced by the nodes. */
  legalHold?: boolean;
  /** Expiry time (ms since the epoch; Swift's X-Delete-At): not served from then on, removed by the expirer. */
  deleteAt?: number;
  /** Anything else the proxy keeps with the object (user metadata, checksums, content headers, …). */
  [field: string]: unknown;
}

/**
 * What the `ec` field of a fragment archive's ObjectMeta holds: how the object was cut and coded, so any
 * reader (proxy, reconstructor) decodes it without knowing the policy's settings at write time.
 */
export interface FragmentArchiveInfo {
  /** The code (`CODEC_SCHEME` of src/erasure), e.g. `ronomon-cauchy-v1`. */
  scheme: string;
  k: number;
  m: number;
  /** Bytes per segment (the last one may be shorter). */
  segmentSize: number;
  /** Bytes of the object body that was encoded (the fragment archive is `fragmentArchiveSize(size, k, segmentSize)`). */
  size: number;
  /** Fragment index of this archive (0..k+m-1). */
  frag: number;
}

/**
 * The `x-backend-footer` trailer of an object PUT (base64url JSON, as `encodeHeaderJson` makes it): what is
 * known only after the body. The node checks `size` and `xxh64` against the bytes it received and stores
 * `{...meta header, ...footer, name, ts}` as the object's ObjectMeta.
 */
export interface ObjectFooter {
  size: number;
  xxh64: string;
  etag?: string;
  [field: string]: unknown;
}

/** One row of a listing: an object in a container listing, a bucket in an account listing. */
export interface ListingRow {
  name: string;
  ts: Timestamp;
  deleted?: boolean;
  /** Bytes this row counts in the listing's `bytesUsed`. */
  size?: number;
  etag?: string;
  contentType?: string;
  /** Free-form extra data of the row. */
  value?: Record<string, unknown>;
}

/** A listing page entry: a row, or a common prefix when a delimiter was given. */
export type ListingEntry = ListingRow | { subdir: string };

export interface ListingInfo {
  createdTs: Timestamp;
  /** Set when the listing was deleted at that time (and not revived since). */
  deletedTs?: Timestamp;
  /** Listing metadata, each key the value of its newest write. */
  meta: Record<string, unknown>;
  objectCount: number;
  bytesUsed: number;
}

export interface ListingCreate {
  ts: Timestamp;
  meta?: Record<string, unknown>;
}

export interface ListingMetaUpdate {
  ts: Timestamp;
  /** Keys to set; a value of `null` removes the key. */
  meta: Record<string, unknown>;
}

export interface ListingRowsUpdate {
  rows: Array<ListingRow & { ifAbsent?: boolean }>;
}

export interface ListingPage {
  info: ListingInfo;
  entries: ListingEntry[];
  /** True when `limit` cut the page short (more entries follow the last one). */
  truncated: boolean;
}

/** Listing metadata key: a container listing with this key set (to anything but null) keeps a change log. */
export const changeLogMetaKey = 'changeLog';

/**
 * Row value fields (`ListingRow.value`, from `ObjectMeta.listing`) a change log entry takes from a row: the
 * event the writer names (`ObjectCreated:Put`, …; a deleted row is `ObjectRemoved:Delete`) and the chain of
 * compute hooks that wrote the object (a hook never runs on its own output).
 */
export const changeEventField = 'event';
export const changeOriginField = 'origin';

/** One applied row change in a listing's change log. */
export interface ChangeLogEntry {
  /** The change number (this replica's; every replica numbers its own changes). */
  seq: number;
  /** The row's name (the object key). */
  key: string;
  /** The version's timestamp (a later version of a key has a larger one). */
  ts: Timestamp;
  deleted?: boolean;
  size?: number;
  etag?: string;
  contentType?: string;
  /** What the writer called the change (row value `event`); absent for a plain write. */
  event?: string;
  /** Hooks that produced the object (row value `origin`). */
  origin?: string[];
  /** When this replica applied it (milliseconds since the epoch, the node's clock). */
  at: number;
}

/** Answer to `GET …?changes`. */
export interface ChangeLogPage {
  /** The replica id (ListingSyncState.id): change numbers are this replica's. */
  id: string;
  /** The replica's latest change number. */
  head: number;
  entries: ChangeLogEntry[];
  /** True when more entries follow the last one. */
  more: boolean;
}

/** A row's state on one replica, for the change feed's cross-replica checks. */
export interface ChangeRowState {
  ts: Timestamp;
  seq: number;
  deleted?: boolean;
}

/**
 * Answer to `GET /o/{device}?changes&since=GEN`: which partitions of the policy changed on the device after
 * generation `since` of the node's current epoch.
 */
export interface PartitionChanges {
  /** Changes when the node restarts or the device was wiped and made new: then anything may have changed. */
  epoch: string;
  /** The node's current change generation (the `since` of the next request). */
  gen: number;
  /** Partitions whose suffix hashes changed after `since`, ascending. */
  partitions: number[];
  /**
   * Asked with `&digests`: by partition, the digest of its suffix hashes now (`hashesDigest`; some partitions
   * may be left out: ask those).
   */
  digests?: Record<string, string>;
  /** Asked with `&digests&all`: every partition the device holds is in `digests` (one not there is not held). */
  complete?: boolean;
}

/** Most partition digests one `?changes&digests` answer carries (~30 bytes each on the wire). */
export const maxChangedDigests = 65_536;

/** Suffix → hash of a partition's suffix dirs (the replicator compares these with its peers). */
export type SuffixHashes = Record<string, string>;

/**
 * Suffix → hash dir → the hash dir's state: its version (`<ts>.data` or `<ts>.ts`; for EC `<ts>.data` stands
 * for the durable fragment archives at `<ts>`), then ` <ts>.meta` when a `.meta` applies to it.
 */
export type SuffixContents = Record<string, Record<string, string>>;

/** SuffixContents with each object's name (`?suffixes=…&names`): what the EC reconstructor needs to fetch it. */
export type SuffixInventory = Record<string, Record<string, { state: string; name: string }>>;

/** A listing's info as replicas exchange it: metadata keeps each key's timestamp (`null` = removed key). */
export interface ListingReplicaInfo {
  createdTs: Timestamp;
  deletedTs?: Timestamp;
  meta: Record<string, [value: unknown, ts: Timestamp]>;
}

/** Body of `POST /l/{device}/{partition}?sync`: the listings of the partition the sender holds. */
export interface ListingSyncRequest {
  /**
   * Each with the sender's replica id of that listing; and its latest change and digest: a replica whose own
   * digest is the same records `seq` as merged and answers it, so nothing is sent (older senders leave them out).
   */
  listings: Array<{ account: string; bucket?: string; id: string; seq?: number; digest?: string }>;
}

/** Answer to ListingSyncRequest, in the same order: the highest change of `id` merged here (0 = none). */
export interface ListingSyncResponse {
  points: number[];
}

/** Body of `POST …?replicate`: a run of changes of replica `id` of a listing, in change order. */
export interface ListingReplicateBatch {
  id: string;
  /** Every change of replica `id` up to this one is in this batch or an earlier one. */
  upTo: number;
  info: ListingReplicaInfo;
  /** Rows changed, deleted rows included (`deleted: true`). */
  rows: ListingRow[];
}

/** The background workers of a storage node, as recon names them. */
export const reconWorkerNames = ['updater', 'replicator', 'reconstructor', 'listingReplicator', 'auditor', 'deviceMonitor', 'expirer'] as const;
export type ReconWorkerName = (typeof reconWorkerNames)[number];

/** One pass of a worker: when it started (ISO 8601), how long it took, and what the worker reported. */
export interface ReconPass {
  start: string;
  durationMs: number;
  /** The stats the worker's `runOnce()` returned (absent when the pass failed). */
  stats?: Record<string, number>;
  /** Why the pass failed. */
  error?: string;
}

/** A worker of a node: its loop interval, the pass running now (if any) and the last one finished. */
export interface ReconWorker {
  name: ReconWorkerName;
  /** Seconds between passes; 0 when the loop is off (passes run only through `/recon/run`). */
  intervalSec: number;
  /** Start of the pass in progress (ISO 8601). */
  running?: string;
  last?: ReconPass;
}

/** Partitions of one ring on a device: `object-N` (policy N), or `listings` (account and container rings). */
export interface ReconPartitions {
  ring: string;
  held: number;
  /** Held partitions the device is not a primary of under the current ring (handoffs, leftovers of a rebalance). */
  outOfPlace: number;
}

/** One device of a node. */
export interface ReconDevice {
  device: string;
  /** False when the device dir or its `tmp/` is missing (unmounted, or wiped and not yet recreated). */
  mounted: boolean;
  /** The device dir's file system (`st_dev`): devices of one host with the same value share their space. */
  filesystem?: number;
  /** File system of the device dir (statfs), bytes. */
  size?: number;
  used?: number;
  avail?: number;
  partitions: ReconPartitions[];
  /** Queued listing updates (files in `async_pending/`). */
  asyncPending: number;
  /** Files under `quarantined/`. */
  quarantined: number;
  /** Why something could not be read (the rest of the record is what could be). */
  error?: string;
}

/**
 * Objects (and listing rows) the last pass of the repair workers found out of sync and pushed, rebuilt, made
 * durable or handed back, and the requests of those passes that failed (what a failed request would have
 * repaired is still waiting). Zero everywhere once the cluster is in sync.
 */
export interface ReconAwaiting {
  objects: number;
  listingRows: number;
  failedRequests: number;
}

/** Answer of `GET /recon/status`. */
export interface ReconStatus {
  ip: string;
  port: number;
  /** When the node process started and the time of this answer (ISO 8601). */
  startedAt: string;
  time: string;
  devices: ReconDevice[];
  workers: ReconWorker[];
  awaiting: ReconAwaiting;
}

/** Path of an object on the object server. */
export function objectPath(device: string, partition: number, account: string, bucket: string, key: string): string {
  return `/o/${encodeURIComponent(device)}/${partition}/${encodeURIComponent(account)}/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
}

/** Path of an account listing (`bucket` undefined) or container listing on the listing server. */
export function listingPath(device: string, partition: number, account: string, bucket?: string): string {
  const base = `/l/${encodeURIComponent(device)}/${partition}/${encodeURIComponent(account)}`;
  return bucket === undefined ? base : `${base}/${encodeURIComponent(bucket)}`;
}

/** Path of a whole partition on the object server (`server` 'o') or the listing server ('l'); replication. */
export function partitionPath(server: 'o' | 'l', device: string, partition: number): string {
  return `/${server}/${encodeURIComponent(device)}/${partition}`;
}

export type ParsedBackendPath =
  | { kind: 'object'; device: string; partition: number; account: string; bucket: string; key: string }
  | { kind: 'partition'; server: 'object' | 'listing'; device: string; partition: number }
  | { kind: 'device'; device: string }
  | { kind: 'listing'; device: string; partition: number; account: string; bucket?: string }
  | { kind: 'healthcheck' }
  | { kind: 'recon'; what: 'status' | 'run' };

/** Parses a backend request path (without query); undefined when it is not one of ours. */
export function parseBackendPath(path: string): ParsedBackendPath | undefined {
  if (path === '/healthcheck') return { kind: 'healthcheck' };
  if (path === '/recon/status') return { kind: 'recon', what: 'status' };
  if (path === '/recon/run') return { kind: 'recon', what: 'run' };
  const parts = path.split('/');
  // ['', 'o'|'l', device, partition, account?, bucket?, key?]
  if (parts[0] === '' && parts[1] === 'o' && parts.length === 3) {
    let device: string;
    try {
      device = decodeURIComponent(parts[2]);
    } catch {
      return undefined;
    }
    return device ? { kind: 'device', device } : undefined;
  }
  if (parts[0] !== '' || parts.length < 4) return undefined;
  let decoded: string[];
  try {
    decoded = parts.slice(2).map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
  const [device, partText, account, bucket, key] = decoded;
  const partition = Number(partText);
  if (!device || partText === '' || !Number.isInteger(partition) || partition < 0) return undefined;
  if (parts.length === 4 && (parts[1] === 'o' || parts[1] === 'l')) {
    return { kind: 'partition', server: parts[1] === 'o' ? 'object' : 'listing', device, partition };
  }
  if (!account) return undefined;
  if (parts[1] === 'o' && parts.length === 7 && bucket && key !== undefined && key !== '') {
    return { kind: 'object', device, partition, account, bucket, key };
  }
  if (parts[1] === 'l' && parts.length === 5) return { kind: 'listing', device, partition, account };
  if (parts[1] === 'l' && parts.length === 6 && bucket) return { kind: 'listing', device, partition, account, bucket };
  return undefined;
}

/** Encodes a JSON value for a header (base64url). */
export function encodeHeaderJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a header made by `encodeHeaderJson`; undefined when absent or malformed. */
export function decodeHeaderJson<T>(header: string | string[] | undefined): T | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  try {
    return JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
