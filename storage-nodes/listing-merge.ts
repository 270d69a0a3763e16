/**
 * The merge rules of listings, shared by every ListingStore backend as pure functions: how info is
 * created, revived, deleted and its metadata merged per key, what an incoming row does to a name, and how a
 * replica's info merges into the local one. Keeping them pure is what lets two backends and the replicas of
 * a listing converge on the same state (the one impurity: a listing's new replica id is random).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Timestamp } from '../src/common/timestamp.js';
import type { ListingCreate, ListingInfo, ListingReplicaInfo, ListingRow } from '../src/common/wire.js';
import type { CreateOutcome, DeleteListingOutcome, IncomingRow, ListingSyncState } from './listing-store.js';

/** Info as stored: metadata keeps each key's timestamp (a removed key keeps `null` to shadow older writes). */
export interface StoredInfo {
  createdTs: Timestamp;
  deletedTs?: Timestamp;
  meta: Record<string, [value: unknown, ts: Timestamp]>;
  objectCount: number;
  bytesUsed: number;
  /** This replica's id (replicas record how far they merged its changes by it); set at the first change. */
  id?: string;
  /** This replica's change counter: the number of the latest change of a row, the info or the metadata. */
  seq?: number;
  /** At most the oldest deleted row's timestamp (undefined: none), so reclaim skips listings with nothing to do. */
  oldestDeadTs?: Timestamp;
  /** The rows' digest (`toggleRow`), kept as rows change; undefined until first computed (level store: `syncState`). */
  digest?: string;
  /** The change (`seq`) as of which `digest` is kept (a stored listing: an older version may have changed it since). */
  digestAt?: number;
}

/** A row as stored under its name (the name is the key). Deleted rows keep only their timestamp. */
export interface StoredRow {
  ts: Timestamp;
  /** The change that wrote the row (its place in the replica's change order). */
  seq?: number;
  size?: number;
  etag?: string;
  contentType?: string;
  value?: Record<string, unknown>;
}

/** The public form of stored info. */
export function publicInfo(info: StoredInfo): ListingInfo {
  const meta: Record<string, unknown> = {};
  for (const [k, [v]] of Object.entries(info.meta)) if (v !== null) meta[k] = v;
  const out: ListingInfo = { createdTs: info.createdTs, meta, objectCount: info.objectCount, bytesUsed: info.bytesUsed };
  if (info.deletedTs !== undefined) out.deletedTs = info.deletedTs;
  return out;
}

/** Merges metadata keys written at `ts` into `info` (in place): a key takes the value of its newest write. */
export function mergeMeta(info: StoredInfo, meta: Record<string, unknown> | undefined, ts: Timestamp): void {
  if (!meta) return;
  for (const [k, v] of Object.entries(meta)) {
    const old = info.meta[k];
    if (!old || old[1] < ts) info.meta[k] = [v === undefined ? null : v, ts];
  }
}

/** Applies a create to the info there is (maybe none); returns the new info unless nothing changes. */
export function applyCreate(info: StoredInfo | undefined, req: ListingCreate): { outcome: CreateOutcome; info?: StoredInfo } {
  if (!info) {
    const created: StoredInfo = { createdTs: req.ts, meta: {}, objectCount: 0, bytesUsed: 0, digest: emptyDigest };
    mergeMeta(created, req.meta, req.ts);
    return { outcome: 'created', info: created };
  }
  if (info.deletedTs !== undefined) {
    if (info.deletedTs >= req.ts) return { outcome: 'deleted' };
    const revived: StoredInfo = { ...info, createdTs: req.ts, meta: { ...info.meta } };
    delete revived.deletedTs;
    mergeMeta(revived, req.meta, req.ts);
    return { outcome: 'created', info: revived };
  }
  const merged: StoredInfo = { ...info, meta: { ...info.meta } };
  mergeMeta(merged, req.meta, req.ts);
  return { outcome: 'accepted', info: merged };
}

/** Applies a delete at `ts`; a listing is deleted only when empty and created before `ts`. */
export function applyDelete(info: StoredInfo | undefined, ts: Timestamp): { outcome: DeleteListingOutcome; info?: StoredInfo } {
  if (!info || info.deletedTs !== undefined) return { outcome: 'not-found' };
  if (info.objectCount > 0) return { outcome: 'not-empty' };
  if (info.createdTs >= ts) return { outcome: 'conflict' };
  return { outcome: 'deleted', info: { ...info, deletedTs: ts } };
}

/** What an incoming row does, given the live and deleted rows stored under its name. */
export type RowDecision =
  | { kind: 'ignore' }
  | { kind: 'conflict'; existing: ListingRow }
  | { kind: 'apply'; row: StoredRow; deleted: boolean; countDelta: number; bytesDelta: number };

/**
 * Newest timestamp per name wins (an equal timestamp changes nothing); an `ifAbsent` row that meets a live
 * row is a conflict whatever their timestamps. Stats move by what leaves and what enters the live set.
 */
export function decideRow(live: StoredRow | undefined, dead: StoredRow | undefined, incoming: IncomingRow): RowDecision {
  if (incoming.ifAbsent && live) return { kind: 'conflict', existing: rowOf(incoming.name, live) };
  const current = live ?? dead;
  if (current && current.ts >= incoming.ts) return { kind: 'ignore' };
  const deleted = incoming.deleted === true;
  const row: StoredRow = deleted ? { ts: incoming.ts } : storedRowOf(incoming);
  let countDelta = 0;
  let bytesDelta = 0;
  if (live) {
    countDelta--;
    bytesDelta -= live.size ?? 0;
  }
  if (!deleted) {
    countDelta++;
    bytesDelta += row.size ?? 0;
  }
  return { kind: 'apply', row, deleted, countDelta, bytesDelta };
}

