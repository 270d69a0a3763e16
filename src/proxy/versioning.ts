/**
 * Object versioning, the way Swift's object versioning keeps it: every version of an object is an object of
 * its own in the bucket's internal `versions` companion (`<bucket>+versions`), named `<key>\0<versionId>`,
 * and version ids sort newest first (inverted timestamp), so one key's versions list together, newest
 * first. The bucket itself keeps one row per key exactly as without versioning: the current version is a
 * small **pointer** object at `<key>` (no bytes; `ref.id` names the version, its listing row carries the
 * version's size, ETag and type), so ListObjects reads the same rows as an unversioned bucket and never
 * steps over old versions. A delete marker is a version (no bytes, `deleteMarker: true`) and leaves no
 * pointer. Objects written before versioning was turned on (or while it is suspended) stay plain objects at
 * `<key>`: the `null` version; the first versioned write over one copies it into the companion first.
 *
 * A version's name is never reused, so a version is never overwritten: its object lock (retention, legal
 * hold in its stored metadata) is enforced by the storage nodes on every replica or fragment archive.
 * docs/versioning.md has the whole picture.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ArcaError, isArcaError } from '../common/errors.js';
import { assertRemovable, lockFields } from '../common/object-lock.js';
import type { Timestamp, TimestampSource } from '../common/timestamp.js';
import type { ObjectMeta } from '../common/wire.js';
import type {
  BucketInfo,
  DeleteResult,
  GetObjectResult,
  InternalPurpose,
  ListObjectsOptions,
  ListObjectsPage,
  ListVersionsOptions,
  ListVersionsPage,
  ObjectInfo,
  ObjectSummary,
  ObjectVersionSummary,
  RangeSpec,
  RemoveOptions,
  SegmentRef,
} from './object-store.js';
import { isValidVersionId, versioningOf } from './object-store.js';
import type { ObjectTarget, StoragePolicy } from './policies/policy.js';
import { movedOf, movedWhere, moveObject } from './transition.js';

/** What the cluster store lends the versioning code. */
export interface VersionDeps {
  policyOf(bucket: BucketInfo): StoragePolicy;
  target(bucket: BucketInfo, key: string): ObjectTarget;
  timestamps: TimestampSource;
  internalBucket(bucket: BucketInfo, purpose: InternalPurpose): Promise<BucketInfo>;
  findInternalBucket(bucket: BucketInfo, purpose: InternalPurpose): Promise<BucketInfo | undefined>;
  listObjects(bucket: BucketInfo, opts: ListObjectsOptions): Promise<ListObjectsPage>;
  /** Streams a manifest object stored at `where`/`name` whose segments belong to `owner`. */
  readManifestObject(where: BucketInfo, name: string, meta: ObjectMeta, range: RangeSpec | undefined, owner: BucketInfo): Promise<GetObjectResult>;
  readManifestSegments(where: BucketInfo, name: string, ts: Timestamp): Promise<SegmentRef[]>;
  dropSegmentsOf(owner: BucketInfo, replaced: ObjectMeta | undefined): Promise<void>;
  toObjectInfo(bucket: string, key: string, meta: ObjectMeta): ObjectInfo;
}

/** Writes a version's bytes at `where`/`name` at `ts` with `extra` metadata; the committed meta and what it replaced. */
export type VersionWriter = (where: BucketInfo, name: string, ts: Timestamp, extra: Record<string, unknown>) => Promise<{ meta: ObjectMeta; replaced?: ObjectMeta }>;

/** The pointer's reference to the current version. */
interface VersionRef {
  id: string;
}

/** Listing-row fields of versioning (ListingRow.value): pointer → version id, version timestamp; markers. */
const rowVersionId = 'vid';
const rowVersionTs = 'vts';
const rowDeleteMarker = 'vdm';
const rowNull = 'vnull';


/** A new version id for a version written at `ts`: newer versions get smaller ids, so they list first. */
export function newVersionId(ts: Timestamp): string {
  const [s, us] = ts.split('.');
  const micros = BigInt(s) * 1_000_000n + BigInt(us);
  const inverted = (1n << 53n) - micros;
  return inverted.toString(16).padStart(14, '0') + randomBytes(3).toString('hex');
}

/** The name of a version in the `versions` companion. */
export function versionName(key: string, id: string): string {
  return `${key}\0${id}`;
}

