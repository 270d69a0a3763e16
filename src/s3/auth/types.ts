/**
 * The request-authentication contract, independent of koa: a plain description of the request in, who signed
 * it and how its payload is protected out.
 */
import type { ChunkSignatureVerifier } from './chunk-signer.js';
import type { SigningKeyCache } from './signing-key.js';

/** The parts of an HTTP request that authentication reads. */
export interface AuthRequest {
  method: string;
  /** Path and query exactly as received (node's `req.url`): signatures cover the raw bytes, not a decoding. */
  rawUrl: string;
  /**
   * Lower-case header names as node gives them. Pass `req.headersDistinct` to keep repeated headers apart
   * (SigV4 joins them with `,`); `req.headers` works too, with node's `, ` join for repeats.
   */
  headers: Record<string, string | string[] | undefined>;
  /** The server's clock, injected so tests control it. */
  now: Date;
  /** The bucket when the request is virtual-hosted style; SigV2 prefixes it to the resource. Omit for path style. */
  virtualHostBucket?: string;
}

/** Finds the secret of an access key; undefined when the key does not exist (or is disabled). */
export type SecretLookup = (accessKeyId: string) => Promise<string | undefined>;

/** How the request body is protected, from `x-amz-content-sha256` (SigV4) or implied (SigV2, presigned). */
export type PayloadMode =
  /** Nothing to verify about the body beyond Content-MD5 / checksums (`UNSIGNED-PAYLOAD`, SigV2, presigned). */
  | { kind: 'unsigned' }
  /** The body must hash to `hex` (lower case); check it with `assertPayloadSha256` once it has been read. */
  | { kind: 'sha256'; hex: string }
  /** aws-chunked with chunk signatures (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`). */
  | { kind: 'streaming-signed'; trailer: boolean }
  /** aws-chunked without signatures, a checksum in the trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`). */
  | { kind: 'streaming-unsigned-trailer' };

/** Who sent the request. */
export type AuthResult =
  | { kind: 'anonymous' }
  | {
      kind: 'signed';
      accessKeyId: string;
      version: 2 | 4;
      /** `header` for the Authorization header, `query` for presigned URLs. */
      via: 'header' | 'query';
      payload: PayloadMode;
      /** The credential scope's region (SigV4 only). */
      region?: string;
      /** Verifies chunk and trailer signatures; set exactly when `payload.kind` is `streaming-signed`. */
      chunkSigner?: ChunkSignatureVerifier;
    };

/** Server-side settings for {@link authenticate}. */
export interface AuthOptions {
  /** The region this endpoint serves; SigV4 credential scopes must name it. */
  region: string;
  /** Largest accepted difference between the request's time and the server's (default 15 minutes, as AWS). */
  maxSkewMs?: number;
  /**
   * Cache of derived SigV4 signing keys. Pass one per process (built at the composition root); without it
   * every request derives its key afresh (four HMACs).
   */
  signingKeys?: SigningKeyCache;
}
