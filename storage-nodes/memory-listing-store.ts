/**
 * The in-memory twin of LevelListingStore: the same ListingStore contract with plain maps (and a sorted
 * name index rebuilt on demand), for fast tests of everything above the listing databases.
 */
import type { Timestamp } from '../src/common/timestamp.js';
import type { ChangeLogEntry, ChangeLogPage, ChangeRowState, ListingCreate, ListingInfo, ListingMetaUpdate, ListingPage, ListingReplicateBatch, ListingRow } from '../src/common/wire.js';
import { changeEntryOf, logsChanges, maxTrimPerCall } from './change-log.js';
import { DeviceUnavailableError } from './disk-file.js';
import {
  applyCreate,
  applyDelete,
  decideRow,
  isReclaimedRow,
  mergeMeta,
  mergeReplicaInfo,
  nextChange,
  publicInfo,
  replicaInfoOf,
  rowOf,
  type StoredInfo,
  type StoredRow,
  swapRows,
  syncDigest,
  syncStateOf,
} from './listing-merge.js';
import { collectPage, type NameBounds, pageJson, parsePage, queryBounds, type RowCursor } from './listing-page.js';
import type {
  CreateOutcome,
  DeleteListingOutcome,
  IncomingRow,
  ListingChanges,
  ListingQuery,
  ListingRef,
  ListingStore,
  ListingSyncState,
  MergeOutcome,
  SyncMatch,
} from './listing-store.js';

interface MemoryListing {
  ref: ListingRef;
  info: StoredInfo;
  live: Map<string, StoredRow>;
  dead: Map<string, StoredRow>;
  /** Replica id → how far its changes are merged. */
  points: Map<string, number>;
  /** The change log, in change order. */
  changes: ChangeLogEntry[];
  /** Live names with their UTF-8 bytes, sorted bytewise; dropped on every change. */
  sorted?: Array<{ bytes: Buffer; name: string }>;
}

/** ListingStore held in memory, for the given devices. */
export class MemoryListingStore implements ListingStore {
  readonly #listings = new Map<string, MemoryListing>();
  readonly #devices: Set<string>;

  constructor(devices: readonly string[]) {
    this.#devices = new Set(devices);
  }

  async create(ref: ListingRef, req: ListingCreate): Promise<CreateOutcome> {
    const key = this.#key(ref);
    const l = this.#listings.get(key);
    const { outcome, info } = applyCreate(l?.info, req);
    if (info) {
      if (outcome === 'created' || JSON.stringify(l?.info.meta) !== JSON.stringify(info.meta)) nextChange(info);
      if (l) l.info = info;
      else this.#listings.set(key, newListing(ref, info));
    }
    return outcome;
  }

  async updateMeta(ref: ListingRef, req: ListingMetaUpdate): Promise<boolean> {
    const l = this.#live(ref);
    if (!l) return false;
    const before = JSON.stringify(l.info.meta);
    mergeMeta(l.info, req.meta, req.ts);
    if (JSON.stringify(l.info.meta) !== before) nextChange(l.info);
    return true;
  }

  async mergeRows(ref: ListingRef, rows: readonly IncomingRow[]): Promise<MergeOutcome> {
    const l = this.#live(ref);
    if (!l) return { found: false };
    return { found: true, conflicts: applyRows(l, rows) };
  }

  async info(ref: ListingRef): Promise<ListingInfo | undefined> {
    const l = this.#listings.get(this.#key(ref));
    return l && publicInfo(l.info);
  }

  async list(ref: ListingRef, query: ListingQuery): Promise<ListingPage | undefined> {
    const text = await this.listJson(ref, query);
    return text === undefined ? undefined : parsePage(text);
  }

