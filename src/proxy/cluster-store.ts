/**
 * The ObjectStore of a cluster: buckets live in listings on the container ring (one global bucket registry
 * in the system account, one container listing per bucket, one account listing per owner), objects go
 * through the bucket's storage policy.
 */

import { Readable } from 'node:stream';
import { resolveRange } from '../common/byte-range.js';
import { ArcaError, isArcaError } from '../common/errors.js';
import { readBounded } from '../common/read-stream.js';
import type { Timestamp, TimestampSource } from '../common/timestamp.js';
import {
  BackendHeader,
  type ChangeLogEntry,
  type ChangeLogPage,
  type ChangeRowState,
  changeEventField,
  changeOriginField,
  decodeHeaderJson,
  type ListingInfo,
  type ListingPage,
  type ListingRow,
  type ObjectMeta,
} from '../common/wire.js';
import type { ListingCall, ListingClient } from './listings.js';
import type {
  BucketInfo,
  BucketSummary,
  ChangeFeed,
  ChangeRecord,
  CreateBucketOutcome,
  DeleteResult,
  GetObjectResult,
  InternalPurpose,
  ListObjectsOptions,
  ListObjectsPage,
  ListVersionsOptions,
  ListVersionsPage,
  ObjectInfo,
  ObjectReadOptions,
  ObjectStore,
  PutManifestInput,
  PutObjectInput,
  RangeSpec,
  RemoveOptions,
  SegmentRef,
  VersionOptions,
} from './object-store.js';
import { versioningOf } from './object-store.js';
import type { ObjectTarget, StoragePolicy } from './policies/policy.js';
import type { PolicyRegistry } from './policies/registry.js';
import { dropMoved, movedOf, movedWhere, moveObject } from './transition.js';
import { VersionedObjects, versionFields } from './versioning.js';

/** The account that holds Arca's own data (the bucket registry, users, …). */
export const systemAccount = '.arca';
/** The listing that maps every bucket name to its owner and policy. */
const registryBucket = 'buckets';

export interface ClusterStoreOptions {
  listings: ListingClient;
  policies: PolicyRegistry;
  defaultPolicy: string;
  timestamps: TimestampSource;
  /** How long a bucket lookup is cached (ms). */
  bucketCacheTtlMs: number;
}

/** Fields of ObjectMeta that are the store's own, not the dialect's. */
const internalFields = new Set(['name', 'ts', 'size', 'xxh64', 'etag', 'contentType', 'objectSize', 'listing', 'manifest', 'ec', ...versionFields]);

function toObjectInfo(bucket: string, key: string, m: ObjectMeta): ObjectInfo {
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (!internalFields.has(k)) meta[k] = v;
  const info: ObjectInfo = { bucket, key, ts: m.ts, size: m.objectSize ?? m.size, etag: m.etag, contentType: m.contentType, meta };
  const manifest = m.manifest as ManifestMark | undefined;
  if (manifest) info.parts = manifest.parts;
  return info;
}

/** What an object made of segments carries in its metadata; the segment list is its body. */
interface ManifestMark {
  parts: number;
  /** The prefix its segments own (PutManifestInput.segmentPrefix): kept in the metadata, which a replacing write reports back. */
  segmentPrefix?: string;
}

/** The body of a manifest object. */
interface ManifestBody {
  format: 'arca-manifest-1';
  segments: SegmentRef[];
}

/** A listing row value with the change feed's fields (wire.ts: `event`, `origin`) added when given. */
function withChangeFields(listing: Record<string, unknown> | undefined, event?: string, origin?: string[]): Record<string, unknown> | undefined {
  if (!event && !origin?.length) return listing;
  return { ...listing, ...(event ? { [changeEventField]: event } : {}), ...(origin?.length ? { [changeOriginField]: origin } : {}) };
}

function toChangeRecord(e: ChangeLogEntry): ChangeRecord {
  const out: ChangeRecord = { seq: e.seq, key: e.key, ts: e.ts, deleted: e.deleted === true, event: e.deleted ? 'ObjectRemoved:Delete' : (e.event ?? 'ObjectCreated:Put'), at: e.at };
  if (e.size !== undefined) out.size = e.size;
  if (e.etag !== undefined) out.etag = e.etag;
  if (e.contentType !== undefined) out.contentType = e.contentType;
  if (e.origin) out.origin = e.origin;
  return out;
}

