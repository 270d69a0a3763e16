/**
 * What the multipart operations share: upload ids, where upload records and parts live, the size limits, and
 * reading an upload back.
 *
 * - An upload record is an empty object in the bucket's `uploads` internal bucket named `${key}\0${uploadId}`:
 *   NUL sorts before every other character, so a listing of records runs by key and, within a key, by upload
 *   id; upload ids start with the creation time, so that is also initiation order (what AWS lists).
 *   The record's metadata (`meta.upload`) holds everything the final object will carry.
 * - A part is an object in the bucket's `segments` internal bucket named `${key}/${uploadId}/${nnnnn}` (part
 *   number padded to five digits), so the parts of one upload list together and in order. Completing an
 *   upload writes a manifest over these objects: nothing is copied.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type ChecksumAlgorithm, CHECKSUM_TYPES, parseChecksumAlgorithm } from '../common/checksums.js';
import type { BucketInfo, ObjectInfo, ObjectStore, PutFinish } from '../proxy/object-store.js';
import { ownerXml, type S3Request } from './context.js';
import { S3Error } from './errors.js';
import { type CustomerKey, encryptUpload, type StoredSse } from './sse-c.js';
import { escapeXml } from './xml.js';

/** Smallest part but the last (5 MiB). */
export const minPartBytes = 5 * 1024 ** 2;
/** Largest part (5 GiB). */
export const maxPartBytes = 5 * 1024 ** 3;
/** Most parts in one upload. */
export const maxParts = 10_000;
/** Largest object a multipart upload may make (5 TiB; still an exact integer in a double). */
export const maxObjectBytes = 5 * 1024 ** 4;

export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** What CreateMultipartUpload fixed for the final object, kept in the upload record. */
export interface UploadRecord {
  key: string;
  uploadId: string;
  contentType: string;
  /** Object metadata of the final object (content headers, user metadata, tags, ACL headers, SSE-C seal). */
  objectMeta: Record<string, unknown>;
  /** The checksum every part carries and how the object's checksum is made from them. */
  checksum?: { algorithm: ChecksumAlgorithm; type: ChecksumType };
  /** Who started the upload. */
  initiator: { account: string; user: string };
}

/** An upload found in the store. */
export interface FoundUpload {
  record: UploadRecord;
  /** The record object (its timestamp is the initiation time). */
  info: ObjectInfo;
}

/** A new upload id: 12 hex digits of milliseconds since the epoch, then 20 random hex digits. */
export function newUploadId(now = Date.now()): string {
  return now.toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
}

/** True when `s` has the form of an upload id (anything else cannot name an upload). */
export function isUploadId(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}

/** The initiation time (ms) written into an upload id. */
export function uploadIdMillis(uploadId: string): number {
  return Number.parseInt(uploadId.slice(0, 12), 16);
}

export function recordName(key: string, uploadId: string): string {
  return `${key}\0${uploadId}`;
}

/** Splits a record name at its last NUL (keys may hold NUL themselves; upload ids never do). */
export function parseRecordName(name: string): { key: string; uploadId: string } | undefined {
  const at = name.lastIndexOf('\0');
  if (at < 0 || !isUploadId(name.slice(at + 1))) return undefined;
  return { key: name.slice(0, at), uploadId: name.slice(at + 1) };
}

/** The prefix all parts of one upload share. */
export function partPrefix(key: string, uploadId: string): string {
  return `${key}/${uploadId}/`;
}

export function partName(key: string, uploadId: string, partNumber: number): string {
  return partPrefix(key, uploadId) + String(partNumber).padStart(5, '0');
}

/** Splits a part name from the end (keys may hold `/`; upload ids and part numbers do not). */
export function parsePartName(name: string): { key: string; uploadId: string; partNumber: number } | undefined {
  const m = /^([\s\S]*)\/([0-9a-f]{32})\/(\d{5})$/.exec(name);
  if (!m) return undefined;
  return { key: m[1], uploadId: m[2], partNumber: Number(m[3]) };
}

/** Parses a part number parameter (1–10,000), InvalidArgument as AWS words it otherwise. */
export function parsePartNumber(value: string | null, name = 'partNumber'): number {
  if (value === null || !/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > maxParts) {
    throw new S3Error('InvalidArgument', {
      message: 'Part number must be an integer between 1 and 10000, inclusive',
      extra: { ArgumentName: name, ArgumentValue: value ?? '' },
    });
  }
  return Number(value);
}