  async listJson(ref: ListingRef, query: ListingQuery): Promise<string | undefined> {
    const l = this.#live(ref);
    if (!l) return undefined;
    l.sorted ??= [...l.live.keys()].map((name) => ({ bytes: Buffer.from(name), name })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    const page = await collectPage(new ArrayCursor(l.sorted, l.live, queryBounds(query), query.reverse === true), query);
    return pageJson(publicInfo(l.info), page);
  }

  async delete(ref: ListingRef, ts: Timestamp): Promise<DeleteListingOutcome> {
    const l = this.#listings.get(this.#key(ref));
    const { outcome, info } = applyDelete(l?.info, ts);
    if (l && info) {
      nextChange(info);
      l.info = info;
    }
    return outcome;
  }

  async reclaim(ref: ListingRef, before: Timestamp, upToSeq?: number): Promise<number> {
    const l = this.#listings.get(this.#key(ref));
    let n = 0;
    for (const [name, row] of l?.dead ?? []) {
      if (row.ts < before && (upToSeq === undefined || (row.seq ?? 0) <= upToSeq)) {
        l!.dead.delete(name);
        swapRows(l!.info, name, { dead: row }, undefined);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {}

  async partitions(device: string): Promise<number[]> {
    this.#checkDevice(device);
    const parts = new Set<number>();
    for (const l of this.#listings.values()) if (l.ref.device === device) parts.add(l.ref.partition);
    return [...parts].sort((a, b) => a - b);
  }

  async listingsIn(device: string, partition: number, limit: number, after?: ListingRef): Promise<ListingRef[]> {
    this.#checkDevice(device);
    const keyOf = (r: ListingRef) => Buffer.from(`${r.account}\0${r.bucket ?? ''}\0`);
    const from = after && keyOf(after);
    return [...this.#listings.values()]
      .filter((l) => l.ref.device === device && l.ref.partition === partition && (!from || Buffer.compare(keyOf(l.ref), from) > 0))
      .map((l) => l.ref)
      .sort((a, b) => Buffer.compare(keyOf(a), keyOf(b)))
      .slice(0, limit);
  }

  async syncState(ref: ListingRef): Promise<ListingSyncState | undefined> {
    const l = this.#listings.get(this.#key(ref));
    if (!l) return undefined;
    if (l.info.id === undefined) nextChange(l.info);
    return syncStateOf(l.info);
  }

  async syncPoint(ref: ListingRef, id: string, match?: SyncMatch): Promise<number> {
    const l = this.#listings.get(this.#key(ref));
    const point = l?.points.get(id) ?? 0;
    if (!l || !match || match.seq <= point || syncDigest(l.info) !== match.digest) return point;
    l.points.set(id, match.seq);
    return match.seq;
  }

  async changesSince(ref: ListingRef, since: number, limit: number): Promise<ListingChanges | undefined> {
    const l = this.#listings.get(this.#key(ref));
    if (!l) return undefined;
    const changed: ListingRow[] = [];
    const seqs: number[] = [];
    for (const [rows, deleted] of [[l.live, false], [l.dead, true]] as const) {
      for (const [name, row] of rows) {
        if ((row.seq ?? 0) <= since) continue;
        changed.push(deleted ? { ...rowOf(name, row), deleted: true } : rowOf(name, row));
        seqs.push(row.seq ?? 0);
      }
    }
    const order = seqs.map((_, i) => i).sort((a, b) => seqs[a] - seqs[b]);
    const more = order.length > limit;
    const taken = order.slice(0, limit);
    return {
      info: structuredClone(replicaInfoOf(l.info)),
      rows: taken.map((i) => changed[i]),
      upTo: more ? seqs[taken[taken.length - 1]] : (l.info.seq ?? 0),
      more,
    };
  }

  async mergeReplica(ref: ListingRef, batch: ListingReplicateBatch, opts: { reclaimBefore?: Timestamp } = {}): Promise<void> {
    const key = this.#key(ref);
    let l = this.#listings.get(key);
    const merged = mergeReplicaInfo(l?.info, structuredClone(batch.info));
    if (merged.changed) nextChange(merged.info);
    if (l) l.info = merged.info;
    else this.#listings.set(key, (l = newListing(ref, merged.info)));
    applyRows(l, batch.rows, opts.reclaimBefore);
    if (batch.upTo > (l.points.get(batch.id) ?? 0)) l.points.set(batch.id, batch.upTo);
  }

  async removeListing(ref: ListingRef, ifSeq: number): Promise<boolean> {
    const key = this.#key(ref);
    const l = this.#listings.get(key);
    if (!l || (l.info.seq ?? 0) !== ifSeq) return false;
    this.#listings.delete(key);
    return true;
  }

  async readChanges(ref: ListingRef, after: number, limit: number): Promise<ChangeLogPage | undefined> {
    const state = await this.syncState(ref);
    const l = this.#listings.get(this.#key(ref));
    if (!state || !l) return undefined;
    const later = l.changes.filter((e) => e.seq > after);
    const entries = structuredClone(later.slice(0, limit));
    return { id: state.id, head: state.seq, entries, more: later.length > limit };
  }

  async changeRows(ref: ListingRef, names: readonly string[]): Promise<Array<ChangeRowState | null> | undefined> {
    const l = this.#listings.get(this.#key(ref));
    if (!l) return undefined;
    return names.map((n) => {
      const live = l.live.get(n);
      const row = live ?? l.dead.get(n);
      return row ? { ts: row.ts, seq: row.seq ?? 0, ...(live ? {} : { deleted: true }) } : null;
    });
  }

  async trimChanges(ref: ListingRef, beforeMs: number): Promise<number> {
    const l = this.#listings.get(this.#key(ref));
    if (!l) return 0;
    let n = 0;
    while (n < l.changes.length && n < maxTrimPerCall && l.changes[n].at < beforeMs) n++;
    l.changes.splice(0, n);
    return n;
  }

  #live(ref: ListingRef): MemoryListing | undefined {
    const l = this.#listings.get(this.#key(ref));
    return l && l.info.deletedTs === undefined ? l : undefined;
  }

  #key(ref: ListingRef): string {
    this.#checkDevice(ref.device);
    return JSON.stringify([ref.device, ref.partition, ref.account, ref.bucket ?? null]);
  }

  #checkDevice(device: string): void {
    if (!this.#devices.has(device)) throw new DeviceUnavailableError(device, `memory:${device}`, 'not served by this node');
  }
}

function newListing(ref: ListingRef, info: StoredInfo): MemoryListing {
  return { ref: { device: ref.device, partition: ref.partition, account: ref.account, bucket: ref.bucket }, info, live: new Map(), dead: new Map(), points: new Map(), changes: [] };
}

/** Merges rows into a listing (whatever its deleted state), numbering each change; returns the conflicts. */
function applyRows(l: MemoryListing, rows: readonly IncomingRow[], reclaimBefore?: Timestamp): ListingRow[] {
  const conflicts: ListingRow[] = [];
  for (const incoming of rows) {
    if (isReclaimedRow(incoming, l.live.get(incoming.name) ?? l.dead.get(incoming.name), reclaimBefore)) continue;
    const d = decideRow(l.live.get(incoming.name), l.dead.get(incoming.name), incoming);
    if (d.kind === 'conflict') conflicts.push(d.existing);
    if (d.kind !== 'apply') continue;
    d.row.seq = nextChange(l.info);
    if (logsChanges(l.info)) l.changes.push(changeEntryOf(incoming, d.row.seq, Date.now()));
    if (d.deleted && (l.info.oldestDeadTs === undefined || d.row.ts < l.info.oldestDeadTs)) l.info.oldestDeadTs = d.row.ts;
    swapRows(l.info, incoming.name, { live: l.live.get(incoming.name), dead: l.dead.get(incoming.name) }, d);
    (d.deleted ? l.live : l.dead).delete(incoming.name);
    (d.deleted ? l.dead : l.live).set(incoming.name, d.row);
    l.info.objectCount += d.countDelta;
    l.info.bytesUsed += d.bytesDelta;
    l.sorted = undefined;
  }
  return conflicts;
}

/** A cursor over a sorted array, by binary search. */
class ArrayCursor implements RowCursor {
  #i: number;
  #name = '';
  readonly #lo: number;
  readonly #hi: number;

  constructor(
    private readonly sorted: Array<{ bytes: Buffer; name: string }>,
    private readonly rows: Map<string, StoredRow>,
    bounds: NameBounds,
    private readonly reverse: boolean,
  ) {
    this.#lo = bounds.lower ? this.#search(bounds.lower.name, !bounds.lower.inclusive) : 0;
    this.#hi = bounds.upper ? this.#search(bounds.upper, false) : sorted.length;
    this.#i = reverse ? this.#hi - 1 : this.#lo;
  }

  async next(): Promise<string | undefined> {
    if (this.#i < this.#lo || this.#i >= this.#hi) return undefined;
    this.#name = this.sorted[this.#i].name;
    this.#i += this.reverse ? -1 : 1;
    return this.#name;
  }

  rowJson(): string {
    return JSON.stringify(rowOf(this.#name, this.rows.get(this.#name)!));
  }

  skipPrefix(prefix: Buffer): void {
    if (this.reverse) this.#i = Math.min(this.#i, this.#search(prefix, false) - 1);
    else this.#i = Math.max(this.#i, this.#search(Buffer.concat([prefix, Buffer.of(0xff)]), false));
  }

  async close(): Promise<void> {}

  /** Index of the first name ≥ key (> key when `after`). */
  #search(key: Buffer, after: boolean): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = Buffer.compare(this.sorted[mid].bytes, key);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