/** Largest manifest body read (10,000 segments of long keys fit). */
const maxManifestBytes = 16 * 1024 * 1024;

/** The suffix of an internal bucket's name: `+` cannot appear in an S3 bucket name. */
function internalName(bucket: string, purpose: InternalPurpose): string {
  return `${bucket}+${purpose}`;
}



export class ClusterStore implements ObjectStore {
  private readonly cache = new Map<string, { info: BucketInfo; expires: number }>();
  private registryReady = false;
  /** Internal listings known to exist (created once per process). */
  private readonly internalReady = new Set<string>();

  /** Versions of objects in buckets with versioning configured (versioning.ts). */
  private readonly versions: VersionedObjects;

  constructor(private readonly opts: ClusterStoreOptions) {
    this.versions = new VersionedObjects({
      policyOf: (b) => this.policyOf(b),
      target: (b, k) => this.target(b, k),
      timestamps: opts.timestamps,
      internalBucket: (b, p) => this.internalBucket(b, p),
      findInternalBucket: (b, p) => this.findInternalBucket(b, p),
      listObjects: (b, o) => this.listObjects(b, o),
      readManifestObject: (w, n, m, r, owner) => this.readManifestObject(w, n, m, r, owner),
      readManifestSegments: async (w, n, ts) => (await this.readManifestBody(w, n, ts)).segments,
      dropSegmentsOf: (owner, replaced) => this.dropSegmentsOf(owner, replaced),
      toObjectInfo,
    });
  }

  private policyOf(bucket: BucketInfo): StoragePolicy {
    const policy = this.opts.policies.get(bucket.policy);
    if (!policy) throw new ArcaError('Internal', `bucket ${bucket.name} uses unknown policy ${bucket.policy}`);
    return policy;
  }

  private target(bucket: BucketInfo, key: string): ObjectTarget {
    return { account: bucket.account, bucket: bucket.name, key, containerUpdates: this.opts.listings.updateTargets(bucket.account, bucket.name) };
  }

  private async ensureListing(account: string, bucket: string | undefined, ts: Timestamp, meta?: Record<string, unknown>): Promise<void> {
    await this.opts.listings.write(account, bucket, { method: 'PUT', body: { ts, meta } });
  }

  async createBucket(account: string, name: string, opts: { policy?: string; meta?: Record<string, unknown> } = {}): Promise<CreateBucketOutcome> {
    const policy = opts.policy ?? this.opts.defaultPolicy;
    if (!this.opts.policies.get(policy)) throw new ArcaError('BadRequest', `unknown storage policy "${policy}"`, { policy });
    const { listings, timestamps } = this.opts;
    if (!this.registryReady) {
      await this.ensureListing(systemAccount, registryBucket, timestamps.next());
      this.registryReady = true;
    }
    let ts = timestamps.next();
    let outcome: CreateBucketOutcome = 'created';
    let effectivePolicy = policy;
    const replies = await listings.write(systemAccount, registryBucket, {
      method: 'POST',
      query: { rows: '' },
      body: { rows: [{ name, ts, ifAbsent: true, value: { owner: account, policy } }] },
    });
    for (const r of replies) {
      if (r.status !== 409) continue;
      const existing = (JSON.parse(r.body.toString()) as { conflicts: ListingRow[] }).conflicts[0];
      if (existing?.value?.owner !== account) return 'taken';
      outcome = 'already-owned';
      ts = existing.ts;
      effectivePolicy = String(existing.value.policy);
    }
    // Creating the bucket's own listing and its row in the owner's account listing is idempotent, so a
    // repeated create also repairs a create that failed half way.
    await this.ensureListing(account, name, ts, outcome === 'created' ? { ...opts.meta, policy: effectivePolicy, owner: account } : undefined);
    await this.ensureListing(account, undefined, ts);
    await listings.write(account, undefined, { method: 'POST', query: { rows: '' }, body: { rows: [{ name, ts, value: { policy: effectivePolicy } }] } });
    this.cache.delete(name);
    return outcome;
  }

