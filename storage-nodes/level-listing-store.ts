/**
 * ListingStore on Level: one database per device at `<device>/listings/`. Key layout (bytes):
 *
 *   <partition: 8 hex> NUL <account> NUL <bucket or empty> NUL 'i'          → info (JSON StoredInfo)
 *   <partition: 8 hex> NUL <account> NUL <bucket or empty> NUL 'r' <name>   → live row (JSON StoredRow)
 *   <partition: 8 hex> NUL <account> NUL <bucket or empty> NUL 'd' <name>   → deleted row, until reclaimed
 *   <partition: 8 hex> NUL <account> NUL <bucket or empty> NUL 's' <seq: 16 hex> → name of the row that change wrote
 *   <partition: 8 hex> NUL <account> NUL <bucket or empty> NUL 'p' <replica id>  → how far that replica's changes are merged
 *   <partition: 8 hex> NUL <account> NUL <bucket or empty> NUL 'e' <seq: 16 hex> → change log entry (change-log.ts)
 *
 * The partition leads so a replicator walks one partition's listings as one key range; live rows sit apart
 * from deleted ones so a page never steps over tombstones; names follow raw, so key order is the UTF-8 byte
 * order listings promise. Account and bucket names are NUL-free; row names need not be, as they come last.
 */
import { join } from 'node:path';
import { Level } from 'level';
import type { Timestamp } from '../src/common/timestamp.js';
import type { ChangeLogEntry, ChangeLogPage, ChangeRowState, ListingCreate, ListingInfo, ListingMetaUpdate, ListingPage, ListingReplicateBatch, ListingRow } from '../src/common/wire.js';
import { changeEntryOf, logsChanges, maxTrimPerCall } from './change-log.js';
import { DeviceUnavailableError, isSafeDeviceName } from './disk-file.js';
import { Gate, KeyedMutex } from './fs-util.js';
import { GroupCommitDb, type WriteOp } from './group-commit.js';
import {
  applyCreate,
  applyDelete,
  decideRow,
  emptyDigest,
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
  toggleRow,
} from './listing-merge.js';
import { afterAllUtf8, collectPage, justBefore, type NameBounds, pageJson, parsePage, queryBounds, type RowCursor, rowEntryJson } from './listing-page.js';
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

export interface LevelListingStoreOptions {
  devicesDir: string;
  devices: readonly string[];
  /** Sync each group commit to disk (off only for throwaway test clusters). */
  fsync: boolean;
}

/** Listing pages one node builds at once (`#pageReads`); more wait their turn. */
export const pageReadsAtOnce = 4;

const tag = { info: 0x69, live: 0x72, dead: 0x64, seq: 0x73, point: 0x70, change: 0x65 } as const; // 'i', 'r', 'd', 's', 'p', 'e'

/** The key prefix shared by everything of one listing. */
export function listingKeyPrefix(ref: ListingRef): Buffer {
  return Buffer.from(`${ref.partition.toString(16).padStart(8, '0')}\0${ref.account}\0${ref.bucket ?? ''}\0`, 'utf8');
}

/** The key prefix of every listing in one partition. */
export function partitionKeyPrefix(partition: number): Buffer {
  return Buffer.from(`${partition.toString(16).padStart(8, '0')}\0`, 'latin1');
}

function keyOf(prefix: Buffer, kind: number, name?: string): Buffer {
  if (name === undefined) return Buffer.concat([prefix, Buffer.of(kind)]);
  const nameLength = Buffer.byteLength(name);
  const key = Buffer.allocUnsafe(prefix.length + 1 + nameLength);
  prefix.copy(key);
  key[prefix.length] = kind;
  key.write(name, prefix.length + 1, 'utf8');
  return key;
}

/** The key of change `seq` in the listing's change index. */
function seqKey(prefix: Buffer, seq: number): Buffer {
  return keyOf(prefix, tag.seq, seq.toString(16).padStart(16, '0'));
}

/** The key of change log entry `seq`. */
function changeKey(prefix: Buffer, seq: number): Buffer {
  return keyOf(prefix, tag.change, seq.toString(16).padStart(16, '0'));
}