function splitVersionName(name: string): { key: string; id: string } | undefined {
  const at = name.lastIndexOf('\0');
  return at < 0 ? undefined : { key: name.slice(0, at), id: name.slice(at + 1) };
}

/** Stored fields a copied version must not carry over (the store sets them anew). */
const perCopyFields = ['name', 'ts', 'size', 'xxh64', 'ec', 'fragmentXxh64', 'moved'];

/** Where a version lives and what it is. */
interface Resolved {
  where: BucketInfo;
  name: string;
  meta: ObjectMeta;
  versionId?: string;
}

export class VersionedObjects {
  constructor(private readonly d: VersionDeps) {}

  private info(bucket: BucketInfo, key: string, r: Resolved): ObjectInfo {
    const info = this.d.toObjectInfo(bucket.name, key, r.meta);
    if (r.versionId !== undefined) info.versionId = r.versionId;
    if (r.meta.deleteMarker === true) info.deleteMarker = true;
    return info;
  }

  private idOf(meta: ObjectMeta, id: string): string {
    return meta.nullVersion === true ? 'null' : id;
  }

  /** Follows a pointer (the meta found at `<key>`) to its version; undefined when the version is gone. */
  async follow(bucket: BucketInfo, key: string, pointer: ObjectMeta, newest = false): Promise<Resolved | undefined> {
    const ref = pointer.ref as VersionRef;
    const versions = await this.d.findInternalBucket(bucket, 'versions');
    if (!versions) return undefined;
    const name = versionName(key, ref.id);
    const meta = await this.d.policyOf(versions).head(this.d.target(versions, name), { newest });
    return meta && { where: versions, name, meta, versionId: this.idOf(meta, ref.id) };
  }

  /**
   * The version `versionId` of `key` (the current one when undefined). A version whose bytes moved to
   * another policy (transition.ts) resolves to where they are, unless `home` asks for its mark. `newest`
   * reads the pointer and the version as a quorum read (ObjectReadOptions): what a write that follows needs.
   */
  async resolve(bucket: BucketInfo, key: string, versionId: string | undefined, opts: { home?: boolean; newest?: boolean } = {}): Promise<Resolved | undefined> {
    const newest = opts.newest === true;
    const r = await this.locate(bucket, key, versionId, newest);
    const mark = opts.home ? undefined : movedOf(r?.meta);
    if (!r || !mark) return r;
    const where = movedWhere(r.where, mark);
    const meta = await this.d.policyOf(where).head(this.d.target(where, r.name), { newest });
    return meta && { ...r, where, meta };
  }

  private async locate(bucket: BucketInfo, key: string, versionId: string | undefined, newest: boolean): Promise<Resolved | undefined> {
    if (versionId !== undefined && !isValidVersionId(versionId)) return undefined;
    if (versionId === undefined || versionId === 'null') {
      const meta = await this.d.policyOf(bucket).head(this.d.target(bucket, key), { newest });
      if (meta && !meta.ref) return { where: bucket, name: key, meta, versionId: versioningOf(bucket) ? 'null' : undefined };
      if (versionId === undefined) return meta && this.follow(bucket, key, meta, newest);
      const row = await this.findNullRow(bucket, key);
      return row && this.locate(bucket, key, row.id, newest);
    }
    const versions = await this.d.findInternalBucket(bucket, 'versions');
    if (!versions) return undefined;
    const name = versionName(key, versionId);
    const meta = await this.d.policyOf(versions).head(this.d.target(versions, name), { newest });
    return meta && { where: versions, name, meta, versionId: this.idOf(meta, versionId) };
  }

  async head(bucket: BucketInfo, key: string, versionId?: string, newest = false): Promise<ObjectInfo | undefined> {
    const r = await this.resolve(bucket, key, versionId, { newest });
    return r && this.info(bucket, key, r);
  }

  /** Reads a resolved version (a delete marker reads as nothing). */
  async read(bucket: BucketInfo, key: string, r: Resolved, range?: RangeSpec): Promise<GetObjectResult | undefined> {
    const info = this.info(bucket, key, r);
    if (r.meta.deleteMarker === true) return { info, body: Readable.from([]) };
    if (r.meta.manifest) {
      const out = await this.d.readManifestObject(r.where, r.name, r.meta, range, bucket);
      return { ...out, info };
    }
    const policy = this.d.policyOf(r.where);
    const target = this.d.target(r.where, r.name);
    let read = await policy.get(target, range);
    if (read && read.meta.ts !== r.meta.ts) {
      // The device read holds another version than the one resolved (a write it missed): ask for the newest.
      read.body.destroy();
      read = await policy.get(target, range, { newest: true });
    }
    if (!read) return undefined;
    if (read.meta.ts !== r.meta.ts) {
      read.body.destroy();
      throw new ArcaError('Conflict', `version ${r.name} changed while it was read`);
    }
    return { info: this.info(bucket, key, { ...r, meta: read.meta }), body: read.body, range: read.range };
  }

