/**
 * Reading an object as GetObject, HeadObject and copy sources need it: the byte range a `Range` header or a
 * `partNumber` names, the SSE-C key checked, and encrypted bytes decrypted on the way out.
 *
 * A `partNumber` of a multipart object is the byte range of that segment of its manifest; part 1 of a plain
 * object is the whole object (as AWS: 206 with a Content-Range unless it is empty), any other part of it is
 * InvalidPartNumber.
 */
import { Readable } from 'node:stream';
import { parseRange, resolveRange } from '../common/byte-range.js';
import { isArcaError } from '../common/errors.js';
import type { BucketInfo, ObjectInfo, ObjectStore, SegmentRef } from '../proxy/object-store.js';
import { authorizeObject, type S3Deps, type S3Request } from './context.js';
import { S3Error } from './errors.js';
import { parsePartNumber } from './multipart.js';
import { invalidRange } from './object-response.js';
import { type CustomerKey, type EncryptedSegment, customerKey as parseCustomerKey, requireKey, SegmentDecipher, type StoredSse } from './sse-c.js';
import { versionIdParam } from './versions.js';

export interface ReadOptions {
  /** The Range header (or `x-amz-copy-source-range`), as sent. */
  rangeHeader?: string;
  /** The `partNumber` parameter, already checked to be 1–10,000. */
  partNumber?: number;
  /** The SSE-C key the request brought. */
  customerKey?: CustomerKey;
  /** The version to read (`versionId`), already checked to be well-formed; the current one when absent. */
  versionId?: string;
  /** Read the newest version a read quorum holds, not the first device's (ObjectReadOptions.newest). */
  newest?: boolean;
}

/**
 * The request header that asks a GetObject or HeadObject for the newest version (Arca's; Swift's `X-Newest`):
 * without it a replicated object is read from one device, which may briefly serve an older version after a
 * write it missed (docs/proxy.md).
 */
export const newestHeader = 'x-arca-newest';

/** True when the request asks for the newest version (`x-arca-newest: true`, or 1, yes, on). */
export function wantsNewest(headers: Record<string, string | string[] | undefined>): boolean {
  const v = headers[newestHeader];
  return typeof v === 'string' && /^(true|1|yes|on)$/i.test(v.trim());
}

/** What a read serves, short of the bytes. */
/**
 * The read a GetObject or HeadObject asks for: its Range, `partNumber`, SSE-C key, `versionId` and
 * `x-arca-newest`. A specific version needs s3:GetObjectVersion too (as on AWS), checked here.
 */
export async function requestedRead(req: S3Request, deps: S3Deps, bucket: BucketInfo): Promise<ReadOptions> {
  const partNumber = req.query.has('partNumber') ? parsePartNumber(req.query.get('partNumber')) : undefined;
  const customerKey = parseCustomerKey(req.headers);
  const versionId = versionIdParam(req.query);
  if (versionId !== undefined) await authorizeObject(req, deps, bucket, 's3:GetObjectVersion', req.key!);
  return { rangeHeader: req.headers.range, partNumber, customerKey, versionId, newest: wantsNewest(req.headers) };
}

export interface ObjectStat {
  info: ObjectInfo;
  /** The inclusive byte range served, when partial (Range or partNumber). */
  range?: { start: number; end: number };
  /** With `partNumber`: how many parts the object has (1 for a plain object). */
  partsCount?: number;
}

export interface ObjectRead extends ObjectStat {
  body: Readable;
}

/** InvalidPartNumber as AWS words it. */
function invalidPartNumber(partNumber: number, partsCount: number): S3Error {
  return new S3Error('InvalidPartNumber', { extra: { PartNumberRequested: String(partNumber), ActualPartCount: String(partsCount) } });
}

function bothRangeAndPart(): S3Error {
  return new S3Error('InvalidRequest', { message: 'Cannot specify both Range header and partNumber query parameter' });
}

/** Where part `partNumber` lies: from the manifest of a multipart object, or the whole of a plain one. */
async function partStat(store: ObjectStore, bucket: BucketInfo, key: string, partNumber: number, opts: ReadOptions): Promise<(ObjectStat & { segments?: SegmentRef[] }) | undefined> {
  const { versionId, newest } = opts;
  const manifest = await store.getManifest(bucket, key, { versionId, newest });
  if (manifest) {
    const { info, segments } = manifest;
    if (partNumber > segments.length) throw invalidPartNumber(partNumber, segments.length);
    let start = 0;
    for (let i = 0; i < partNumber - 1; i++) start += segments[i].size;
    const size = segments[partNumber - 1].size;
    return { info, segments, partsCount: segments.length, range: size > 0 ? { start, end: start + size - 1 } : undefined };
  }
  const info = await store.headObject(bucket, key, { versionId, newest });
  if (!info) return undefined;
  if (partNumber !== 1) throw invalidPartNumber(partNumber, 1);
  return { info, partsCount: 1, range: info.size > 0 ? { start: 0, end: info.size - 1 } : undefined };
}