/** The first key after every key starting with `prefix`. */
function prefixEnd(prefix: Buffer): Buffer {
  return Buffer.concat([prefix.subarray(0, -1), Buffer.of(prefix[prefix.length - 1] + 1)]);
}

/** Listing databases on Level, one per device, with group-committed durable writes. */
export class LevelListingStore implements ListingStore {
  /** Rows read by listing pages; tests use it to check that paging does not scan. */
  readonly stats = { rowsRead: 0 };
  /** Read-modify-write of one listing runs alone, so stats never race. */
  readonly #locks = new KeyedMutex();
  /**
   * Pages built at once on this node. Each holds its rows (up to 1,001, as strings and the Buffers leveldb
   * read) until it is sent, so memory grows with the pages in progress; the main thread builds one at a time
   * anyway, and a few in flight keep the pool's reads overlapping.
   */
  readonly #pageReads = new Gate(pageReadsAtOnce);

  private constructor(
    private readonly dbs: Map<string, GroupCommitDb>,
    private readonly opts: LevelListingStoreOptions,
  ) {}

  /** Opens (creating if needed) the listing database of every device; errors name the device path. */
  static async open(opts: LevelListingStoreOptions): Promise<LevelListingStore> {
    const dbs = new Map<string, GroupCommitDb>();
    try {
      for (const device of opts.devices) dbs.set(device, await openDevice(opts, device));
    } catch (err) {
      await Promise.all([...dbs.values()].map((d) => d.close().catch(() => {})));
      throw err;
    }
    return new LevelListingStore(dbs, opts);
  }

  /**
   * Closes a device's database and opens it again (a new, empty one when the device was wiped: the device
   * monitor). Requests meanwhile fail as an unavailable device (507).
   */
  async reopen(device: string): Promise<void> {
    const old = this.#db(device);
    // Level allows one open handle per path in a process: the old one goes first.
    await old.close().catch(() => {});
    this.dbs.set(device, await openDevice(this.opts, device));
  }

  /** Group commits written so far on a device (tests check that concurrent merges share batches). */
  batchCount(device: string): number {
    return this.#db(device).batchCount;
  }

