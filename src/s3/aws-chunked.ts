/**
 * Decoding of `Content-Encoding: aws-chunked` bodies, the framing of every streaming upload:
 *
 *   hex-size[;chunk-signature=sig]\r\n data \r\n … 0[;chunk-signature=sig]\r\n
 *   [name:value\r\n …] [x-amz-trailer-signature:sig\r\n] \r\n
 *
 * (after node has removed any HTTP `Transfer-Encoding: chunked`). The SDK sends it for every stream body
 * (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, CLIENTS.md §1.1); Java SDK v1 and mc sign each chunk.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 *
 * The decoder hands data through as slices of the input (no copies, no per-byte loops over data) and keeps
 * only the current framing line in memory. Data of a signed chunk flows before the chunk's signature has been
 * checked (the signature needs the whole chunk): consumers, like for any upload, commit only once the stream
 * has ended without error.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { type ChunkSignatureVerifier, EMPTY_SHA256 } from './auth/chunk-signer.js';
import type { PayloadMode } from './auth/types.js';
import { S3Error } from './errors.js';

/** Smallest chunk AWS accepts in a signed stream, except for the last data chunk. */
export const MIN_SIGNED_CHUNK = 8192;
const MAX_LINE = 4096; // a chunk header with signature is ~90 bytes
const MAX_TRAILER_BYTES = 16 * 1024;

/** How to decode one body. */
export interface AwsChunkedOptions {
  /** `x-amz-decoded-content-length`: the decoded size must equal it. Undefined skips the check. */
  decodedContentLength?: number;
  /** Verifies chunk signatures; when set, every chunk must carry a valid `chunk-signature`. */
  signer?: ChunkSignatureVerifier;
  /** Trailing headers announced in `x-amz-trailer` (lower-case). Each must arrive; no others are accepted. */
  trailers?: readonly string[];
  /** `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: the trailer section must end with a valid signature. */
  signedTrailer?: boolean;
}

/** True when the payload mode means the body is aws-chunked framed. */
export function isAwsChunked(payload: PayloadMode): boolean {
  return payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
}

/**
 * The decoder options for a request: `x-amz-decoded-content-length` (required by AWS: MissingContentLength
 * without it, InvalidArgument when not a number), `x-amz-trailer`, and the chunk signer from authentication.
 */
