/**
 * What PutObject and UploadPart share: reading the upload's headers (content headers, user metadata,
 * Content-MD5, x-amz-checksum-*), digesting the body once as it streams to storage, and checking every
 * digest the client supplied before anything is committed.
 */
import { Transform } from 'node:stream';
import {
  type ChecksumAlgorithm,
  checksumAlgorithmFromHeader,
  checksumHeaderName,
  Digester,
  digestOffThread,
  passWhenCaughtUp,
  isValidChecksum,
  parseChecksumAlgorithm,
} from '../common/checksums.js';
import type { PutFinish } from '../proxy/object-store.js';
import { assertPayloadSha256, needsPayloadSha256 } from './auth/index.js';
import type { S3Request } from './context.js';
import { S3Error } from './errors.js';
import { storedHeaderNames } from './object-response.js';
import { relay } from './relay.js';
import type { DecodedBody } from './request-body.js';

/** Largest object a single PUT may carry (5 GiB). */
export const maxSinglePutBytes = 5 * 1024 ** 3;
/** Largest total of user metadata names and values (2 KB, as S3). */
const maxUserMetaBytes = 2048;

export interface UploadHeaders {
  contentType: string;
  meta: Record<string, unknown>;
}

/** Content-Type, the stored content headers and `x-amz-meta-*` of a request. */
export function uploadHeaders(req: S3Request): UploadHeaders {
  const h = req.headers;
  const headers: Record<string, string> = {};
  for (const name of storedHeaderNames) {
    let v = h[name] as string | undefined;
    // aws-chunked is the framing of this request, not a property of the object.
    if (name === 'content-encoding' && v) v = v.split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked').join(', ');
    if (v) headers[name] = v;
  }
  const userMeta: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const short = name.slice('x-amz-meta-'.length);
    const v = Array.isArray(value) ? value.join(',') : String(value);
    userMeta[short] = v;
    metaBytes += Buffer.byteLength(short) + Buffer.byteLength(v);
  }
  if (metaBytes > maxUserMetaBytes) {
    throw new S3Error('MetadataTooLarge', {
      message: 'Your metadata headers exceed the maximum allowed metadata size.',
      extra: { Size: String(metaBytes), MaxSizeAllowed: String(maxUserMetaBytes) },
    });
  }
  const meta: Record<string, unknown> = {};
  if (Object.keys(headers).length) meta.headers = headers;
  if (Object.keys(userMeta).length) meta.userMeta = userMeta;
  return { contentType: (h['content-type'] as string | undefined) || 'binary/octet-stream', meta };
}

/** The checksum a request asks for: its algorithm and, when sent as a header, the expected value. */
function requestedChecksum(req: S3Request): { algo: ChecksumAlgorithm; expected?: string; inTrailer: boolean } | undefined {
  for (const name of Object.keys(req.headers)) {
    const algo = checksumAlgorithmFromHeader(name);
    if (!algo) continue;
    const expected = String(req.headers[name]);
    if (!isValidChecksum(algo, expected)) {
      throw new S3Error('InvalidRequest', { message: `Value for ${name} header is invalid.` });
    }
    return { algo, expected, inTrailer: false };
  }
  const trailer = req.headers['x-amz-trailer'] as string | undefined;
  if (trailer) {
    const algo = checksumAlgorithmFromHeader(trailer.trim().toLowerCase());
    if (!algo) throw new S3Error('InvalidRequest', { message: `The value specified in the x-amz-trailer header is not supported` });
    return { algo, inTrailer: true };
  }
  const named = (req.headers['x-amz-sdk-checksum-algorithm'] ?? req.headers['x-amz-checksum-algorithm']) as string | undefined;
  if (named) {
    const algo = parseChecksumAlgorithm(named);
    if (!algo) throw new S3Error('InvalidRequest', { message: 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]' });
    return { algo, inTrailer: false };
  }
  return undefined;
}

export interface PreparedUpload extends UploadHeaders {
  /** The decoded body, digested as it flows. */
  body: Transform;
  /** The checksum algorithm of this upload, if any. */
  checksum?: ChecksumAlgorithm;
  /** Checks sizes and digests once the body has ended; the ETag and checksums to store. */
  finish(info: { size: number }): Promise<PutFinish>;
}

/** Options of {@link prepareUpload}. */
export interface PrepareUploadOptions {
  /**
   * The checksum this upload must carry (a part of a multipart upload created with one): computed even when
   * the request names none; a request naming another algorithm is InvalidRequest.
   */
  checksum?: ChecksumAlgorithm;
}

/** Prepares an upload of at most `maxBytes` bytes: validates its headers and wires up the digests. */
export function prepareUpload(req: S3Request, maxBytes: number, opts: PrepareUploadOptions = {}): PreparedUpload {
  const headers = uploadHeaders(req);
  const contentMd5 = req.headers['content-md5'] as string | undefined;
  if (contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) throw new S3Error('InvalidDigest');
  let checksum = requestedChecksum(req);
  if (opts.checksum) {
    if (checksum && checksum.algo !== opts.checksum) {
      throw new S3Error('InvalidRequest', {
        message: `Checksum Type mismatch occurred, expected checksum Type: ${opts.checksum.toLowerCase()}, actual checksum Type: ${checksum.algo.toLowerCase()}`,
      });
    }
    checksum ??= { algo: opts.checksum, inTrailer: false };
  }
  const source: DecodedBody = req.body();
  const declared = source.declaredLength;
  if (declared === undefined && !source.chunked) throw new S3Error('MissingContentLength');
  if (declared !== undefined && declared > maxBytes) {
    throw new S3Error('EntityTooLarge', { extra: { ProposedSize: String(declared), MaxSizeAllowed: String(maxBytes) } });
  }
  const digester = new Digester({
    md5: true,
    sha256Hex: needsPayloadSha256(req.payload),
    checksums: checksum ? [checksum.algo] : [],
    offThread: digestOffThread(declared),
  });
  let seen = 0;
  const body = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > maxBytes) return cb(new S3Error('EntityTooLarge', { extra: { MaxSizeAllowed: String(maxBytes) } }));
      passWhenCaughtUp(digester.update(chunk), chunk, cb);
    },
  });
  relay(source, body);
  return {
    ...headers,
    body,
    checksum: checksum?.algo,
    finish: async ({ size }) => {
      if (declared !== undefined && size !== declared) {
        throw new S3Error('IncompleteBody', { message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' });
      }
      const d = await digester.settle();
      if (d.sha256Hex !== undefined) assertPayloadSha256(req.payload, d.sha256Hex);
      if (contentMd5 !== undefined && d.md5Base64 !== contentMd5) throw new S3Error('BadDigest', { extra: { ExpectedDigest: contentMd5 } });
      const meta: Record<string, unknown> = {};
      if (checksum) {
        const actual = d.checksums[checksum.algo]!;
        const expected = checksum.inTrailer ? source.trailingHeaders()[checksumHeaderName(checksum.algo)] : checksum.expected;
        if (checksum.inTrailer && expected === undefined) {
          throw new S3Error('MalformedTrailerError', { message: 'The request contained trailing data that was not well-formed or did not conform to our published schema.' });
        }
        if (expected !== undefined && expected !== actual) {
          throw new S3Error('BadDigest', { message: `The ${checksum.algo} you specified did not match the calculated checksum.` });
        }
        meta.checksums = { [checksum.algo]: actual };
        meta.checksumType = 'FULL_OBJECT';
      }
      return { etag: d.md5Hex!, meta };
    },
  };
}
