/**
 * What CopyObject and UploadPartCopy share: the `x-amz-copy-source` header, the conditional copy headers
 * (`x-amz-copy-source-if-*`), `x-amz-copy-source-range`, the SSE-C key of the source, the 5 GiB limit, and
 * digesting the copied bytes on their way from the source to the destination (nothing is copied by
 * reference: a copy streams through the proxy, so its segments never outlive or share another object's).
 */
import { Transform } from 'node:stream';
import { type ChecksumAlgorithm, Digester } from '../common/checksums.js';
import { timestampMillis } from '../common/timestamp.js';
import type { BucketInfo, ObjectInfo, PutFinish } from '../proxy/object-store.js';
import { accessBucket, type S3Deps, type S3Request } from './context.js';
import { S3Error } from './errors.js';
import { relay } from './relay.js';
import { type ObjectRead, readObject } from './object-read.js';
import { customerKey } from './sse-c.js';
import { isValidVersionId } from '../proxy/object-store.js';
import { missing } from './versions.js';

/** Largest source a copy (or a copied part's range) may have: 5 GiB. */
export const maxCopySourceBytes = 5 * 1024 ** 3;

export interface CopySource {
  bucket: string;
  key: string;
  /** `?versionId=`: the version to copy (the current one when absent). */
  versionId?: string;
}

function badSource(): S3Error {
  return new S3Error('InvalidArgument', {
    message: 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
    extra: { ArgumentName: 'x-amz-copy-source' },
  });
}

/** Parses `x-amz-copy-source`: URL-encoded `bucket/key`, with or without a leading `/`, maybe `?versionId=`. */
export function parseCopySource(header: string | string[] | undefined): CopySource {
  if (typeof header !== 'string') throw badSource();
  let raw = header.startsWith('/') ? header.slice(1) : header;
  let versionId: string | undefined;
  const q = raw.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(raw.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    raw = raw.slice(0, q);
  }
  const slash = raw.indexOf('/');
  if (slash <= 0 || slash === raw.length - 1) throw badSource();
  try {
    return { bucket: decodeURIComponent(raw.slice(0, slash)), key: decodeURIComponent(raw.slice(slash + 1)), versionId };
  } catch {
    throw badSource();
  }
}

function parseDate(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

function etagIn(list: string, etag: string): boolean {
  return list.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^"|"$/g, '') === etag;
  });
}

/**
 * The conditional copy headers, as AWS applies them: If-Match true decides over If-Unmodified-Since,
 * If-None-Match over If-Modified-Since; any failure is PreconditionFailed (412, never 304).
 */
export function checkCopyConditions(headers: Record<string, string | string[] | undefined>, info: ObjectInfo): void {
  const modified = Math.floor(timestampMillis(info.ts) / 1000) * 1000;
  const ifMatch = headers['x-amz-copy-source-if-match'] as string | undefined;
  const ifNoneMatch = headers['x-amz-copy-source-if-none-match'] as string | undefined;
  const ifUnmodifiedSince = parseDate(headers['x-amz-copy-source-if-unmodified-since']);
  const ifModifiedSince = parseDate(headers['x-amz-copy-source-if-modified-since']);
  const fail = (condition: string) => new S3Error('PreconditionFailed', { extra: { Condition: condition } });
  if (ifMatch !== undefined) {
    if (!etagIn(ifMatch, info.etag)) throw fail('x-amz-copy-source-If-Match');
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw fail('x-amz-copy-source-If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagIn(ifNoneMatch, info.etag)) throw fail('x-amz-copy-source-If-None-Match');
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    throw fail('x-amz-copy-source-If-Modified-Since');
  }
}

/** Parses `x-amz-copy-source-range` (`bytes=first-last`, both required). */
export function parseCopyRange(header: string | string[] | undefined): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = typeof header === 'string' ? /^bytes=(\d+)-(\d+)$/.exec(header.trim()) : null;
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new S3Error('InvalidArgument', {
      message: 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      extra: { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: String(header) },
    });
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

function tooLarge(): S3Error {
  return new S3Error('InvalidRequest', {
    message: `The specified copy source is larger than the maximum allowable size for a copy source: ${maxCopySourceBytes}`,
  });
}

/** An opened copy source: its bucket, the read (body streaming) and how many bytes it will yield. */
export interface OpenedSource {
  source: CopySource;
  bucket: BucketInfo;
  read: ObjectRead;
  length: number;
}

/**
 * Opens the copy source of a request for reading, after checking the caller may read it, its SSE-C key, the
 * conditional copy headers, `range` against its size, and the 5 GiB limit.
 */
export async function openCopySource(req: S3Request, deps: S3Deps, range?: { start: number; end: number }): Promise<OpenedSource> {
  const source = parseCopySource(req.headers['x-amz-copy-source']);
  const bucket = await accessBucket(req, deps, source.bucket, 's3:GetObject', source.key);
  if (source.versionId !== undefined && !isValidVersionId(source.versionId)) {
    throw new S3Error('InvalidArgument', { message: 'Invalid version id specified', extra: { ArgumentName: 'x-amz-copy-source', ArgumentValue: source.versionId } });
  }
  const read = await readObject(deps.store, bucket, source.key, {
    rangeHeader: range ? `bytes=${range.start}-${range.end}` : undefined,
    customerKey: customerKey(req.headers, true),
    versionId: source.versionId,
    // As Swift's copy: the copy is a new write, made from the newest source, not a device's older copy.
    newest: true,
  });
  if (!read) throw missing(source.key, source.versionId);
  if (read.info.deleteMarker) {
    read.body.destroy();
    // AWS: a delete marker is not a valid copy source.
    throw new S3Error('InvalidRequest', { message: 'The source of a copy request may not specifically refer to a delete marker by version id.' });
  }
  try {
    checkCopyConditions(req.headers, read.info);
    const size = read.info.size;
    if (range && range.end >= size) {
      throw new S3Error('InvalidArgument', {
        message: `Range specified is not valid for source object of size: ${size}`,
        extra: { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: String(req.headers['x-amz-copy-source-range']) },
      });
    }
    const length = range ? range.end - range.start + 1 : size;
    if (length > maxCopySourceBytes) throw tooLarge();
    return { source, bucket, read, length };
  } catch (err) {
    read.body.destroy();
    throw err;
  }
}

/**
 * Digests copied bytes on their way to the store: the MD5 (the new ETag) and the checksum `algo`, if any.
 * `finish` also checks that exactly `length` bytes came through.
 */
export function copyStream(source: ObjectRead['body'], length: number, algo?: ChecksumAlgorithm): { body: Transform; finish(info: { size: number }): PutFinish } {
  const digester = new Digester({ md5: true, checksums: algo ? [algo] : [] });
  const body = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      digester.update(chunk);
      cb(null, chunk);
    },
  });
  relay(source, body);
  return {
    body,
    finish: ({ size }) => {
      if (size !== length) throw new Error(`copy source yielded ${size} of ${length} bytes`);
      const d = digester.digest();
      const meta: Record<string, unknown> = {};
      if (algo) {
        meta.checksums = { [algo]: d.checksums[algo] };
        meta.checksumType = 'FULL_OBJECT';
      }
      return { etag: d.md5Hex!, meta };
    },
  };
}