  async getBucket(name: string): Promise<BucketInfo | undefined> {
    const cached = this.cache.get(name);
    if (cached && cached.expires > Date.now()) return cached.info;
    const reply = await this.opts.listings.read(systemAccount, registryBucket, { method: 'GET', query: { prefix: name, limit: 1 } });
    if (reply.status === 404) return undefined;
    const row = (JSON.parse(reply.body.toString()) as ListingPage).entries[0];
    if (!row || !('name' in row) || row.name !== name || !row.value) return undefined;
    const owner = String(row.value.owner);
    const head = await this.opts.listings.read(owner, name, { method: 'HEAD' });
    const listing = decodeHeaderJson<ListingInfo>(head.headers[BackendHeader.listingInfo]);
    if (head.status === 404 || !listing) return undefined;
    const info: BucketInfo = { name, account: owner, policy: String(row.value.policy), createdTs: row.ts, meta: listing.meta };
    this.cache.set(name, { info, expires: Date.now() + this.opts.bucketCacheTtlMs });
    return info;
  }

  async updateBucketMeta(bucket: BucketInfo, meta: Record<string, unknown>): Promise<void> {
    const replies = await this.opts.listings.write(bucket.account, bucket.name, { method: 'POST', body: { ts: this.opts.timestamps.next(), meta } });
    this.cache.delete(bucket.name);
    if (replies.every((r) => r.status === 404)) throw new ArcaError('NotFound', `bucket ${bucket.name} is gone`);
  }

  async bucketStats(bucket: BucketInfo): Promise<{ objectCount: number; bytesUsed: number }> {
    const head = await this.opts.listings.read(bucket.account, bucket.name, { method: 'HEAD' });
    const info = decodeHeaderJson<ListingInfo>(head.headers[BackendHeader.listingInfo]);
    return { objectCount: info?.objectCount ?? 0, bytesUsed: info?.bytesUsed ?? 0 };
  }

  async deleteBucket(bucket: BucketInfo): Promise<'deleted' | 'not-empty'> {
    const { listings, timestamps } = this.opts;
    if ((await this.bucketStats(bucket)).objectCount > 0) return 'not-empty';
    // Versions and delete markers count too (AWS: a versioned bucket must be empty of every version).
    const versions = await this.findInternalBucket(bucket, 'versions');
    if (versions && (await this.bucketStats(versions)).objectCount > 0) return 'not-empty';
    const ts = timestamps.next();
    const replies = await listings.write(bucket.account, bucket.name, { method: 'DELETE', headers: { [BackendHeader.timestamp]: ts } });
    this.cache.delete(bucket.name);
    if (replies.some((r) => r.status === 409)) return 'not-empty';
    const tombstone = { rows: [{ name: bucket.name, ts, deleted: true }] };
    await listings.write(systemAccount, registryBucket, { method: 'POST', query: { rows: '' }, body: tombstone });
    await listings.write(bucket.account, undefined, { method: 'POST', query: { rows: '' }, body: tombstone });
    this.cache.delete(bucket.name);
    await this.emptyCompanions(bucket);
    return 'deleted';
  }

  /**
   * Deletes what a deleted bucket's internal companions hold (parts, upload records), as AWS drops a
   * bucket's incomplete multipart uploads with it. The companion listings themselves stay (empty): other
   * proxies may remember them as existing, and a bucket created again under the name reuses them. Best
   * effort: what a failure leaves, the dialect ignores as older than the new bucket.
   */
  private async emptyCompanions(bucket: BucketInfo): Promise<void> {
    for (const purpose of ['uploads', 'segments'] as const) {
      try {
        const companion = await this.findInternalBucket(bucket, purpose);
        if (!companion) continue;
        let marker: string | undefined;
        for (;;) {
          const page = await this.listObjects(companion, { marker, limit: 1000 });
          const names = page.entries.flatMap((e) => ('key' in e ? [e.key] : []));
          for (let i = 0; i < names.length; i += 16) await Promise.all(names.slice(i, i + 16).map((n) => this.deleteObject(companion, n)));
          if (!page.truncated || names.length === 0) break;
          marker = names[names.length - 1];
        }
      } catch {
        // left behind; see above
      }
    }
  }

  async listBuckets(account: string): Promise<BucketSummary[]> {
    const out: BucketSummary[] = [];
    let marker: string | undefined;
    for (;;) {
      const reply = await this.opts.listings.read(account, undefined, { method: 'GET', query: { marker, limit: 10000 } });
      if (reply.status === 404) return out;
      const page = JSON.parse(reply.body.toString()) as ListingPage;
      for (const e of page.entries) if ('name' in e) out.push({ name: e.name, createdTs: e.ts });
      if (!page.truncated || page.entries.length === 0) return out;
      marker = out[out.length - 1].name;
    }
  }