/** Reads `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload. */
export function requestedUploadChecksum(req: S3Request): UploadRecord['checksum'] {
  const algoHeader = req.headers['x-amz-checksum-algorithm'] as string | undefined;
  const typeHeader = req.headers['x-amz-checksum-type'] as string | undefined;
  if (!algoHeader) {
    if (typeHeader) {
      throw new S3Error('InvalidRequest', { message: 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.' });
    }
    return undefined;
  }
  const algorithm = parseChecksumAlgorithm(algoHeader);
  if (!algorithm) {
    throw new S3Error('InvalidRequest', {
      message: 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    });
  }
  const allowed = CHECKSUM_TYPES[algorithm];
  const type = (typeHeader?.trim().toUpperCase() ?? allowed[0]) as ChecksumType;
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', { message: 'Value for x-amz-checksum-type header is invalid.' });
  }
  if (!allowed.includes(type)) {
    throw new S3Error('InvalidRequest', {
      message: `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    });
  }
  return { algorithm, type };
}

/** Writes the record of a new upload. */
export async function createUpload(store: ObjectStore, bucket: BucketInfo, record: UploadRecord): Promise<void> {
  const uploads = await store.internalBucket(bucket, 'uploads');
  await store.putObject(uploads, recordName(record.key, record.uploadId), {
    body: Readable.from([]),
    contentType: 'application/x-arca-upload',
    meta: { upload: record },
    listing: { initiator: record.initiator },
    finish: () => ({ etag: 'd41d8cd98f00b204e9800998ecf8427e' }),
  });
}

/** The upload `uploadId` of `key`, or undefined when there is none (never was, aborted or completed). */
export async function findUpload(store: ObjectStore, bucket: BucketInfo, key: string, uploadId: string): Promise<FoundUpload | undefined> {
  if (!isUploadId(uploadId)) return undefined;
  // A bucket that never had an upload has no companion yet: a read does not create one.
  const uploads = await store.findInternalBucket(bucket, 'uploads');
  if (!uploads) return undefined;
  const info = await store.headObject(uploads, recordName(key, uploadId));
  const record = info?.meta.upload as UploadRecord | undefined;
  if (!info || !record || record.key !== key || record.uploadId !== uploadId) return undefined;
  // A record older than the bucket belongs to a deleted bucket of the same name: its uploads went with it.
  if (info.ts < bucket.createdTs) return undefined;
  return { record, info };
}

/** NoSuchUpload as AWS words it. */
export function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', { extra: { UploadId: uploadId } });
}

/** Like {@link findUpload}, NoSuchUpload when absent. */
export async function getUpload(store: ObjectStore, bucket: BucketInfo, key: string, uploadId: string): Promise<FoundUpload> {
  const found = await findUpload(store, bucket, key, uploadId);
  if (!found) throw noSuchUpload(uploadId);
  return found;
}

/** Removes an upload's record (the upload no longer exists for clients). */
export async function deleteRecord(store: ObjectStore, bucket: BucketInfo, key: string, uploadId: string): Promise<void> {
  const uploads = await store.internalBucket(bucket, 'uploads');
  await store.deleteObject(uploads, recordName(key, uploadId));
}

/**
 * Deletes the stored parts of an upload, except those named in `keep` (the segments a completed object uses).
 * Parts written while this runs are left to the multipart janitor.
 */
export async function deleteParts(store: ObjectStore, bucket: BucketInfo, key: string, uploadId: string, keep: ReadonlySet<string> = new Set()): Promise<number> {
  const segments = await store.internalBucket(bucket, 'segments');
  const prefix = partPrefix(key, uploadId);
  let marker: string | undefined;
  let deleted = 0;
  for (;;) {
    const page = await store.listObjects(segments, { prefix, marker, limit: 1000 });
    const names = page.entries.flatMap((e) => ('key' in e ? [e.key] : []));
    await mapLimit(
      names.filter((n) => !keep.has(n)),
      16,
      async (n) => {
        await store.deleteObject(segments, n);
        deleted++;
      },
    );
    if (!page.truncated || names.length === 0) return deleted;
    marker = names[names.length - 1];
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** SSE-C seal of an upload, if it was started with a customer key. */
export function uploadSse(record: UploadRecord): StoredSse | undefined {
  return record.objectMeta.sse as StoredSse | undefined;
}

/**
 * Stores part `partNumber` of an upload from `body` (encrypted under `ck` when the upload is SSE-C). `finish`
 * checks the body once it has ended and gives the part's ETag and checksums; the part's checksums also go
 * into its listing row, for ListParts.
 */
export async function writePart(
  store: ObjectStore,
  bucket: BucketInfo,
  record: UploadRecord,
  partNumber: number,
  body: Readable,
  finish: (info: { size: number }) => PutFinish | Promise<PutFinish>,
  ck: CustomerKey | undefined,
): Promise<ObjectInfo> {
  const segments = await store.internalBucket(bucket, 'segments');
  const seal = uploadSse(record);
  let write = { body, finish };
  if (seal && ck) {
    const sealed = encryptUpload(body, ck, seal);
    write = { body: sealed.body, finish: async (i) => sealed.finish(await finish(i)) };
  }
  return store.putObject(segments, partName(record.key, record.uploadId, partNumber), {
    body: write.body,
    contentType: 'application/octet-stream',
    finish: async (i) => {
      const f = await write.finish(i);
      const checksums = f.meta?.checksums as Record<string, string> | undefined;
      return checksums ? { ...f, listing: { ...f.listing, checksums } } : f;
    },
  });
}

/** `<Initiator>` and `<Owner>` of an upload in listings. */
export function initiatorXml(initiator: UploadRecord['initiator'] | undefined, owner: string): string {
  const id = initiator?.account ?? owner;
  const name = initiator?.user ?? owner;
  return `<Initiator><ID>${escapeXml(id)}</ID><DisplayName>${escapeXml(name)}</DisplayName></Initiator>${ownerXml(owner)}`;
}

/** A non-negative integer query parameter (`max-parts`, `part-number-marker`, `max-uploads`) or its default. */
export function intParam(query: URLSearchParams, name: string, dflt: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2 ** 31 - 1) {
    throw new S3Error('InvalidArgument', {
      message: `Provided ${name} not an integer or within integer range`,
      extra: { ArgumentName: name, ArgumentValue: raw },
    });
  }
  return Number(raw);
}
