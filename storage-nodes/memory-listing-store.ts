/**
 * The in-memory twin of LevelListingStore: the same ListingStore contract with plain maps (and a sorted
 * name index rebuilt on demand), for fast tests of everything above the listing databases.
 */
import type { Timestamp } from '../src/common/timestamp.js';
import type { ListingCreate, ListingInfo, ListingMetaUpdate, ListingPage, ListingRow } from '../src/common/wire.js';
import { DeviceUnavailableError } from './disk-file.js';
import { applyCreate, applyDelete, decideRow, mergeMeta, publicInfo, rowOf, type StoredInfo, type StoredRow } from './listing-merge.js';
import { collectPage, type NameBounds, queryBounds, type RowCursor } from './listing-page.js';
import type { CreateOutcome, DeleteListingOutcome, IncomingRow, ListingQuery, ListingRef, ListingStore, MergeOutcome } from './listing-store.js';

interface MemoryListing {
  info: StoredInfo;
  live: Map<string, StoredRow>;
  dead: Map<string, StoredRow>;
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
      if (l) l.info = info;
      else this.#listings.set(key, { info, live: new Map(), dead: new Map() });
    }
    return outcome;
  }

  async updateMeta(ref: ListingRef, req: ListingMetaUpdate): Promise<boolean> {
    const l = this.#live(ref);
    if (!l) return false;
    mergeMeta(l.info, req.meta, req.ts);
    return true;
  }

  async mergeRows(ref: ListingRef, rows: readonly IncomingRow[]): Promise<MergeOutcome> {
    const l = this.#live(ref);
    if (!l) return { found: false };
    const conflicts: ListingRow[] = [];
    for (const incoming of rows) {
      const d = decideRow(l.live.get(incoming.name), l.dead.get(incoming.name), incoming);
      if (d.kind === 'conflict') conflicts.push(d.existing);
      if (d.kind !== 'apply') continue;
      (d.deleted ? l.live : l.dead).delete(incoming.name);
      (d.deleted ? l.dead : l.live).set(incoming.name, d.row);
      l.info.objectCount += d.countDelta;
      l.info.bytesUsed += d.bytesDelta;
      l.sorted = undefined;
    }
    return { found: true, conflicts };
  }

  async info(ref: ListingRef): Promise<ListingInfo | undefined> {
    const l = this.#listings.get(this.#key(ref));
    return l && publicInfo(l.info);
  }

  async list(ref: ListingRef, query: ListingQuery): Promise<ListingPage | undefined> {
    const l = this.#live(ref);
    if (!l) return undefined;
    l.sorted ??= [...l.live.keys()].map((name) => ({ bytes: Buffer.from(name), name })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    const page = await collectPage(new ArrayCursor(l.sorted, l.live, queryBounds(query), query.reverse === true), query);
    return { info: publicInfo(l.info), ...page };
  }

  async delete(ref: ListingRef, ts: Timestamp): Promise<DeleteListingOutcome> {
    const l = this.#listings.get(this.#key(ref));
    const { outcome, info } = applyDelete(l?.info, ts);
    if (l && info) l.info = info;
    return outcome;
  }

  async reclaim(ref: ListingRef, before: Timestamp): Promise<number> {
    const l = this.#listings.get(this.#key(ref));
    let n = 0;
    for (const [name, row] of l?.dead ?? []) {
      if (row.ts < before) {
        l!.dead.delete(name);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {}

  #live(ref: ListingRef): MemoryListing | undefined {
    const l = this.#listings.get(this.#key(ref));
    return l && l.info.deletedTs === undefined ? l : undefined;
  }

  #key(ref: ListingRef): string {
    if (!this.#devices.has(ref.device)) throw new DeviceUnavailableError(ref.device, `memory:${ref.device}`, 'not served by this node');
    return JSON.stringify([ref.device, ref.partition, ref.account, ref.bucket ?? null]);
  }
}

/** A cursor over a sorted array, by binary search. */
class ArrayCursor implements RowCursor {
  #i: number;
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

  async next(): Promise<ListingRow | undefined> {
    if (this.#i < this.#lo || this.#i >= this.#hi) return undefined;
    const { name } = this.sorted[this.#i];
    this.#i += this.reverse ? -1 : 1;
    return rowOf(name, this.rows.get(name)!);
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
