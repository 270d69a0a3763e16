/**
 * The signature chain of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` bodies: each chunk's signature covers
 * the previous signature and the chunk's SHA-256, starting from the request's (seed) signature; the trailer
 * signature covers the last chunk signature and the trailing headers.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import { createHash } from 'node:crypto';
import { hmacSha256, signaturesEqual } from './signing-key.js';

/** SHA-256 of the empty string, the "hash of the chunk headers" slot in every chunk string-to-sign. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Verifies a streaming upload's chunk signatures in order. One instance per request; it is stateful. */
export class ChunkSignatureVerifier {
  #previous: string;
  readonly #signingKey: Buffer;

  /**
   * @param signingKey the request's derived SigV4 key
   * @param amzDate the request time, `YYYYMMDDTHHMMSSZ`
   * @param scope the credential scope, `date/region/s3/aws4_request`
   * @param seedSignature the signature of the request itself (from the Authorization header)
   */
  constructor(
    signingKey: Buffer,
    readonly amzDate: string,
    readonly scope: string,
    seedSignature: string,
  ) {
    this.#signingKey = signingKey;
    this.#previous = seedSignature;
  }

  /** The signature the next chunk (or the trailer) chains from. */
  get previousSignature(): string {
    return this.#previous;
  }

  /** The string-to-sign of a chunk whose data hashes to `dataSha256Hex`, chained from the previous signature. */
  chunkStringToSign(dataSha256Hex: string): string {
    return `AWS4-HMAC-SHA256-PAYLOAD\n${this.amzDate}\n${this.scope}\n${this.#previous}\n${EMPTY_SHA256}\n${dataSha256Hex}`;
  }

  /**
   * Checks one chunk's signature; on success the chain advances to it. `dataSha256Hex` is the SHA-256 of the
   * chunk's data (the final, empty chunk included).
   */
  verifyChunk(dataSha256Hex: string, provided: string): boolean {
    const expected = hmacSha256(this.#signingKey, this.chunkStringToSign(dataSha256Hex)).toString('hex');
    if (!signaturesEqual(expected, provided.toLowerCase())) return false;
    this.#previous = expected;
    return true;
  }

  /**
   * Checks `x-amz-trailer-signature`. `canonicalTrailers` is each trailing header as `name:value\n`, in the
   * order received, without the signature line.
   */
  verifyTrailer(canonicalTrailers: string, provided: string): boolean {
    const hash = createHash('sha256').update(canonicalTrailers, 'utf8').digest('hex');
    const sts = `AWS4-HMAC-SHA256-TRAILER\n${this.amzDate}\n${this.scope}\n${this.#previous}\n${hash}`;
    const expected = hmacSha256(this.#signingKey, sts).toString('hex');
    if (!signaturesEqual(expected, provided.toLowerCase())) return false;
    this.#previous = expected;
    return true;
  }
}