  async get(bucket: BucketInfo, key: string, opts: { range?: RangeSpec; versionId?: string; newest?: boolean }): Promise<GetObjectResult | undefined> {
    const r = await this.resolve(bucket, key, opts.versionId, { newest: opts.newest });
    return r && this.read(bucket, key, r, opts.range);
  }

  async getManifest(bucket: BucketInfo, key: string, versionId?: string, newest = false): Promise<{ info: ObjectInfo; segments: SegmentRef[] } | undefined> {
    const r = await this.resolve(bucket, key, versionId, { newest });
    if (!r?.meta.manifest) return undefined;
    return { info: this.info(bucket, key, r), segments: await this.d.readManifestSegments(r.where, r.name, r.meta.ts) };
  }

  /**
   * Writes a new version of `key` through `write`: in an Enabled bucket into the companion under a new id,
   * then the pointer; in a Suspended one as the plain `null` version at `<key>` (an older null version kept
   * in the companion goes). Lock fields in the written metadata are copied to a manifest's segments first.
   */
  async put(bucket: BucketInfo, key: string, write: VersionWriter, segments?: SegmentRef[]): Promise<ObjectInfo> {
    const ts = this.d.timestamps.next();
    if (versioningOf(bucket) === 'Suspended') {
      const { meta, replaced } = await write(bucket, key, ts, {});
      if (!replaced?.ref) await this.d.dropSegmentsOf(bucket, replaced);
      await this.dropNullRow(bucket, key);
      return { ...this.d.toObjectInfo(bucket.name, key, meta), versionId: 'null' };
    }
    await this.preserveNull(bucket, key);
    const versions = await this.d.internalBucket(bucket, 'versions');
    const id = newVersionId(ts);
    const { meta } = await write(versions, versionName(key, id), ts, {});
    if (segments && lockFields.some((f) => meta[f] !== undefined)) await this.lockSegments(bucket, segments, meta);
    const replaced = await this.point(bucket, key, id, meta, ts);
    // A null version whose bytes had moved was copied back home: the moved copy goes with its mark.
    if (movedOf(replaced)) await this.d.dropSegmentsOf(bucket, replaced);
    return { ...this.d.toObjectInfo(bucket.name, key, meta), versionId: id };
  }

  /** Copies lock fields of a version to the segments it is made of, so the nodes keep those too. */
  async lockSegments(bucket: BucketInfo, segments: SegmentRef[], lock: Record<string, unknown>): Promise<void> {
    const patch: Record<string, unknown> = {};
    for (const f of lockFields) if (f in lock) patch[f] = lock[f] ?? null;
    const segBucket = await this.d.internalBucket(bucket, 'segments');
    const policy = this.d.policyOf(segBucket);
    for (let i = 0; i < segments.length; i += 16) {
      await Promise.all(segments.slice(i, i + 16).map((s) => policy.post(this.d.target(segBucket, s.key), this.d.timestamps.next(), patch)));
    }
  }

  /** Writes the pointer at `<key>` to version `id` (meta: the version's). `vts` when the pointer is newer than the version. */
  private async point(bucket: BucketInfo, key: string, id: string, version: ObjectMeta, ts: Timestamp): Promise<ObjectMeta | undefined> {
    const listing: Record<string, unknown> = { ...(version.listing as Record<string, unknown> | undefined), [rowVersionId]: this.idOf(version, id) };
    delete listing[rowNull];
    if (ts !== version.ts) listing[rowVersionTs] = version.ts;
    const ref: VersionRef = { id };
    const { replaced } = await this.d.policyOf(bucket).put(this.d.target(bucket, key), {
      ts,
      body: Readable.from([]),
      meta: { contentType: version.contentType, objectSize: version.objectSize ?? version.size, ref, listing },
      finish: async () => ({ etag: version.etag }),
    });
    return replaced;
  }