  async create(ref: ListingRef, req: ListingCreate): Promise<CreateOutcome> {
    return this.#update(ref, async (db, prefix) => {
      const before = await readInfo(db, prefix);
      const { outcome, info } = applyCreate(before, req);
      if (info && (outcome === 'created' || metaChanged(before, info))) nextChange(info);
      return { result: outcome, ops: info ? [putInfo(prefix, info)] : [] };
    });
  }

  async updateMeta(ref: ListingRef, req: ListingMetaUpdate): Promise<boolean> {
    return this.#update(ref, async (db, prefix) => {
      const info = await readInfo(db, prefix);
      if (!info || info.deletedTs !== undefined) return { result: false, ops: [] };
      const before = JSON.stringify(info.meta);
      mergeMeta(info, req.meta, req.ts);
      if (JSON.stringify(info.meta) !== before) nextChange(info);
      return { result: true, ops: [putInfo(prefix, info)] };
    });
  }

  async mergeRows(ref: ListingRef, rows: readonly IncomingRow[]): Promise<MergeOutcome> {
    return this.#update(ref, async (db, prefix): Promise<{ result: MergeOutcome; ops: WriteOp[] }> => {
      const info = await readInfo(db, prefix);
      if (!info || info.deletedTs !== undefined) return { result: { found: false }, ops: [] };
      const { conflicts, ops } = await applyRows(db, prefix, info, rows);
      if (ops.length > 0) ops.push(putInfo(prefix, info));
      return { result: { found: true, conflicts }, ops };
    });
  }

  async info(ref: ListingRef): Promise<ListingInfo | undefined> {
    const { db } = this.#db(ref.device);
    const raw = await db.get(keyOf(listingKeyPrefix(ref), tag.info));
    return raw === undefined ? undefined : publicInfo(JSON.parse(raw));
  }

  async list(ref: ListingRef, query: ListingQuery): Promise<ListingPage | undefined> {
    const text = await this.listJson(ref, query);
    return text === undefined ? undefined : parsePage(text);
  }

  async listJson(ref: ListingRef, query: ListingQuery): Promise<string | undefined> {
    return this.#pageReads.run(() => this.#listJson(ref, query));
  }

  async #listJson(ref: ListingRef, query: ListingQuery): Promise<string | undefined> {
    const group = this.#db(ref.device);
    const prefix = listingKeyPrefix(ref);
    const raw = await group.db.get(keyOf(prefix, tag.info));
    if (raw === undefined) return undefined;
    const info = JSON.parse(raw) as StoredInfo;
    if (info.deletedTs !== undefined) return undefined;
    const cursor = new LevelRowCursor(group.db, keyOf(prefix, tag.live), queryBounds(query), query.reverse === true, this.stats);
    return pageJson(publicInfo(info), await collectPage(cursor, query));
  }

  async delete(ref: ListingRef, ts: Timestamp): Promise<DeleteListingOutcome> {
    return this.#update(ref, async (db, prefix) => {
      const { outcome, info } = applyDelete(await readInfo(db, prefix), ts);
      if (info) nextChange(info);
      return { result: outcome, ops: info ? [putInfo(prefix, info)] : [] };
    });
  }

  async reclaim(ref: ListingRef, before: Timestamp, upToSeq?: number): Promise<number> {
    const known = await readInfo(this.#db(ref.device), listingKeyPrefix(ref));
    if (known?.oldestDeadTs === undefined || known.oldestDeadTs >= before) return 0;
    return this.#update(ref, async (db, prefix) => {
      const info = await readInfo(db, prefix);
      if (!info) return { result: 0, ops: [] };
      const base = keyOf(prefix, tag.dead);
      const ops: WriteOp[] = [];
      let reclaimed = 0;
      let oldestKept: Timestamp | undefined;
      // The iterator reads committed rows only: let this listing's queued changes land first (the lock keeps
      // new ones out).
      await db.write([], db.epoch);
      for await (const [key, value] of db.db.iterator({ gte: base, lt: keyOf(prefix, tag.dead + 1) })) {
        const row = JSON.parse(value) as StoredRow;
        if (row.ts >= before || (upToSeq !== undefined && (row.seq ?? 0) > upToSeq)) {
          if (oldestKept === undefined || row.ts < oldestKept) oldestKept = row.ts;
          continue;
        }
        reclaimed++;
        swapRows(info, key.toString('utf8', base.length), { dead: row }, undefined);
        ops.push({ type: 'del', key });
        if (row.seq !== undefined) ops.push({ type: 'del', key: seqKey(prefix, row.seq) });
      }
      if (oldestKept === undefined) delete info.oldestDeadTs;
      else info.oldestDeadTs = oldestKept;
      ops.push(putInfo(prefix, info));
      return { result: reclaimed, ops };
    });
  }

  async partitions(device: string): Promise<number[]> {
    const { db } = this.#db(device);
    const out: number[] = [];
    const it = db.keys();
    try {
      for (let p = 0; p <= 0xffffffff; ) {
        it.seek(partitionKeyPrefix(p));
        const key = await it.next();
        if (key === undefined) break;
        const part = Number.parseInt(key.toString('latin1', 0, 8), 16);
        if (!Number.isInteger(part) || part < p) break;
        out.push(part);
        p = part + 1;
      }
    } finally {
      await it.close();
    }
    return out;
  }

  async listingsIn(device: string, partition: number, limit: number, after?: ListingRef): Promise<ListingRef[]> {
    const { db } = this.#db(device);
    const start = after ? prefixEnd(listingKeyPrefix(after)) : partitionKeyPrefix(partition);
    const out: ListingRef[] = [];
    const it = db.keys({ gte: start, lt: partitionKeyPrefix(partition + 1) });
    try {
      while (out.length < limit) {
        const key = await it.next();
        if (key === undefined) break;
        const a = 9;
        const b = key.indexOf(0, a);
        const c = key.indexOf(0, b + 1);
        if (b < 0 || c < 0) break;
        const bucket = key.toString('utf8', b + 1, c);
        out.push({ device, partition, account: key.toString('utf8', a, b), bucket: bucket === '' ? undefined : bucket });
        // The listing's keys all start with its prefix (which ends in NUL): skip past them.
        it.seek(prefixEnd(key.subarray(0, c + 1)));
      }
    } finally {
      await it.close();
    }
    return out;
  }

  async syncState(ref: ListingRef): Promise<ListingSyncState | undefined> {
    const info = await readInfo(this.#db(ref.device), listingKeyPrefix(ref));
    if (!info) return undefined;
    if (info.id !== undefined && info.digest !== undefined && info.digestAt === info.seq) return syncStateOf(info);
    // A listing written before replica ids, or digests, existed (or changed since by such a version): give it
    // an id, and its rows' digest.
    return this.#update(ref, async (db, prefix) => {
      const current = await readInfo(db, prefix);
      if (!current) return { result: undefined, ops: [] };
      if (current.id === undefined) nextChange(current);
      if (current.digest === undefined || current.digestAt !== current.seq) {
        // Queued changes land first (the lock keeps new ones out), so the iterator sees every row.
        await db.write([], db.epoch);
        current.digest = await rowsDigest(db, prefix);
      }
      return { result: syncStateOf(current), ops: [putInfo(prefix, current)] };
    });
  }

  async syncPoint(ref: ListingRef, id: string, match?: SyncMatch): Promise<number> {
    const pointKey = keyOf(listingKeyPrefix(ref), tag.point, id);
    const raw = await this.#db(ref.device).get(pointKey);
    const point = raw === undefined ? 0 : Number(raw);
    if (!match || match.seq <= point) return point;
    return this.#update(ref, async (db, prefix) => {
      const info = await readInfo(db, prefix);
      const now = Number((await db.get(pointKey)) ?? 0);
      // A digest an older version left stale (`digestAt` behind `seq`) proves nothing.
      if (!info || match.seq <= now || info.digestAt !== info.seq || syncDigest(info) !== match.digest) return { result: now, ops: [] };
      return { result: match.seq, ops: [{ type: 'put', key: pointKey, value: String(match.seq) }] };
    });
  }

  async changesSince(ref: ListingRef, since: number, limit: number): Promise<ListingChanges | undefined> {
    const { db } = this.#db(ref.device);
    const prefix = listingKeyPrefix(ref);
    // One snapshot for info and rows: what is queued or in flight in the group commit is not in it, so the
    // change numbers read are exactly the changes sent.
    const snapshot = db.snapshot();
    try {
      const raw = await db.get(keyOf(prefix, tag.info), { snapshot });
      if (raw === undefined) return undefined;
      const info = JSON.parse(raw) as StoredInfo;
      const names: string[] = [];
      let last = since;
      let more = false;
      for await (const [key, name] of db.iterator({ gt: seqKey(prefix, since), lt: keyOf(prefix, tag.seq + 1), limit: limit + 1, snapshot })) {
        if (names.length === limit) {
          more = true;
          break;
        }
        names.push(name);
        last = Number.parseInt(key.toString('latin1', prefix.length + 1), 16);
      }
      const stored = names.length === 0 ? [] : await db.getMany(names.flatMap((n) => [keyOf(prefix, tag.live, n), keyOf(prefix, tag.dead, n)]), { snapshot });
      const rows: ListingRow[] = [];
      names.forEach((name, i) => {
        const live = stored[2 * i];
        const dead = stored[2 * i + 1];
        if (live !== undefined) rows.push(rowOf(name, JSON.parse(live)));
        else if (dead !== undefined) rows.push({ ...rowOf(name, JSON.parse(dead)), deleted: true });
      });
      return { info: replicaInfoOf(info), rows, upTo: more ? last : (info.seq ?? 0), more };
    } catch (err) {
      throw wrapError(ref.device, ref.device, err);
    } finally {
      await snapshot.close();
    }
  }

  async mergeReplica(ref: ListingRef, batch: ListingReplicateBatch, opts: { reclaimBefore?: Timestamp } = {}): Promise<void> {
    await this.#update(ref, async (db, prefix) => {
      const merged = mergeReplicaInfo(await readInfo(db, prefix), batch.info);
      const info = merged.info;
      if (merged.changed) nextChange(info);
      const { ops } = await applyRows(db, prefix, info, batch.rows, opts.reclaimBefore);
      const pointKey = keyOf(prefix, tag.point, batch.id);
      const point = Number((await db.get(pointKey)) ?? 0);
      if (batch.upTo > point) ops.push({ type: 'put', key: pointKey, value: String(batch.upTo) });
      if (merged.changed || ops.length > 0) ops.push(putInfo(prefix, info));
      return { result: undefined, ops };
    });
  }

  async removeListing(ref: ListingRef, ifSeq: number): Promise<boolean> {
    const group = this.#db(ref.device);
    const prefix = listingKeyPrefix(ref);
    return this.#locks.run(`${ref.device}\0${prefix.toString('latin1')}`, async () => {
      const info = await readInfo(group, prefix);
      if (!info || (info.seq ?? 0) !== ifSeq) return false;
      // Everything queued before this point must be on disk before the range goes, or it would come back.
      await group.write([], group.epoch);
      try {
        await group.db.clear({ gte: prefix, lt: prefixEnd(prefix) });
      } catch (err) {
        throw wrapError(ref.device, ref.device, err);
      }
      return true;
    });
  }

  async readChanges(ref: ListingRef, after: number, limit: number): Promise<ChangeLogPage | undefined> {
    const state = await this.syncState(ref);
    if (!state) return undefined;
    const { db } = this.#db(ref.device);
    const prefix = listingKeyPrefix(ref);
    const entries: ChangeLogEntry[] = [];
    let more = false;
    try {
      for await (const value of db.values({ gt: changeKey(prefix, after), lt: keyOf(prefix, tag.change + 1), limit: limit + 1 })) {
        if (entries.length === limit) {
          more = true;
          break;
        }
        entries.push(JSON.parse(value) as ChangeLogEntry);
      }
    } catch (err) {
      throw wrapError(ref.device, ref.device, err);
    }
    return { id: state.id, head: Math.max(state.seq, entries.at(-1)?.seq ?? 0), entries, more };
  }

  async changeRows(ref: ListingRef, names: readonly string[]): Promise<Array<ChangeRowState | null> | undefined> {
    const group = this.#db(ref.device);
    const prefix = listingKeyPrefix(ref);
    if ((await readInfo(group, prefix)) === undefined) return undefined;
    const stored = await group.getMany(names.flatMap((n) => [keyOf(prefix, tag.live, n), keyOf(prefix, tag.dead, n)]));
    return names.map((_, i) => {
      const live = stored[2 * i];
      const dead = stored[2 * i + 1];
      const raw = live ?? dead;
      if (raw === undefined) return null;
      const row = JSON.parse(raw) as StoredRow;
      return { ts: row.ts, seq: row.seq ?? 0, ...(live === undefined ? { deleted: true } : {}) };
    });
  }

  async trimChanges(ref: ListingRef, beforeMs: number): Promise<number> {
    return this.#update(ref, async (db, prefix) => {
      // Committed entries only: what is queued is newer than anything worth trimming.
      const ops: WriteOp[] = [];
      for await (const [key, value] of db.db.iterator({ gte: keyOf(prefix, tag.change), lt: keyOf(prefix, tag.change + 1), limit: maxTrimPerCall })) {
        if ((JSON.parse(value) as ChangeLogEntry).at >= beforeMs) break;
        ops.push({ type: 'del', key });
      }
      return { result: ops.length, ops };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.dbs.values()].map((d) => d.close()));
  }

  /**
   * Runs one read-modify-write of a listing under its lock, queues the resulting ops for the device's next
   * group commit and, after releasing the lock, waits until they are durable.
   */
  async #update<T>(ref: ListingRef, fn: (db: GroupCommitDb, prefix: Buffer) => Promise<{ result: T; ops: WriteOp[] }>): Promise<T> {
    const db = this.#db(ref.device);
    const prefix = listingKeyPrefix(ref);
    const { result, durable } = await this.#locks.run(`${ref.device}\0${prefix.toString('latin1')}`, async () => {
      const epoch = db.epoch;
      const { result, ops } = await fn(db, prefix);
      return { result, durable: db.write(ops, epoch) };
    });
    await durable;
    return result;
  }

  #db(device: string): GroupCommitDb {
    const db = this.dbs.get(device);
    if (!db) throw new DeviceUnavailableError(device, device, 'not served by this node');
    return db;
  }
}

