/**
 * S3 request authentication: decides which scheme a request uses and verifies it. The handler layer calls
 * {@link authenticate} once per request, before touching the body, and then:
 *
 * - for `payload.kind === 'sha256'`, digests the body (`Digester` with `sha256Hex`) and calls
 *   {@link assertPayloadSha256} once it has been read;
 * - for the streaming kinds, pipes the body through `createAwsChunkedDecoder` (../aws-chunked.ts), handing it
 *   `chunkSigner` for signed streams.
 *
 * See docs/s3-auth.md for what is supported and why each error is what it is.
 */
import { S3Error } from '../errors.js';
import { headerValue, parseQuery, splitUrl } from './canonical.js';
import { authenticateV2Header, authenticateV2Query } from './sigv2.js';
import { authenticateV4Header, authenticateV4Query, V4_ALGORITHM } from './sigv4.js';
import type { AuthOptions, AuthRequest, AuthResult, SecretLookup } from './types.js';

export { ChunkSignatureVerifier, EMPTY_SHA256 } from './chunk-signer.js';
export {
  assertPayloadSha256,
  needsPayloadSha256,
  parseContentSha256,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
} from './payload.js';
export { deriveSigningKey, SigningKeyCache } from './signing-key.js';
export { DEFAULT_MAX_SKEW_MS } from './time.js';
export type { AuthOptions, AuthRequest, AuthResult, PayloadMode, SecretLookup } from './types.js';

const V4_QUERY_PARAMS = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature']);
const V2_QUERY_PARAMS = new Set(['AWSAccessKeyId', 'Signature']);

/**
 * Authenticates a request: SigV4 (Authorization header or presigned query), SigV2 (header or query), or
 * anonymous when it carries no credentials at all. Resolves with who signed it and how the body is
 * protected; rejects with an S3Error exactly as AWS would answer (see docs/s3-auth.md).
 */
export async function authenticate(req: AuthRequest, lookup: SecretLookup, opts: AuthOptions): Promise<AuthResult> {
  const params = parseQuery(splitUrl(req.rawUrl).rawQuery);
  const authorization = headerValue(req.headers, 'authorization')?.trim();
  const v4Query = params.some((p) => V4_QUERY_PARAMS.has(p.name));
  const v2Query = params.some((p) => V2_QUERY_PARAMS.has(p.name));
  if ((authorization && (v4Query || v2Query)) || (v4Query && v2Query)) {
    throw new S3Error('InvalidArgument', {
      message:
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      extra: { ArgumentName: 'Authorization', ArgumentValue: authorization ?? '' },
    });
  }
  if (authorization) {
    if (authorization.startsWith(`${V4_ALGORITHM} `)) return authenticateV4Header(req, authorization, params, lookup, opts);
    if (authorization.startsWith('AWS ')) return authenticateV2Header(req, authorization, params, lookup, opts);
    throw new S3Error('InvalidArgument', {
      message: 'Unsupported Authorization Type',
      extra: { ArgumentName: 'Authorization', ArgumentValue: authorization },
    });
  }
  if (v4Query) return authenticateV4Query(req, params, lookup, opts);
  if (v2Query) return authenticateV2Query(req, params, lookup);
  return { kind: 'anonymous' };
}