  async putObject(bucket: BucketInfo, key: string, input: PutObjectInput): Promise<ObjectInfo> {
    const first = withChangeFields(input.listing, input.event, input.origin);
    if (versioningOf(bucket)) {
      return this.versions.put(bucket, key, (where, name, ts) =>
        this.policyOf(where).put(this.target(where, name), {
          ts,
          body: input.body,
          meta: { ...input.meta, contentType: input.contentType, ...(first ? { listing: first } : {}) },
          finish: async (info) => {
            const f = await input.finish(info);
            const listing = first || f.listing ? { ...first, ...f.listing } : undefined;
            return { ...f.meta, etag: f.etag, ...(listing ? { listing } : {}) };
          },
        }),
      );
    }
    const { meta, replaced } = await this.policyOf(bucket).put(this.target(bucket, key), {
      ts: this.opts.timestamps.next(),
      body: input.body,
      meta: { ...input.meta, contentType: input.contentType, ...(first ? { listing: first } : {}) },
      finish: async (info) => {
        const f = await input.finish(info);
        const listing = first || f.listing ? { ...first, ...f.listing } : undefined;
        return { ...f.meta, etag: f.etag, ...(listing ? { listing } : {}) };
      },
    });
    await this.dropSegmentsOf(bucket, replaced);
    return toObjectInfo(bucket.name, key, meta);
  }

  async headObject(bucket: BucketInfo, key: string, opts: ObjectReadOptions = {}): Promise<ObjectInfo | undefined> {
    const newest = opts.newest === true;
    if (versioningOf(bucket) || opts.versionId !== undefined) return this.versions.head(bucket, key, opts.versionId, newest);
    const meta = await this.policyOf(bucket).head(this.target(bucket, key), { newest });
    // A pointer to a version, seen through a bucket cache that does not know versioning is on yet.
    if (meta?.ref) return this.versions.head({ ...bucket, meta: { ...bucket.meta, versioning: 'Enabled' } }, key, undefined, newest);
    const stored = await this.followMoved(bucket, key, meta, newest);
    return stored && toObjectInfo(bucket.name, key, stored);
  }

  async getObject(bucket: BucketInfo, key: string, opts: { range?: RangeSpec } & ObjectReadOptions = {}): Promise<GetObjectResult | undefined> {
    if (versioningOf(bucket) || opts.versionId !== undefined) return this.versions.get(bucket, key, opts);
    // A pointer to a version, seen through a bucket cache that does not know versioning is on yet.
    const versioned = () => this.versions.get({ ...bucket, meta: { ...bucket.meta, versioning: 'Enabled' } }, key, opts);
    const policy = this.policyOf(bucket);
    const target = this.target(bucket, key);
    const newest = { newest: opts.newest === true };
    let read: Awaited<ReturnType<StoragePolicy['get']>>;
    try {
      read = await policy.get(target, opts.range, newest);
    } catch (err) {
      // The range was checked against the manifest's own bytes; a manifest object is judged by its total size.
      if (!isArcaError(err, 'RangeNotSatisfiable')) throw err;
      const meta = await policy.head(target, newest);
      if (meta?.ref) return versioned();
      const mark = movedOf(meta);
      if (mark) return this.getObject(movedWhere(bucket, mark), key, opts);
      if (!meta?.manifest) throw err;
      return this.readManifestObject(bucket, key, meta, opts.range);
    }
    if (!read) return undefined;
    if (read.meta.ref) {
      read.body.destroy();
      return versioned();
    }
    const mark = movedOf(read.meta);
    if (mark) {
      read.body.destroy();
      return this.getObject(movedWhere(bucket, mark), key, opts);
    }
    if (read.meta.manifest) {
      read.body.destroy();
      return this.readManifestObject(bucket, key, read.meta, opts.range);
    }
    return { info: toObjectInfo(bucket.name, key, read.meta), body: read.body, range: read.range };
  }