/**
 * Merges rows into a listing whose info is `info` (updated in place: stats and change numbers); returns the
 * conflicts of `ifAbsent` rows and the write ops. Each row applied is the listing's next change.
 */
async function applyRows(
  db: GroupCommitDb,
  prefix: Buffer,
  info: StoredInfo,
  rows: readonly IncomingRow[],
  reclaimBefore?: Timestamp,
): Promise<{ conflicts: ListingRow[]; ops: WriteOp[] }> {
  const conflicts: ListingRow[] = [];
  const ops: WriteOp[] = [];
  if (rows.length === 0) return { conflicts, ops };
  const names = [...new Set(rows.map((r) => r.name))];
  const stored = await db.getMany(names.flatMap((n) => [keyOf(prefix, tag.live, n), keyOf(prefix, tag.dead, n)]));
  const state = new Map<string, { live?: StoredRow; dead?: StoredRow }>();
  names.forEach((n, i) => {
    const live = stored[2 * i];
    const dead = stored[2 * i + 1];
    state.set(n, { live: live === undefined ? undefined : JSON.parse(live), dead: dead === undefined ? undefined : JSON.parse(dead) });
  });
  for (const incoming of rows) {
    const s = state.get(incoming.name)!;
    if (isReclaimedRow(incoming, s.live ?? s.dead, reclaimBefore)) continue;
    const d = decideRow(s.live, s.dead, incoming);
    if (d.kind === 'conflict') conflicts.push(d.existing);
    if (d.kind !== 'apply') continue;
    for (const old of [s.live?.seq, s.dead?.seq]) if (old !== undefined) ops.push({ type: 'del', key: seqKey(prefix, old) });
    d.row.seq = nextChange(info);
    ops.push({ type: 'put', key: seqKey(prefix, d.row.seq), value: incoming.name });
    if (logsChanges(info)) ops.push({ type: 'put', key: changeKey(prefix, d.row.seq), value: JSON.stringify(changeEntryOf(incoming, d.row.seq, Date.now())) });
    const liveKey = keyOf(prefix, tag.live, incoming.name);
    const deadKey = keyOf(prefix, tag.dead, incoming.name);
    const value = JSON.stringify(d.row);
    swapRows(info, incoming.name, s, d);
    if (d.deleted) {
      if (info.oldestDeadTs === undefined || d.row.ts < info.oldestDeadTs) info.oldestDeadTs = d.row.ts;
      if (s.live) ops.push({ type: 'del', key: liveKey });
      ops.push({ type: 'put', key: deadKey, value });
      state.set(incoming.name, { dead: d.row });
    } else {
      if (s.dead) ops.push({ type: 'del', key: deadKey });
      ops.push({ type: 'put', key: liveKey, value });
      state.set(incoming.name, { live: d.row });
    }
    info.objectCount += d.countDelta;
    info.bytesUsed += d.bytesDelta;
  }
  return { conflicts, ops };
}