export function awsChunkedOptions(
  headers: Record<string, string | string[] | undefined>,
  payload: PayloadMode,
  chunkSigner?: ChunkSignatureVerifier,
): AwsChunkedOptions {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const lengthText = one('x-amz-decoded-content-length')?.trim();
  if (lengthText === undefined) throw new S3Error('MissingContentLength');
  if (!/^\d{1,15}$/.test(lengthText)) {
    throw new S3Error('InvalidArgument', {
      message: 'x-amz-decoded-content-length is not a valid length',
      extra: { ArgumentName: 'x-amz-decoded-content-length', ArgumentValue: lengthText },
    });
  }
  const trailers = (one('x-amz-trailer') ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  const signed = payload.kind === 'streaming-signed';
  if (signed && !chunkSigner) throw new Error('a signed aws-chunked payload needs the chunk signer from authentication');
  return {
    decodedContentLength: Number(lengthText),
    signer: signed ? chunkSigner : undefined,
    trailers,
    signedTrailer: signed && payload.trailer,
  };
}

function malformed(reason: string): S3Error {
  return new S3Error('IncompleteBody', { message: `The aws-chunked body is malformed: ${reason}` });
}

function badTrailer(reason: string): S3Error {
  return new S3Error('MalformedTrailerError', {
    message: `The request contained trailing data that was not well-formed or did not conform to our published schema: ${reason}`,
  });
}

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

/** A Transform from aws-chunked framing to the object's bytes. Errors are S3Errors; the stream is destroyed. */
export class AwsChunkedDecoder extends Transform {
  #state: State = 'size';
  #line: Buffer[] = [];
  #lineLength = 0;
  #remaining = 0;
  #crlf = 0;
  #chunkSignature: string | undefined;
  #hash: Hash | undefined;
  #previousChunkSize: number | undefined;
  #chunks = 0;
  #decoded = 0;
  #trailerBytes = 0;
  #trailerCanonical = '';
  #trailerSignature: string | undefined;
  readonly #trailers: Record<string, string> = {};
  readonly #opts: AwsChunkedOptions;

  constructor(opts: AwsChunkedOptions = {}) {
    super();
    this.#opts = opts;
  }

  /** Decoded bytes passed through so far. */
  get decodedBytes(): number {
    return this.#decoded;
  }

  /** Trailing headers (lower-case names, e.g. `x-amz-checksum-crc32`), complete once the stream has ended. */
  get trailers(): Readonly<Record<string, string>> {
    return this.#trailers;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.#state === 'trailer' && this.#lineLength === 0) {
        this.#finishTrailers(); // tolerated: the blank line after the last trailer is missing
      } else if (this.#state !== 'done') {
        throw new S3Error('IncompleteBody', { message: 'The aws-chunked body ended before its final chunk.' });
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  #consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.#state) {
        case 'size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, pos);
          const end = nl < 0 ? buf.length : nl;
          this.#lineLength += end - pos;
          if (this.#lineLength > (this.#state === 'size' ? MAX_LINE : MAX_TRAILER_BYTES)) {
            throw this.#state === 'size' ? malformed('chunk header line too long') : badTrailer('trailer too long');
          }
          this.#line.push(buf.subarray(pos, end));
          pos = end;
          if (nl < 0) break;
          pos++;
          const bytes = this.#line.length === 1 ? this.#line[0] : Buffer.concat(this.#line);
          this.#line = [];
          this.#lineLength = 0;
          const line = bytes.toString('latin1').replace(/\r$/, '');
          if (this.#state === 'size') this.#chunkHeader(line);
          else this.#trailerLine(line);
          break;
        }
        case 'data': {
          const n = Math.min(this.#remaining, buf.length - pos);
          const slice = buf.subarray(pos, pos + n);
          this.#hash?.update(slice);
          this.push(slice);
          this.#decoded += n;
          this.#remaining -= n;
          pos += n;
          if (this.#remaining === 0) {
            if (this.#hash) this.#verifyChunk(this.#hash.digest('hex'));
            this.#hash = undefined;
            this.#state = 'data-crlf';
            this.#crlf = 0;
          }
          break;
        }
        case 'data-crlf': {
          if (buf[pos] !== (this.#crlf === 0 ? 0x0d : 0x0a)) throw malformed('chunk data is not followed by CRLF');
          pos++;
          if (++this.#crlf === 2) this.#state = 'size';
          break;
        }
        case 'done': {
          // Only stray line ends may follow the end of the body.
          for (; pos < buf.length; pos++) {
            if (buf[pos] !== 0x0d && buf[pos] !== 0x0a) throw malformed('data after the end of the body');
          }
          break;
        }
      }
    }
  }

  #chunkHeader(line: string): void {
    const parts = line.split(';');
    const sizeText = parts[0].trim();
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) throw malformed(`invalid chunk size "${sizeText.slice(0, 20)}"`);
    const size = Number.parseInt(sizeText, 16);
    this.#chunkSignature = undefined;
    for (let i = 1; i < parts.length; i++) {
      const eq = parts[i].indexOf('=');
      if (eq > 0 && parts[i].slice(0, eq).trim() === 'chunk-signature') this.#chunkSignature = parts[i].slice(eq + 1).trim();
    }
    const { signer, decodedContentLength } = this.#opts;
    if (signer && this.#chunkSignature === undefined) {
      throw new S3Error('SignatureDoesNotMatch', { message: 'A chunk of the signed stream carries no chunk-signature.' });
    }
    if (decodedContentLength !== undefined && this.#decoded + size > decodedContentLength) {
      throw new S3Error('InvalidRequest', {
        message: 'The decoded body is longer than x-amz-decoded-content-length.',
        extra: { DecodedContentLength: String(decodedContentLength) },
      });
    }
    if (size === 0) {
      if (signer) this.#verifyChunk(EMPTY_SHA256);
      if (decodedContentLength !== undefined && this.#decoded < decodedContentLength) {
        throw new S3Error('IncompleteBody', {
          message: 'The decoded body is shorter than x-amz-decoded-content-length.',
          extra: { DecodedContentLength: String(decodedContentLength), ReceivedLength: String(this.#decoded) },
        });
      }
      this.#state = 'trailer';
      return;
    }
    if (signer) {
      if (this.#previousChunkSize !== undefined && this.#previousChunkSize < MIN_SIGNED_CHUNK) {
        throw new S3Error('InvalidChunkSizeError', {
          extra: { Chunk: String(this.#chunks), BadChunkSize: String(this.#previousChunkSize) },
        });
      }
      this.#hash = createHash('sha256');
    }
    this.#previousChunkSize = size;
    this.#chunks++;
    this.#remaining = size;
    this.#state = 'data';
  }

  #verifyChunk(sha256Hex: string): void {
    if (!this.#opts.signer!.verifyChunk(sha256Hex, this.#chunkSignature!)) {
      throw new S3Error('SignatureDoesNotMatch', {
        message: 'The chunk signature we calculated does not match the signature you provided.',
      });
    }
  }

  #trailerLine(line: string): void {
    if (line === '') {
      this.#finishTrailers();
      return;
    }
    this.#trailerBytes += line.length;
    if (this.#trailerBytes > MAX_TRAILER_BYTES) throw badTrailer('trailer too long');
    const colon = line.indexOf(':');
    if (colon <= 0) throw badTrailer('a trailing header has no name');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (this.#trailerSignature !== undefined) throw badTrailer('trailing data after x-amz-trailer-signature');
    if (name === 'x-amz-trailer-signature') {
      this.#trailerSignature = value;
      return;
    }
    if (!(this.#opts.trailers ?? []).includes(name)) throw badTrailer(`${name} was not announced in x-amz-trailer`);
    if (name in this.#trailers) throw badTrailer(`${name} repeated`);
    this.#trailers[name] = value;
    this.#trailerCanonical += `${name}:${value}\n`;
  }

  #finishTrailers(): void {
    for (const name of this.#opts.trailers ?? []) {
      if (!(name in this.#trailers)) throw badTrailer(`${name} announced in x-amz-trailer but not sent`);
    }
    if (this.#opts.signer && this.#opts.signedTrailer) {
      if (this.#trailerSignature === undefined) throw new S3Error('SignatureDoesNotMatch', { message: 'The trailer carries no x-amz-trailer-signature.' });
      if (!this.#opts.signer.verifyTrailer(this.#trailerCanonical, this.#trailerSignature)) {
        throw new S3Error('SignatureDoesNotMatch', {
          message: 'The trailer signature we calculated does not match the signature you provided.',
        });
      }
    }
    this.#state = 'done';
  }
}

/** A decoder for one body; pipe the raw request into it and read the object's bytes out. */
export function createAwsChunkedDecoder(opts: AwsChunkedOptions = {}): AwsChunkedDecoder {
  return new AwsChunkedDecoder(opts);
}