  /**
   * Before a versioned write or delete over a plain object at `<key>` (the null version, written before
   * versioning or while it was suspended): copies it into the companion as the null version, keeping its
   * timestamp, metadata and, for a manifest, its segments.
   */
  private async preserveNull(bucket: BucketInfo, key: string): Promise<void> {
    const policy = this.d.policyOf(bucket);
    const head = await policy.head(this.d.target(bucket, key), { newest: true });
    if (!head || head.ref) return;
    // A plain object whose bytes moved to another policy is copied from there (back under the bucket's policy).
    const mark = movedOf(head);
    const source = mark ? movedWhere(bucket, mark) : bucket;
    const whole = await this.d.policyOf(source).get(this.d.target(source, key), undefined, { newest: true });
    if (!whole) return;
    const meta: Record<string, unknown> = { ...whole.meta, nullVersion: true };
    for (const f of perCopyFields) delete meta[f];
    if (!meta.manifest) delete meta.objectSize;
    const listing: Record<string, unknown> = { ...(whole.meta.listing as Record<string, unknown> | undefined), [rowNull]: 1 };
    delete listing.storageClass;
    delete listing[rowVersionTs];
    meta.listing = listing;
    const versions = await this.d.internalBucket(bucket, 'versions');
    const name = versionName(key, newVersionId(whole.meta.ts));
    try {
      await this.d.policyOf(versions).put(this.d.target(versions, name), {
        ts: whole.meta.ts,
        body: whole.body,
        meta,
        finish: async () => ({ etag: whole.meta.etag }),
      });
    } catch (err) {
      // Copied already by a concurrent writer: the same version is there.
      if (!isArcaError(err, 'Conflict')) throw err;
    }
  }

  /** The null version's row in the companion, if there is one (scans the key's versions). */
  private async findNullRow(bucket: BucketInfo, key: string): Promise<{ id: string; row: ObjectSummary } | undefined> {
    const versions = await this.d.findInternalBucket(bucket, 'versions');
    if (!versions) return undefined;
    let marker: string | undefined;
    for (;;) {
      const page = await this.d.listObjects(versions, { prefix: `${key}\0`, marker, limit: 1000 });
      for (const e of page.entries) {
        if (!('key' in e)) continue;
        marker = e.key;
        if (e.listing?.[rowNull]) return { id: e.key.slice(key.length + 1), row: e };
      }
      if (!page.truncated || page.entries.length === 0) return undefined;
    }
  }

  /** Removes a null version kept in the companion (a suspended bucket writes the null version again). */
  private async dropNullRow(bucket: BucketInfo, key: string): Promise<void> {
    const row = await this.findNullRow(bucket, key);
    if (!row) return;
    const versions = await this.d.internalBucket(bucket, 'versions');
    const { replaced } = await this.d.policyOf(versions).delete(this.d.target(versions, versionName(key, row.id)), this.d.timestamps.next());
    await this.d.dropSegmentsOf(bucket, replaced);
  }

  /**
   * DeleteObject in a bucket with versioning configured. Without a version id: a delete marker (Enabled:
   * a new version; Suspended: the null version, replacing the previous one). With one: that version goes
   * for good (the nodes refuse a locked one), and when it was the current one the next newest becomes
   * current again.
   */
  async delete(bucket: BucketInfo, key: string, opts: RemoveOptions): Promise<DeleteResult> {
    if (opts.versionId !== undefined) return this.deleteVersion(bucket, key, opts.versionId, opts);
    const current = await this.d.policyOf(bucket).head(this.d.target(bucket, key), { newest: true });
    const suspended = versioningOf(bucket) === 'Suspended';
    if (suspended) await this.dropNullRow(bucket, key);
    else await this.preserveNull(bucket, key);
    const ts = this.d.timestamps.next();
    const id = newVersionId(ts);
    const versions = await this.d.internalBucket(bucket, 'versions');
    await this.d.policyOf(versions).put(this.d.target(versions, versionName(key, id)), {
      ts,
      body: Readable.from([]),
      meta: { contentType: '', deleteMarker: true, ...(suspended ? { nullVersion: true } : {}), listing: { [rowDeleteMarker]: 1, ...(suspended ? { [rowNull]: 1 } : {}) } },
      finish: async () => ({ etag: '' }),
    });
    const { replaced } = await this.d.policyOf(bucket).delete(this.d.target(bucket, key), ts);
    // In a suspended bucket a plain object at the key was the null version: it is replaced for good. (An
    // Enabled bucket kept a copy, but not of bytes under another policy: those go with their mark.)
    if (replaced && !replaced.ref && (suspended || movedOf(replaced))) await this.d.dropSegmentsOf(bucket, replaced);
    return { existed: current !== undefined, versionId: suspended ? 'null' : id, deleteMarker: true };
  }