/** The digest of every row of the listing at `prefix`, live and deleted (`toggleRow`), from the committed rows. */
async function rowsDigest(db: GroupCommitDb, prefix: Buffer): Promise<string> {
  let digest = emptyDigest;
  for (const [kind, deleted] of [[tag.live, false], [tag.dead, true]] as const) {
    const base = keyOf(prefix, kind);
    for await (const [key, value] of db.db.iterator({ gte: base, lt: keyOf(prefix, kind + 1) })) {
      digest = toggleRow(digest, key.toString('utf8', base.length), (JSON.parse(value) as StoredRow).ts, deleted);
    }
  }
  return digest;
}

function metaChanged(before: StoredInfo | undefined, after: StoredInfo): boolean {
  return JSON.stringify(before?.meta) !== JSON.stringify(after.meta);
}

async function readInfo(db: GroupCommitDb, prefix: Buffer): Promise<StoredInfo | undefined> {
  const raw = await db.get(keyOf(prefix, tag.info));
  return raw === undefined ? undefined : (JSON.parse(raw) as StoredInfo);
}

function putInfo(prefix: Buffer, info: StoredInfo): WriteOp {
  // The digest is current as of this change: a version that kept no digest and changed the listing later
  // moves `seq` past `digestAt`, and the digest is computed again from the rows (`syncState`).
  if (info.digest !== undefined) info.digestAt = info.seq;
  return { type: 'put', key: keyOf(prefix, tag.info), value: JSON.stringify(info) };
}

