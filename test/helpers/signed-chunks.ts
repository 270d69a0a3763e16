/**
 * A test signer for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` uploads, which no client installed here
 * sends (CLIENTS.md §1.1). It follows AWS's documented algorithm on its own (it shares no code with
 * src/s3/auth), with aws4 signing the seed request:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import { createHash, createHmac } from 'node:crypto';
import type http from 'node:http';
import type { TestCluster } from './cluster.js';
import { signedOptions } from './raw.js';

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** What to send and how to spoil it. */
export interface SignedChunksOptions {
  /** Data bytes per chunk (AWS requires ≥ 8 KiB for all but the last). */
  chunkSize: number;
  /** A trailing header, e.g. `['x-amz-checksum-crc32', value]`: the -TRAILER variant with a signed trailer. */
  trailer?: [string, string];
  /** Extra request headers (signed). */
  headers?: Record<string, string>;
  /** Replace the signature of this chunk (0-based; the final empty chunk is the last index) with garbage. */
  corruptChunk?: number;
  /** Replace the trailer signature with garbage. */
  corruptTrailer?: boolean;
  /** x-amz-decoded-content-length to declare instead of the data's length. */
  declaredLength?: number;
}

/** Request options (with the seed signature) and the framed body of a signed streaming upload. */
export function signedChunkedRequest(cluster: TestCluster, method: string, path: string, data: Buffer, opts: SignedChunksOptions): { options: http.RequestOptions; body: Buffer } {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += opts.chunkSize) chunks.push(data.subarray(i, i + opts.chunkSize));
  chunks.push(Buffer.alloc(0));
  const fake = '0'.repeat(64);
  // Signatures are always 64 hex digits, so the framed length is known before anything is signed.
  const frame = (sigs: string[], trailerSig: string) => {
    const parts: Buffer[] = [];
    chunks.forEach((c, i) => {
      parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sigs[i]}\r\n`), c);
      if (c.length > 0 || !opts.trailer) parts.push(Buffer.from('\r\n'));
    });
    if (opts.trailer) parts.push(Buffer.from(`${opts.trailer[0]}:${opts.trailer[1]}\r\nx-amz-trailer-signature:${trailerSig}\r\n\r\n`));
    return Buffer.concat(parts);
  };
  const length = frame(chunks.map(() => fake), fake).length;
  const headers: Record<string, string> = {
    'content-encoding': 'aws-chunked',
    'content-length': String(length),
    'x-amz-decoded-content-length': String(opts.declaredLength ?? data.length),
    'x-amz-content-sha256': opts.trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    ...(opts.trailer ? { 'x-amz-trailer': opts.trailer[0] } : {}),
    ...opts.headers,
  };
  const options = signedOptions(cluster, method, path, headers);
  const h = options.headers as Record<string, string>;
  const seed = /Signature=([0-9a-f]{64})/.exec(h.Authorization)![1];
  const amzDate = h['X-Amz-Date'];
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  let key: Buffer = hmac(`AWS4${cluster.secretKey}`, amzDate.slice(0, 8));
  for (const part of ['us-east-1', 's3', 'aws4_request']) key = hmac(key, part);
  let previous = seed;
  const sigs = chunks.map((c, i) => {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, EMPTY_SHA256, sha256(c)].join('\n');
    previous = hmac(key, sts).toString('hex');
    return opts.corruptChunk === i ? 'f'.repeat(64) : previous;
  });
  let trailerSig = fake;
  if (opts.trailer) {
    const sts = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previous, sha256(`${opts.trailer[0]}:${opts.trailer[1]}\n`)].join('\n');
    trailerSig = opts.corruptTrailer ? 'e'.repeat(64) : hmac(key, sts).toString('hex');
  }
  return { options, body: frame(sigs, trailerSig) };
}