/** HeadObject's view: what a GET with the same options would serve. Undefined when there is no object. */
export async function statObject(store: ObjectStore, bucket: BucketInfo, key: string, opts: ReadOptions): Promise<ObjectStat | undefined> {
  if (opts.partNumber !== undefined) {
    if (opts.rangeHeader !== undefined) throw bothRangeAndPart();
    const stat = await partStat(store, bucket, key, opts.partNumber, opts);
    if (stat) requireKey(stat.info.meta.sse as StoredSse | undefined, opts.customerKey);
    return stat && { info: stat.info, range: stat.range, partsCount: stat.partsCount };
  }
  const info = await store.headObject(bucket, key, { versionId: opts.versionId, newest: opts.newest });
  if (!info) return undefined;
  if (info.deleteMarker) return { info };
  requireKey(info.meta.sse as StoredSse | undefined, opts.customerKey);
  const range = parseRange(opts.rangeHeader);
  if (!range) return { info };
  const resolved = resolveRange(range, info.size);
  if (!resolved) throw invalidRange(opts.rangeHeader, info.size);
  return { info, range: resolved };
}

/** The encrypted stretches of an SSE-C object: itself, or each segment of a multipart object. */
async function encryptedSegments(store: ObjectStore, bucket: BucketInfo, key: string, info: ObjectInfo, known: SegmentRef[] | undefined, opts: ReadOptions): Promise<EncryptedSegment[]> {
  const sse = info.meta.sse as StoredSse;
  if (info.parts === undefined) return [{ size: info.size, iv: Buffer.from(sse.iv ?? '', 'base64') }];
  let segments = known;
  if (!segments) {
    const manifest = await store.getManifest(bucket, key, { versionId: opts.versionId, newest: opts.newest });
    if (!manifest || manifest.info.ts !== info.ts) throw new S3Error('ServiceUnavailable', { message: 'The object changed while it was read; please retry.' });
    segments = manifest.segments;
  }
  return segments.map((s) => ({ size: s.size, iv: Buffer.from(String(s.extra?.iv ?? ''), 'base64') }));
}

/**
 * Opens an object for reading: the bytes of the requested range or part, decrypted when SSE-C. Undefined when
 * there is no object; InvalidRange, InvalidPartNumber and the SSE-C errors as AWS answers them.
 */
export async function readObject(store: ObjectStore, bucket: BucketInfo, key: string, opts: ReadOptions): Promise<ObjectRead | undefined> {
  let stat: (ObjectStat & { segments?: SegmentRef[] }) | undefined;
  let result: Awaited<ReturnType<ObjectStore['getObject']>>;
  if (opts.partNumber !== undefined) {
    if (opts.rangeHeader !== undefined) throw bothRangeAndPart();
    stat = await partStat(store, bucket, key, opts.partNumber, opts);
    if (!stat) return undefined;
    requireKey(stat.info.meta.sse as StoredSse | undefined, opts.customerKey);
    // An empty part (or empty object) has no byte range to ask for.
    if (!stat.range) return { info: stat.info, body: Readable.from([]), partsCount: stat.partsCount };
    result = await store.getObject(bucket, key, { range: stat.range, versionId: opts.versionId, newest: opts.newest });
    if (!result || result.info.ts !== stat.info.ts) {
      result?.body.destroy();
      throw new S3Error('ServiceUnavailable', { message: 'The object changed while it was read; please retry.' });
    }
  } else {
    try {
      result = await store.getObject(bucket, key, { range: parseRange(opts.rangeHeader), versionId: opts.versionId, newest: opts.newest });
    } catch (err) {
      if (isArcaError(err, 'RangeNotSatisfiable')) throw invalidRange(opts.rangeHeader, Number(err.detail.size));
      throw err;
    }
    if (!result) return undefined;
  }
  const { info } = result;
  if (info.deleteMarker) return { info, body: result.body };
  const sse = info.meta.sse as StoredSse | undefined;
  try {
    requireKey(sse, opts.customerKey);
    let body = result.body;
    if (sse && opts.customerKey) {
      const segments = await encryptedSegments(store, bucket, key, info, stat?.segments, opts);
      const decipher = new SegmentDecipher(opts.customerKey.key, segments, result.range?.start ?? 0);
      body.on('error', (err) => decipher.destroy(err));
      body = body.pipe(decipher);
    }
    return { info, body, range: stat ? stat.range : result.range, partsCount: stat?.partsCount };
  } catch (err) {
    result.body.destroy();
    throw err;
  }
}

/** Content-Length and, for a partial read, Content-Range of a response serving `stat`. */
export function lengthHeaders(stat: ObjectStat): Record<string, string | number> {
  const { info, range } = stat;
  const h: Record<string, string | number> = {};
  if (range) {
    h['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
    h['content-length'] = range.end - range.start + 1;
  } else {
    h['content-length'] = stat.partsCount !== undefined && info.parts !== undefined ? 0 : info.size;
  }
  if (stat.partsCount !== undefined && info.parts !== undefined) h['x-amz-mp-parts-count'] = stat.partsCount;
  return h;
}