async function openDevice(opts: LevelListingStoreOptions, device: string): Promise<GroupCommitDb> {
  const path = join(opts.devicesDir, device, 'listings');
  if (!isSafeDeviceName(device)) throw new DeviceUnavailableError(device, path, 'bad device name');
  const db = new Level<Buffer, string>(path, { keyEncoding: 'buffer', valueEncoding: 'utf8' });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new DeviceUnavailableError(device, path, `cannot open listing database: ${cause?.message ?? (err as Error).message}`);
  }
  return new GroupCommitDb(db, opts.fsync, (e) => wrapError(device, path, e));
}

function wrapError(device: string, path: string, err: unknown): Error {
  if (err instanceof DeviceUnavailableError) return err;
  const cause = (err as { cause?: Error }).cause;
  return new DeviceUnavailableError(device, path, `listing database: ${cause?.message ?? (err as Error).message}`);
}

/**
 * Rows one read of a listing page fetches (`nextv`), and the bytes it may (classic-level stops a batch at
 * 16 KiB by default: ~100 rows; the row count decides here). classic-level keeps an iterator's last batch,
 * and room for `batchRows` rows, in native memory until V8 collects the closed iterator — which V8 does not
 * hurry, since it cannot see that memory. Pages read in one batch of 1,001 rows left ~270 KiB each behind in a
 * stand-alone test, and 35–45 MiB per node after bench:compare's 4 KiB LIST steps (docs/storage-nodes.md,
 * "Memory V8 does not see").
 */
