/**
 * What GetObject and HeadObject share: the stored headers of an object, conditional requests, and Range.
 * The S3 metadata kept with each object (`ObjectInfo.meta`) is:
 *   `userMeta`   x-amz-meta-* values by lower-case name (without the prefix)
 *   `headers`    Content-Encoding/-Disposition/-Language, Cache-Control, Expires as sent
 *   `checksums`  `{ CRC32: base64, … }` of the whole object (`checksumType` COMPOSITE or FULL_OBJECT)
 *   `tags`       the object's tag set, `[{ Key, Value }]` (tagging.ts)
 *   `sse`        the SSE-C seal of an encrypted object (sse-c.ts)
 *   `multipart`  `{ uploadId }` of an object a CompleteMultipartUpload made
 */
import { lockHeaders } from './object-lock.js';
import { versionHeaders } from './versions.js';
import { timestampMillis } from '../common/timestamp.js';
import type { ObjectInfo } from '../proxy/object-store.js';
import { S3Error } from './errors.js';
import { checksumHeaderName, type ChecksumAlgorithm } from '../common/checksums.js';

/** Headers stored as sent and returned on GET/HEAD. */
export const storedHeaderNames = ['content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires'] as const;

export function lastModified(info: ObjectInfo): Date {
  return new Date(timestampMillis(info.ts));
}

/** The response headers that describe an object (no Content-Length: that depends on the range). */
export function objectHeaders(info: ObjectInfo, opts: { checksumMode: boolean }): Record<string, string | number> {
  const h: Record<string, string | number> = {
    'content-type': info.contentType || 'binary/octet-stream',
    etag: `"${info.etag}"`,
    'last-modified': lastModified(info).toUTCString(),
    'accept-ranges': 'bytes',
  };
  const stored = info.meta.headers as Record<string, string> | undefined;
  if (stored) for (const name of storedHeaderNames) if (stored[name] !== undefined) h[name] = stored[name];
  const userMeta = info.meta.userMeta as Record<string, string> | undefined;
  if (userMeta) for (const [k, v] of Object.entries(userMeta)) h[`x-amz-meta-${k}`] = v;
  const tags = info.meta.tags as unknown[] | undefined;
  if (tags?.length) h['x-amz-tagging-count'] = tags.length;
  Object.assign(h, versionHeaders(info), lockHeaders(info));
  const checksums = info.meta.checksums as Partial<Record<ChecksumAlgorithm, string>> | undefined;
  if (opts.checksumMode && checksums) {
    for (const [algo, value] of Object.entries(checksums)) h[checksumHeaderName(algo as ChecksumAlgorithm)] = value;
    if (info.meta.checksumType) h['x-amz-checksum-type'] = String(info.meta.checksumType);
  }
  return h;
}

function parseHttpDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag.replace(/^"|"$/g, '') === etag;
  });
}

/**
 * Applies If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since as S3 does (RFC 9110 order:
 * If-Match decides over If-Unmodified-Since, If-None-Match over If-Modified-Since). Throws
 * PreconditionFailed (412) or NotModified (304).
 */
export function checkConditions(headers: Record<string, string | string[] | undefined>, info: ObjectInfo): void {
  const modified = Math.floor(timestampMillis(info.ts) / 1000) * 1000;
  const ifMatch = headers['if-match'] as string | undefined;
  const ifNoneMatch = headers['if-none-match'] as string | undefined;
  const ifModifiedSince = parseHttpDate(headers['if-modified-since'] as string | undefined);
  const ifUnmodifiedSince = parseHttpDate(headers['if-unmodified-since'] as string | undefined);
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, info.etag)) throw new S3Error('PreconditionFailed', { extra: { Condition: 'If-Match' } });
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw new S3Error('PreconditionFailed', { extra: { Condition: 'If-Unmodified-Since' } });
  }
  const notModified = { headers: { etag: `"${info.etag}"`, 'last-modified': new Date(modified).toUTCString() } };
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, info.etag)) throw new S3Error('NotModified', notModified);
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    throw new S3Error('NotModified', notModified);
  }
}



/** InvalidRange (416) as S3 words it. */
export function invalidRange(header: string | undefined, size: number): S3Error {
  return new S3Error('InvalidRange', {
    extra: { RangeRequested: header ?? '', ActualObjectSize: String(size) },
    headers: { 'content-range': `bytes */${size}` },
  });
}

/** `response-*` query parameters a signed GET may use to override response headers. */
const overrides: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** Applies `response-*` overrides; S3 refuses them on anonymous requests. */
export function applyOverrides(headers: Record<string, string | number>, query: URLSearchParams, signed: boolean): void {
  for (const [param, header] of Object.entries(overrides)) {
    const v = query.get(param);
    if (v === null) continue;
    if (!signed) throw new S3Error('InvalidRequest', { message: 'Request specific response headers cannot be used for anonymous GET requests.' });
    headers[header] = v;
  }
}
