/**
 * The body of an S3 request as handlers consume it: aws-chunked framing removed (with chunk signatures and
 * trailers checked), the declared length known, and small bodies (XML documents) read whole with a limit.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { ArcaError } from '../common/errors.js';
import { checksumAlgorithmFromHeader, computeChecksum, isValidChecksum } from '../common/checksums.js';
import { type AuthResult, assertPayloadSha256, needsPayloadSha256 } from './auth/index.js';
import { awsChunkedOptions, createAwsChunkedDecoder, isAwsChunked } from './aws-chunked.js';
import type { S3Request } from './context.js';
import { S3Error } from './errors.js';
import { relay } from './relay.js';

/** A request body stream with what the request declared about it. */
export interface DecodedBody extends Readable {
  /** Bytes the client promised (Content-Length, or x-amz-decoded-content-length for aws-chunked). */
  declaredLength?: number;
  /** True when the body came with `Transfer-Encoding: chunked` and no declared length. */
  chunked: boolean;
  /** Trailing headers of an aws-chunked body (lower-case names), complete once the stream has ended. */
  trailingHeaders(): Record<string, string>;
}

function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new S3Error('InvalidArgument', { message: 'Invalid Content-Length', extra: { ArgumentName: 'Content-Length' } });
  return Number(v);
}

/** Options of {@link requestBody}. */
export interface RequestBodyOptions {
  /**
   * Milliseconds the client may send nothing before the body fails with RequestTimeout (ArcaError `Timeout`,
   * side `client`). Only while the body is being received: the socket's timer is off again once it has
   * arrived, so a long CopyObject or Complete after it is not cut short. Undefined: no limit.
   */
  idleTimeoutMs?: number;
}

/**
 * Decodes the body of `req` as its authentication says it is framed. The stream handed out is never `req`
 * itself: failing it (a stalled client, bad framing) leaves the socket open for the error reply.
 */
export function requestBody(req: IncomingMessage, auth: AuthResult, opts: RequestBodyOptions = {}): DecodedBody {
  const payload = auth.kind === 'signed' ? auth.payload : { kind: 'unsigned' as const };
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (isAwsChunked(payload)) {
    const chunkedOpts = awsChunkedOptions(req.headers, payload, auth.kind === 'signed' ? auth.chunkSigner : undefined);
    const decoder = relay(req, createAwsChunkedDecoder(chunkedOpts));
    watchIdle(req, decoder, opts.idleTimeoutMs);
    return Object.assign(decoder, {
      declaredLength: chunkedOpts.decodedContentLength,
      chunked: false,
      trailingHeaders: () => ({ ...decoder.trailers }),
    });
  }
  const length = contentLength(req);
  const body = relay(req, new PassThrough());
  watchIdle(req, body, opts.idleTimeoutMs);
  return Object.assign(body, { declaredLength: length, chunked: length === undefined && chunked, trailingHeaders: () => ({}) });
}

/**
 * Fails `body` with a client Timeout when the socket of `req` sees no traffic for `ms` while the body is
 * still arriving. Node does not destroy a socket whose request listens for 'timeout', so the error reply
 * can still be written (app.ts then closes the connection, the body being unread).
 */
function watchIdle(req: IncomingMessage, body: Readable, ms: number | undefined): void {
  if (ms === undefined || req.complete) return;
  const fire = () => body.destroy(new ArcaError('Timeout', `the client sent nothing for ${ms} ms`, { side: 'client' }));
  const stop = () => {
    req.off('timeout', fire);
    if (!req.socket?.destroyed) req.setTimeout(0);
  };
  req.setTimeout(ms, fire);
  req.once('end', stop);
  body.once('close', stop);
}

/** Reads a whole small body (an XML document); MaxMessageLengthExceeded beyond `max` bytes. */
export async function readSmallBody(req: S3Request, max: number): Promise<Buffer> {
  const body = req.body();
  if (body.declaredLength !== undefined && body.declaredLength > max) {
    body.resume();
    throw new S3Error('MaxMessageLengthExceeded', { message: 'Your request was too big.' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new S3Error('MaxMessageLengthExceeded', { message: 'Your request was too big.' });
    chunks.push(chunk);
  }
  const whole = Buffer.concat(chunks);
  if (needsPayloadSha256(req.payload)) assertPayloadSha256(req.payload, createHash('sha256').update(whole).digest('hex'));
  const md5 = req.headers['content-md5'];
  if (typeof md5 === 'string' && createHash('md5').update(whole).digest('base64') !== md5) {
    throw new S3Error(/^[A-Za-z0-9+/]{22}==$/.test(md5) ? 'BadDigest' : 'InvalidDigest');
  }
  // An `x-amz-checksum-*` header or trailer (the SDK's alternative to Content-MD5) must match too.
  const trailers = body.trailingHeaders();
  for (const [name, value] of [...Object.entries(req.headers), ...Object.entries(trailers)]) {
    const algo = checksumAlgorithmFromHeader(name);
    if (!algo || typeof value !== 'string') continue;
    if (!isValidChecksum(algo, value)) throw new S3Error('InvalidRequest', { message: `Value for ${name} header is invalid.` });
    if (computeChecksum(algo, whole) !== value) {
      throw new S3Error('BadDigest', { message: `The ${algo} you specified did not match the calculated checksum.` });
    }
  }
  return whole;
}

/**
 * Requests whose body AWS insists on a digest for (DeleteObjects, PutBucketTagging …): Content-MD5 or an
 * `x-amz-checksum-*` header or trailer must be present; {@link readSmallBody} then verifies it.
 */
export function requireBodyDigest(req: S3Request): void {
  if (req.headers['content-md5'] !== undefined || req.headers['x-amz-trailer'] !== undefined) return;
  if (Object.keys(req.headers).some((name) => checksumAlgorithmFromHeader(name) !== undefined)) return;
  throw new S3Error('InvalidRequest', { message: 'Missing required header for this request: Content-MD5' });
}