  private async readManifestBody(bucket: BucketInfo, key: string, ts: Timestamp): Promise<ManifestBody> {
    const policy = this.policyOf(bucket);
    const target = this.target(bucket, key);
    let whole = await policy.get(target);
    if (!whole || whole.meta.ts !== ts) {
      // The device read may hold another version than the one whose metadata we have: ask for the newest.
      whole?.body.destroy();
      whole = await policy.get(target, undefined, { newest: true });
    }
    if (!whole || whole.meta.ts !== ts) {
      whole?.body.destroy();
      throw new ArcaError('Conflict', `object ${bucket.name}/${key} changed while it was read`);
    }
    const parsed = JSON.parse((await readBounded(whole.body, maxManifestBytes)).toString()) as ManifestBody;
    if (parsed.format !== 'arca-manifest-1' || !Array.isArray(parsed.segments)) throw new ArcaError('Internal', 'unreadable manifest');
    return parsed;
  }

  /** Streams the segments of a manifest object covering `range` (or all of them), in order; `owner` holds the segments. */
  private async readManifestObject(bucket: BucketInfo, key: string, meta: ObjectMeta, range?: RangeSpec, owner: BucketInfo = bucket): Promise<GetObjectResult> {
    const info = toObjectInfo(bucket.name, key, meta);
    const resolved = range ? resolveRange(range, info.size) : undefined;
    if (range && !resolved) throw new ArcaError('RangeNotSatisfiable', 'range not satisfiable', { size: info.size });
    const { segments } = await this.readManifestBody(bucket, key, meta.ts);
    const segBucket = await this.internalBucket(owner, 'segments');
    const policy = this.policyOf(segBucket);
    const start = resolved?.start ?? 0;
    const end = resolved?.end ?? info.size - 1;
    const target = (k: string) => this.target(segBucket, k);
    async function* stream(): AsyncGenerator<Buffer> {
      let offset = 0;
      for (const seg of segments) {
        const segStart = offset;
        offset += seg.size;
        if (offset <= start || seg.size === 0) continue;
        if (segStart > end) return;
        const from = Math.max(start, segStart) - segStart;
        const to = Math.min(end, offset - 1) - segStart;
        const range = from === 0 && to === seg.size - 1 ? undefined : { start: from, end: to };
        let part = await policy.get(target(seg.key), range);
        if (!part || part.meta.etag !== seg.etag) {
          // A part uploaded again (same part number) may still be the older one on the device read.
          part?.body.destroy();
          part = await policy.get(target(seg.key), range, { newest: true });
        }
        if (!part || part.meta.etag !== seg.etag) {
          part?.body.destroy();
          throw new ArcaError('Internal', `segment ${seg.key} of ${bucket.name}/${key} is missing or changed`);
        }
        yield* part.body as AsyncIterable<Buffer>;
      }
    }
    return { info, body: Readable.from(stream(), { objectMode: false }), range: resolved };
  }

  async getManifest(bucket: BucketInfo, key: string, opts: ObjectReadOptions = {}): Promise<{ info: ObjectInfo; segments: SegmentRef[] } | undefined> {
    const newest = opts.newest === true;
    if (versioningOf(bucket) || opts.versionId !== undefined) return this.versions.getManifest(bucket, key, opts.versionId, newest);
    const meta = await this.policyOf(bucket).head(this.target(bucket, key), { newest });
    if (!meta?.manifest) return undefined;
    const { segments } = await this.readManifestBody(bucket, key, meta.ts);
    return { info: toObjectInfo(bucket.name, key, meta), segments };
  }

  async putManifest(bucket: BucketInfo, key: string, input: PutManifestInput): Promise<ObjectInfo> {
    const body: ManifestBody = { format: 'arca-manifest-1', segments: input.segments };
    const objectSize = input.segments.reduce((n, s) => n + s.size, 0);
    const mark: ManifestMark = { parts: input.segments.length, ...(input.segmentPrefix ? { segmentPrefix: input.segmentPrefix } : {}) };
    const listing = withChangeFields(input.listing, input.event);
    if (versioningOf(bucket)) {
      const write = (where: BucketInfo, name: string, ts: Timestamp) =>
        this.policyOf(where).put(this.target(where, name), {
          ts,
          body: Readable.from([Buffer.from(JSON.stringify(body))]),
          meta: { ...input.meta, contentType: input.contentType, manifest: mark, objectSize, ...(listing ? { listing } : {}) },
          finish: async () => ({ etag: input.etag }),
        });
      return this.versions.put(bucket, key, write, input.segments);
    }
    const { meta, replaced } = await this.policyOf(bucket).put(this.target(bucket, key), {
      ts: this.opts.timestamps.next(),
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
      meta: { ...input.meta, contentType: input.contentType, manifest: mark, objectSize, ...(listing ? { listing } : {}) },
      finish: async () => ({ etag: input.etag }),
    });
    await this.dropSegmentsOf(bucket, replaced, new Set(input.segments.map((seg) => seg.key)));
    return toObjectInfo(bucket.name, key, meta);
  }