  private async deleteVersion(bucket: BucketInfo, key: string, versionId: string, opts: RemoveOptions): Promise<DeleteResult> {
    // Where the version is kept (its moved mark, if its bytes moved: deleting the mark drops them too).
    const r = await this.resolve(bucket, key, versionId, { home: true, newest: true });
    if (!r) return { existed: false, versionId };
    // The nodes refuse a locked version anyway; checking first keeps any node without it from taking a tombstone.
    assertRemovable(r.meta, Date.now(), opts.bypassGovernance === true);
    const policy = this.d.policyOf(r.where);
    const { replaced } = await policy.delete(this.d.target(r.where, r.name), this.d.timestamps.next(), opts);
    await this.d.dropSegmentsOf(bucket, replaced);
    if (r.where !== bucket) await this.repoint(bucket, key, splitVersionName(r.name)?.id ?? '');
    else await this.repoint(bucket, key, undefined);
    return { existed: true, versionId, ...(r.meta.deleteMarker === true ? { deleteMarker: true } : {}) };
  }

  /**
   * After version `removedId` (undefined: the plain null version at the key) was removed: when it was the
   * current one, the newest remaining version becomes current (or, when that is a delete marker or there is
   * none, the key shows nothing).
   */
  private async repoint(bucket: BucketInfo, key: string, removedId: string | undefined): Promise<void> {
    const policy = this.d.policyOf(bucket);
    if (removedId !== undefined) {
      const pointer = await policy.head(this.d.target(bucket, key), { newest: true });
      // Another version is current: nothing to do. (No pointer: a delete marker was latest; look again.)
      if (pointer && (pointer.ref as VersionRef | undefined)?.id !== removedId) return;
    }
    const versions = await this.d.findInternalBucket(bucket, 'versions');
    const page = versions ? await this.d.listObjects(versions, { prefix: `${key}\0`, limit: 1 }) : { entries: [], truncated: false };
    const next = page.entries.find((e): e is ObjectSummary => 'key' in e);
    if (!next || !versions || next.listing?.[rowDeleteMarker]) {
      if (removedId !== undefined && (await policy.head(this.d.target(bucket, key), { newest: true }))) await policy.delete(this.d.target(bucket, key), this.d.timestamps.next());
      return;
    }
    const id = next.key.slice(key.length + 1);
    const meta = await this.d.policyOf(versions).head(this.d.target(versions, next.key), { newest: true });
    if (meta) await this.point(bucket, key, id, meta, this.d.timestamps.next());
  }

  /** Moves a version's bytes to `policy` (transition.ts). */
  async transition(bucket: BucketInfo, key: string, policy: string, versionId?: string): Promise<'moved' | 'skipped'> {
    const r = await this.resolve(bucket, key, versionId, { home: true, newest: true });
    if (!r) return 'skipped';
    return moveObject(this.d, r.where, r.name, r.meta, policy);
  }

  /** Patches a version's metadata (the current one without a version id); lock fields reach a manifest's segments too. */
  async updateMeta(bucket: BucketInfo, key: string, patch: Record<string, unknown>, opts: RemoveOptions): Promise<ObjectInfo | undefined> {
    const r = await this.resolve(bucket, key, opts.versionId, { newest: true });
    if (!r || r.meta.deleteMarker === true) return undefined;
    if (r.meta.manifest && lockFields.some((f) => f in patch)) {
      await this.lockSegments(bucket, await this.d.readManifestSegments(r.where, r.name, r.meta.ts), patch);
    }
    const meta = await this.d.policyOf(r.where).post(this.d.target(r.where, r.name), this.d.timestamps.next(), patch, opts);
    return meta && this.info(bucket, key, { ...r, meta });
  }

