/**
 * The multipart janitor: a background worker (the proxy root runs `runOnce()` on an interval) that sweeps
 * every bucket's internal companions.
 *
 * - Uploads older than `abortAfterMs` are aborted: record and parts deleted. AWS keeps incomplete uploads
 *   until a lifecycle rule (AbortIncompleteMultipartUpload) removes them; Arca has no lifecycle rules yet, so
 *   it applies one cluster-wide rule instead: 7 days by default, configurable, 0 keeps them forever.
 * - Parts whose upload no longer exists are deleted unless the object at their key is the manifest that
 *   completed that upload (then only the parts it does not use go). These are the leftovers of an Abort or
 *   a Complete interrupted half way, of an UploadPart that raced an Abort, or of a replaced multipart object
 *   whose segments the store could not delete at the time. Parts younger than `orphanGraceMs` are left
 *   alone, so nothing in flight is touched.
 *
 * It reaches storage only through the ObjectStore, reads each upload record directly (not from a listing) before
 * deciding, and never deletes a part that a live manifest names.
 */
import { timestampMillis } from '../common/timestamp.js';
import type { BucketInfo, ObjectStore, ObjectSummary } from '../proxy/object-store.js';
import { versioningOf } from '../proxy/object-store.js';
import { deleteParts, deleteRecord, findUpload, mapLimit, parsePartName, parseRecordName } from './multipart.js';

export interface MultipartJanitorOptions {
  store: ObjectStore;
  /** Incomplete uploads older than this (ms) are aborted; 0 keeps them until a client ends them. */
  abortAfterMs: number;
  /** Parts without an upload are deleted only once older than this (ms). */
  orphanGraceMs: number;
  log: (line: string) => void;
  /** The clock, for tests. */
  now?: () => number;
}

/** What one pass did. */
export interface JanitorPass {
  buckets: number;
  abortedUploads: number;
  deletedParts: number;
}

/** Default age after which an incomplete upload is aborted: 7 days. */
export const defaultAbortAfterMs = 7 * 24 * 3600 * 1000;
/** Default grace before a part without an upload is deleted: 1 hour. */
export const defaultOrphanGraceMs = 3600 * 1000;

export class MultipartJanitor {
  private readonly now: () => number;

  constructor(private readonly opts: MultipartJanitorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** One sweep over every bucket. Errors in one bucket are logged and do not stop the others. */
  async runOnce(): Promise<JanitorPass> {
    const pass: JanitorPass = { buckets: 0, abortedUploads: 0, deletedParts: 0 };
    let marker: string | undefined;
    for (;;) {
      const page = await this.opts.store.listAllBuckets({ marker, limit: 1000 });
      for (const name of page.names) {
        // Names starting with `.` are Arca's own system buckets: no multipart uploads there.
        if (name.startsWith('.')) continue;
        try {
          const bucket = await this.opts.store.getBucket(name);
          if (!bucket) continue;
          pass.buckets++;
          pass.abortedUploads += await this.abortExpired(bucket);
          pass.deletedParts += await this.collectOrphans(bucket);
        } catch (err) {
          this.opts.log(`multipart janitor: bucket ${name}: ${(err as Error).message}`);
        }
      }
      if (!page.truncated || page.names.length === 0) return pass;
      marker = page.names[page.names.length - 1];
    }
  }

  private async abortExpired(bucket: BucketInfo): Promise<number> {
    const { store } = this.opts;
    const uploads = await store.findInternalBucket(bucket, 'uploads');
    if (!uploads) return 0;
    const cutoff = this.opts.abortAfterMs > 0 ? this.now() - this.opts.abortAfterMs : Number.NEGATIVE_INFINITY;
    let aborted = 0;
    let marker: string | undefined;
    for (;;) {
      const page = await store.listObjects(uploads, { marker, limit: 1000 });
      for (const e of page.entries) {
        if (!('key' in e)) continue;
        marker = e.key;
        const parsed = parseRecordName(e.key);
        // Records older than the bucket are leftovers of a deleted bucket of the same name: abort them too.
        if (!parsed || (timestampMillis(e.ts) > cutoff && e.ts >= bucket.createdTs)) continue;
        await deleteRecord(store, bucket, parsed.key, parsed.uploadId);
        await deleteParts(store, bucket, parsed.key, parsed.uploadId);
        aborted++;
      }
      if (!page.truncated || page.entries.length === 0) return aborted;
    }
  }

  private async collectOrphans(bucket: BucketInfo): Promise<number> {
    const { store } = this.opts;
    const segments = await store.findInternalBucket(bucket, 'segments');
    if (!segments) return 0;
    let deleted = 0;
    let group: { key: string; uploadId: string; parts: ObjectSummary[] } | undefined;
    const settle = async () => {
      if (group) deleted += await this.settleGroup(bucket, segments, group.key, group.uploadId, group.parts);
      group = undefined;
    };
    let marker: string | undefined;
    for (;;) {
      const page = await store.listObjects(segments, { marker, limit: 1000 });
      for (const e of page.entries) {
        if (!('key' in e)) continue;
        marker = e.key;
        const parsed = parsePartName(e.key);
        if (!parsed) continue;
        if (!group || group.key !== parsed.key || group.uploadId !== parsed.uploadId) {
          await settle();
          group = { key: parsed.key, uploadId: parsed.uploadId, parts: [] };
        }
        group.parts.push(e);
      }
      if (!page.truncated || page.entries.length === 0) break;
    }
    await settle();
    return deleted;
  }

  /** Versions of `key` to look at: the current one (undefined), and in a versioned bucket every version. */
  private async candidateVersions(bucket: BucketInfo, key: string): Promise<Array<string | undefined>> {
    if (!versioningOf(bucket)) return [undefined];
    const out: Array<string | undefined> = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.opts.store.listObjectVersions(bucket, { prefix: key, keyMarker, versionIdMarker, limit: 1000 });
      for (const e of page.entries) if ('key' in e && e.key === key && !e.deleteMarker) out.push(e.versionId);
      if (!page.truncated || !page.next) return out;
      ({ keyMarker, versionIdMarker } = page.next);
    }
  }

  /** Decides about the stored parts of one upload; returns how many were deleted. */
  private async settleGroup(bucket: BucketInfo, segments: BucketInfo, key: string, uploadId: string, parts: ObjectSummary[]): Promise<number> {
    const { store } = this.opts;
    const graceEnd = this.now() - this.opts.orphanGraceMs;
    if (parts.some((p) => timestampMillis(p.ts) > graceEnd)) return 0;
    if (await findUpload(store, bucket, key, uploadId)) return 0;
    let keep = new Set<string>();
    // The current version, and in a versioned bucket every version of the key, may be the object that
    // completed this upload (and a locked one could not lose its parts anyway: the nodes refuse).
    for (const versionId of await this.candidateVersions(bucket, key)) {
      // Newest: an older version seen on one device would make the current object's parts look orphaned.
      const object = await store.headObject(bucket, key, { versionId, newest: true });
      if ((object?.meta.multipart as { uploadId?: string } | undefined)?.uploadId !== uploadId) continue;
      const manifest = await store.getManifest(bucket, key, { versionId, newest: true });
      if (!manifest) return 0; // replaced between the two reads: decide next pass
      keep = new Set(manifest.segments.map((s) => s.key));
      break;
    }
    const doomed = parts.filter((p) => !keep.has(p.key));
    await mapLimit(doomed, 16, (p) => store.deleteObject(segments, p.key));
    if (doomed.length) this.opts.log(`multipart janitor: ${bucket.name}: deleted ${doomed.length} orphaned part(s) of upload ${uploadId}`);
    return doomed.length;
  }
}