  async findInternalBucket(bucket: BucketInfo, purpose: InternalPurpose): Promise<BucketInfo | undefined> {
    const name = internalName(bucket.name, purpose);
    if (!this.internalReady.has(`${bucket.account}/${name}`)) {
      const head = await this.opts.listings.read(bucket.account, name, { method: 'HEAD' });
      if (head.status === 404) return undefined;
    }
    return { name, account: bucket.account, policy: bucket.policy, createdTs: bucket.createdTs, meta: {} };
  }

  async listAllBuckets(opts: { marker?: string; limit: number }): Promise<{ names: string[]; truncated: boolean }> {
    const reply = await this.opts.listings.read(systemAccount, registryBucket, { method: 'GET', query: { marker: opts.marker || undefined, limit: opts.limit } });
    if (reply.status === 404) return { names: [], truncated: false };
    const page = JSON.parse(reply.body.toString()) as ListingPage;
    return { names: page.entries.flatMap((e) => ('name' in e ? [e.name] : [])), truncated: page.truncated };
  }

  async internalBucket(bucket: BucketInfo, purpose: InternalPurpose): Promise<BucketInfo> {
    const name = internalName(bucket.name, purpose);
    const ref = `${bucket.account}/${name}`;
    if (!this.internalReady.has(ref)) {
      await this.ensureListing(bucket.account, name, bucket.createdTs, { policy: bucket.policy, internal: purpose });
      this.internalReady.add(ref);
    }
    return { name, account: bucket.account, policy: bucket.policy, createdTs: bucket.createdTs, meta: {} };
  }

  async updateObjectMeta(bucket: BucketInfo, key: string, patch: Record<string, unknown>, opts: RemoveOptions = {}): Promise<ObjectInfo | undefined> {
    if (versioningOf(bucket) || opts.versionId !== undefined) return this.versions.updateMeta(bucket, key, patch, opts);
    const meta = await this.policyOf(bucket).post(this.target(bucket, key), this.opts.timestamps.next(), patch, opts);
    // A moved object's metadata is read from its bytes' copy: patch that too.
    const mark = movedOf(meta);
    if (!mark) return meta && toObjectInfo(bucket.name, key, meta);
    const where = movedWhere(bucket, mark);
    const moved = await this.policyOf(where).post(this.target(where, key), this.opts.timestamps.next(), patch, opts);
    return moved && toObjectInfo(bucket.name, key, moved);
  }

  async deleteObject(bucket: BucketInfo, key: string, opts: RemoveOptions = {}): Promise<DeleteResult> {
    if (versioningOf(bucket) || opts.versionId !== undefined) return this.versions.delete(bucket, key, opts);
    const { existed, replaced } = await this.policyOf(bucket).delete(this.target(bucket, key), this.opts.timestamps.next(), opts);
    await this.dropSegmentsOf(bucket, replaced);
    return { existed };
  }

  async transitionObject(bucket: BucketInfo, key: string, policy: string, opts: VersionOptions = {}): Promise<'moved' | 'skipped'> {
    if (!this.opts.policies.get(policy)) throw new ArcaError('BadRequest', `unknown storage policy "${policy}"`, { policy });
    if (versioningOf(bucket) || opts.versionId !== undefined) return this.versions.transition(bucket, key, policy, opts.versionId);
    // The move rewrites the object: it must start from the newest version.
    const home = await this.policyOf(bucket).head(this.target(bucket, key), { newest: true });
    if (!home) return 'skipped';
    return moveObject(this.transitionDeps(), bucket, key, home, policy);
  }

  private transitionDeps() {
    return { policyOf: (b: BucketInfo) => this.policyOf(b), target: (b: BucketInfo, k: string) => this.target(b, k), timestamps: this.opts.timestamps };
  }

  /** The bytes of an object whose home holds a moved mark (transition.ts), else `meta` as it is. */
  private async followMoved(bucket: BucketInfo, key: string, meta: ObjectMeta | undefined, newest: boolean): Promise<ObjectMeta | undefined> {
    const mark = movedOf(meta);
    if (!mark) return meta;
    const where = movedWhere(bucket, mark);
    return this.policyOf(where).head(this.target(where, key), { newest });
  }