const pageRead = { batchRows: 128, bytes: 1024 * 1024 };

/**
 * Live rows of one listing straight from a Level iterator, read in batches (`nextv`: one thread-pool round
 * trip per batch), seeking past common prefixes. Stored rows are not parsed: `rowJson` splices them.
 */
class LevelRowCursor implements RowCursor {
  readonly #it;
  #rows: Array<[Buffer, string]> = [];
  #i = 0;
  #name = '';
  #value = '';

  constructor(
    db: Level<Buffer, string>,
    private readonly base: Buffer,
    bounds: NameBounds,
    private readonly reverse: boolean,
    private readonly stats: { rowsRead: number },
  ) {
    const range: { gt?: Buffer; gte?: Buffer; lt: Buffer } = { lt: bounds.upper ? this.#key(bounds.upper) : Buffer.concat([base.subarray(0, -1), Buffer.of(base[base.length - 1] + 1)]) };
    if (bounds.lower?.inclusive) range.gte = this.#key(bounds.lower.name);
    else if (bounds.lower) range.gt = this.#key(bounds.lower.name);
    else range.gte = base;
    this.#it = db.iterator({ ...range, reverse, highWaterMarkBytes: pageRead.bytes });
  }

  async next(wanted: number): Promise<string | undefined> {
    if (this.#i === this.#rows.length) {
      this.#rows = await this.#it.nextv(Math.max(1, Math.min(wanted, pageRead.batchRows)));
      this.#i = 0;
      this.stats.rowsRead += this.#rows.length;
      if (this.#rows.length === 0) return undefined;
    }
    const [key, value] = this.#rows[this.#i++];
    this.#name = key.toString('utf8', this.base.length);
    this.#value = value;
    return this.#name;
  }

  rowJson(): string {
    return rowEntryJson(this.#name, this.#value);
  }

  skipPrefix(prefix: Buffer): void {
    const key = this.#key(prefix);
    // Rows come in key order, so the ones under the prefix are the next ones read; past them, the next row
    // read is already past the prefix, and the iterator stays where it is.
    while (this.#i < this.#rows.length && startsWith(this.#rows[this.#i][0], key)) this.#i++;
    if (this.#i < this.#rows.length) return;
    this.#it.seek(this.reverse ? justBefore(key) : Buffer.concat([key, Buffer.of(afterAllUtf8)]));
  }

  close(): Promise<void> {
    return this.#it.close();
  }

  #key(name: Buffer): Buffer {
    return Buffer.concat([this.base, name]);
  }
}

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