  /**
   * ListObjectVersions: the companion's versions merged with the plain (null-version) rows of the bucket's
   * own listing, by key and newest first. Both listings are read from the marker on, a page each.
   */
  async list(bucket: BucketInfo, opts: ListVersionsOptions): Promise<ListVersionsPage> {
    const limit = opts.limit;
    if (limit === 0) return { entries: [], truncated: false };
    let mainMarker = opts.keyMarker;
    let versionMarker = opts.keyMarker === undefined ? undefined : `${opts.keyMarker}\u{10FFFF}`;
    if (opts.keyMarker !== undefined && opts.versionIdMarker) {
      if (opts.versionIdMarker === 'null') {
        // After the null version: if it is the plain object it came first; otherwise it is a companion row.
        const row = await this.findNullRow(bucket, opts.keyMarker);
        mainMarker = opts.keyMarker;
        versionMarker = row ? versionName(opts.keyMarker, row.id) : opts.keyMarker;
      } else {
        mainMarker = opts.keyMarker;
        versionMarker = versionName(opts.keyMarker, opts.versionIdMarker);
      }
    }
    const versions = await this.d.findInternalBucket(bucket, 'versions');
    const query = (marker: string | undefined): ListObjectsOptions => ({ prefix: opts.prefix, delimiter: opts.delimiter, marker, limit: limit + 1 });
    const [main, vers] = await Promise.all([
      this.d.listObjects(bucket, query(mainMarker)),
      versions ? this.d.listObjects(versions, query(versionMarker)) : Promise.resolve({ entries: [], truncated: false } as ListObjectsPage),
    ]);
    type Item = { sort: string; entry: ObjectVersionSummary | { prefix: string }; markerId?: string };
    const items: Item[] = [];
    for (const e of main.entries) {
      if (!('key' in e)) items.push({ sort: e.prefix, entry: e });
      else if (!e.listing?.[rowVersionId]) {
        items.push({ sort: e.key, entry: { ...e, versionId: 'null', isLatest: true, deleteMarker: false }, markerId: 'null' });
      }
    }
    const mainDone = !main.truncated;
    const mainLast = main.entries.length ? entryName(main.entries[main.entries.length - 1]) : undefined;
    for (const e of vers.entries) {
      if (!('key' in e)) {
        items.push({ sort: e.prefix, entry: e });
        continue;
      }
      const split = splitVersionName(e.key);
      if (!split) continue;
      const isNull = e.listing?.[rowNull] !== undefined;
      const summary: ObjectVersionSummary = {
        key: split.key,
        ts: e.ts,
        size: e.size,
        etag: e.etag,
        contentType: e.contentType,
        listing: e.listing,
        versionId: isNull ? 'null' : split.id,
        isLatest: false,
        deleteMarker: e.listing?.[rowDeleteMarker] !== undefined,
      };
      items.push({ sort: e.key, entry: summary, markerId: split.id });
    }
    items.sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));
    // Entries past what a truncated listing covered may be missing rows of the other: stop there.
    const bound = [!mainDone ? mainLast : undefined, vers.truncated && vers.entries.length ? entryName(vers.entries[vers.entries.length - 1]) : undefined]
      .filter((x): x is string => x !== undefined)
      .sort()[0];
    const out: Array<ObjectVersionSummary | { prefix: string }> = [];
    let last: Item | undefined;
    const seenPrefixes = new Set<string>();
    let truncated = false;
    for (const it of items) {
      if (bound !== undefined && it.sort > bound) {
        truncated = true;
        break;
      }
      if ('prefix' in it.entry) {
        if (seenPrefixes.has(it.entry.prefix)) continue;
        seenPrefixes.add(it.entry.prefix);
      }
      if (out.length === limit) {
        truncated = true;
        break;
      }
      out.push(it.entry);
      last = it;
    }
    if (!truncated && bound !== undefined) truncated = true;
    // The newest version of each key is the latest unless the key's first entry is an older page's tail.
    let prevKey: string | undefined = opts.keyMarker !== undefined && opts.versionIdMarker ? opts.keyMarker : undefined;
    for (const e of out) {
      if ('prefix' in e) continue;
      if (e.key !== prevKey) e.isLatest = true;
      prevKey = e.key;
    }
    const page: ListVersionsPage = { entries: out, truncated };
    if (truncated && last) {
      page.next = 'prefix' in last.entry ? { keyMarker: last.entry.prefix } : { keyMarker: last.entry.key, versionIdMarker: last.markerId };
    }
    return page;
  }
}

function entryName(e: ObjectSummary | { prefix: string }): string {
  return 'key' in e ? e.key : e.prefix;
}

/** Fields of a stored version that are the store's own (hidden from ObjectInfo.meta). */
export const versionFields = ['ref', 'nullVersion', 'deleteMarker', 'moved', 'vts'];