  storagePolicies(): string[] {
    return this.opts.policies.names();
  }

  listObjectVersions(bucket: BucketInfo, opts: ListVersionsOptions): Promise<ListVersionsPage> {
    return this.versions.list(bucket, opts);
  }

  /**
   * Deletes the segments a replaced manifest object owned (everything under its segment prefix but `keep`,
   * the segments of the version that replaced it). Best effort, after the write has succeeded: segments a
   * failure leaves behind are orphans for the dialect's janitor to collect.
   */
  private async dropSegmentsOf(bucket: BucketInfo, replaced: ObjectMeta | undefined, keep: ReadonlySet<string> = new Set()): Promise<void> {
    if (replaced && movedOf(replaced)) {
      // The copy under another policy goes with its mark; the mark's name says where (/account/bucket/key).
      const [, account, where, ...rest] = replaced.name.split('/');
      await dropMoved(this.transitionDeps(), { ...bucket, account, name: where }, rest.join('/'), replaced);
    }
    const prefix = (replaced?.manifest as ManifestMark | undefined)?.segmentPrefix;
    if (!prefix) return;
    try {
      const segBucket = await this.internalBucket(bucket, 'segments');
      let marker: string | undefined;
      for (;;) {
        const page = await this.listObjects(segBucket, { prefix, marker, limit: 1000 });
        const names = page.entries.flatMap((e) => ('key' in e ? [e.key] : []));
        const doomed = names.filter((n) => !keep.has(n));
        for (let i = 0; i < doomed.length; i += 16) await Promise.all(doomed.slice(i, i + 16).map((n) => this.deleteObject(segBucket, n)));
        if (!page.truncated || names.length === 0) return;
        marker = names[names.length - 1];
      }
    } catch {
      // left to the janitor
    }
  }

  changeFeed(bucket: BucketInfo): ChangeFeed {
    const { listings } = this.opts;
    const call = (replica: number, c: ListingCall) => listings.callReplica(bucket.account, bucket.name, replica, c);
    return {
      replicas: listings.replicaCount(bucket.account, bucket.name),
      read: async (replica, after, limit) => {
        const reply = await call(replica, { method: 'GET', query: { changes: '', after, limit } });
        if (reply?.status !== 200) return undefined;
        const page = JSON.parse(reply.body.toString()) as ChangeLogPage;
        return { replica: page.id, head: page.head, more: page.more, changes: page.entries.map(toChangeRecord) };
      },
      rowStates: async (replica, keys) => {
        const reply = await call(replica, { method: 'POST', query: { changes: '' }, body: { names: keys } });
        if (reply?.status !== 200) return undefined;
        const { rows } = JSON.parse(reply.body.toString()) as { rows: Array<ChangeRowState | null> };
        return rows.map((r) => (r ? { ts: r.ts, seq: r.seq, deleted: r.deleted === true } : undefined));
      },
      trim: async (replica, beforeMs) => {
        const reply = await call(replica, { method: 'POST', query: { changes: '' }, body: { trimBefore: Math.floor(beforeMs) } });
        if (reply?.status !== 200) return undefined;
        return (JSON.parse(reply.body.toString()) as { trimmed: number }).trimmed;
      },
    };
  }

  async listObjects(bucket: BucketInfo, opts: ListObjectsOptions): Promise<ListObjectsPage> {
    const reply = await this.opts.listings.read(
      bucket.account,
      bucket.name,
      {
        method: 'GET',
        query: { prefix: opts.prefix || undefined, delimiter: opts.delimiter || undefined, marker: opts.marker || undefined, limit: opts.limit },
      },
      { spread: true },
    );
    if (reply.status === 404) throw new ArcaError('NotFound', `bucket ${bucket.name} is gone`);
    const page = JSON.parse(reply.body.toString()) as ListingPage;
    return {
      truncated: page.truncated,
      entries: page.entries.map((e) =>
        'subdir' in e
          ? { prefix: e.subdir }
          : // A version pointer made after its version (versioning.ts) keeps the version's time in `vts`.
            { key: e.name, ts: (e.value?.vts as string | undefined) ?? e.ts, size: e.size ?? 0, etag: e.etag ?? '', contentType: e.contentType ?? '', listing: e.value },
      ),
    };
  }
}