function storedRowOf(r: IncomingRow): StoredRow {
  const row: StoredRow = { ts: r.ts };
  if (r.size !== undefined) row.size = r.size;
  if (r.etag !== undefined) row.etag = r.etag;
  if (r.contentType !== undefined) row.contentType = r.contentType;
  if (r.value !== undefined) row.value = r.value;
  return row;
}

/**
 * True for an incoming deleted row older than `reclaimBefore` of a name the listing holds no row of: it has
 * been reclaimed here (or would be at once), so taking it back only starts another round of sending it.
 */
export function isReclaimedRow(incoming: IncomingRow, stored: StoredRow | undefined, reclaimBefore: Timestamp | undefined): boolean {
  return reclaimBefore !== undefined && incoming.deleted === true && incoming.ts < reclaimBefore && stored === undefined;
}

/** A stored row with its name, as listed. */
export function rowOf(name: string, row: StoredRow): ListingRow {
  const { seq: _, ...rest } = row;
  return { name, ...rest };
}

/** Numbers the next change of a listing (giving it a replica id at its first change); returns the number. */
export function nextChange(info: StoredInfo): number {
  info.id ??= randomUUID();
  info.seq = (info.seq ?? 0) + 1;
  return info.seq;
}

/** The part of stored info that replicas exchange. */
export function replicaInfoOf(info: StoredInfo): ListingReplicaInfo {
  const out: ListingReplicaInfo = { createdTs: info.createdTs, meta: info.meta };
  if (info.deletedTs !== undefined) out.deletedTs = info.deletedTs;
  return out;
}

/**
 * Merges a replica's info into the local one, creating it when there is none (as Swift merges put and delete
 * timestamps): `createdTs` and `deletedTs` each take the newer of both, the listing is deleted while its
 * `deletedTs` is newer than its `createdTs`, and metadata merges per key. Stats stay local (rows move them).
 * Returns the merged info (a copy) and whether anything changed.
 */
export function mergeReplicaInfo(local: StoredInfo | undefined, remote: ListingReplicaInfo): { info: StoredInfo; changed: boolean } {
  const info: StoredInfo = local ? { ...local, meta: { ...local.meta } } : { createdTs: remote.createdTs, meta: {}, objectCount: 0, bytesUsed: 0, digest: emptyDigest };
  let changed = local === undefined;
  if (remote.createdTs > info.createdTs) info.createdTs = remote.createdTs;
  if (remote.deletedTs !== undefined && (info.deletedTs === undefined || remote.deletedTs > info.deletedTs)) info.deletedTs = remote.deletedTs;
  if (info.deletedTs !== undefined && info.deletedTs <= info.createdTs) delete info.deletedTs; // revived after that delete
  if (local && (info.createdTs !== local.createdTs || info.deletedTs !== local.deletedTs)) changed = true;
  for (const [k, [v, ts]] of Object.entries(remote.meta ?? {})) {
    const old = info.meta[k];
    if (!old || old[1] < ts) {
      info.meta[k] = [v === undefined ? null : v, ts];
      changed = true;
    }
  }
  return { info, changed };
}

/**
 * Digests (Swift's container hash, its "chexor"). A listing's row digest is the XOR of an MD5 of each row's
 * name, timestamp and deleted state: it does not depend on the order rows came in, so two replicas that hold
 * the same newest row of every name have the same one however their merges went. A row's content is fixed by
 * its write, which its timestamp names. The listing replicator compares digests before it sends rows
 * (`syncDigest`).
 */
export const emptyDigest = '0'.repeat(32);

/** `digest` with the row `name` at `ts` (deleted or not) added, or taken out if it was in: XOR is its own inverse. */
export function toggleRow(digest: string, name: string, ts: Timestamp, deleted: boolean): string {
  const row = createHash('md5').update(`${name}\0${ts}\0${deleted ? 1 : 0}`).digest();
  const acc = Buffer.from(digest, 'hex');
  for (let i = 0; i < 16; i++) acc[i] ^= row[i];
  return acc.toString('hex');
}

/** Swaps the stored rows `before` (live and deleted; absent ones skipped) for `after` in `info.digest`, when it has one. */
export function swapRows(info: StoredInfo, name: string, before: { live?: StoredRow; dead?: StoredRow }, after: { row: StoredRow; deleted: boolean } | undefined): void {
  if (info.digest === undefined) return;
  let d = info.digest;
  if (before.live) d = toggleRow(d, name, before.live.ts, false);
  if (before.dead) d = toggleRow(d, name, before.dead.ts, true);
  if (after) d = toggleRow(d, name, after.row.ts, after.deleted);
  info.digest = d;
}

/**
 * What two replicas compare to tell whether they hold the same listing: the row digest with what replicas
 * exchange of the info (created and deleted times, metadata with each key's time). Undefined while the rows'
 * digest is unknown.
 */
export function syncDigest(info: StoredInfo): string | undefined {
  if (info.digest === undefined) return undefined;
  const meta = Object.keys(info.meta)
    .sort()
    .map((k) => [k, info.meta[k]]);
  return createHash('md5').update(JSON.stringify([info.digest, info.createdTs, info.deletedTs ?? null, meta])).digest('hex');
}

/** A listing's replication state, from its info (which has its replica id). */
export function syncStateOf(info: StoredInfo): ListingSyncState {
  const state: ListingSyncState = { id: info.id!, seq: info.seq ?? 0 };
  const digest = syncDigest(info);
  if (digest !== undefined) state.digest = digest;
  return state;
}
