/**
 * SigV4 verification: the Authorization header and presigned (query) URLs.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import { createHash } from 'node:crypto';
import { S3Error } from '../errors.js';
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  headerValue,
  type QueryParam,
  splitUrl,
  verbatimQuery,
} from './canonical.js';
import { ChunkSignatureVerifier } from './chunk-signer.js';
import { parseContentSha256, UNSIGNED_PAYLOAD } from './payload.js';
import { hmacSha256, SigningKeyCache, signaturesEqual } from './signing-key.js';
import { checkSkew, DEFAULT_MAX_SKEW_MS, formatAmzDate, isoSeconds, parseAmzDate, parseHttpDate } from './time.js';
import type { AuthOptions, AuthRequest, AuthResult, SecretLookup } from './types.js';

export const V4_ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 's3';
const MAX_PRESIGNED_EXPIRES = 604800;

/** Errors differ between the header and the query flavour only in code and prefix. */
type Flavour = 'header' | 'query';

function malformed(flavour: Flavour, reason: string, extra?: Record<string, string>): S3Error {
  return flavour === 'header'
    ? new S3Error('AuthorizationHeaderMalformed', { message: `The authorization header is malformed; ${reason}`, extra })
    : new S3Error('AuthorizationQueryParametersError', { message: `Error parsing the X-Amz-Credential parameter; ${reason}`, extra });
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  /** `date/region/s3/aws4_request` */
  text: string;
}

function parseCredential(flavour: Flavour, credential: string, region: string): Scope {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw malformed(flavour, 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [accessKeyId, date, scopeRegion, service, terminal] = parts;
  if (accessKeyId === '') throw malformed(flavour, 'a non-empty Access Key (AKID) must be provided in the credential.');
  if (!/^\d{8}$/.test(date)) {
    throw malformed(flavour, `incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  if (scopeRegion !== region) {
    throw malformed(flavour, `the region '${scopeRegion}' is wrong; expecting '${region}'`, { Region: region });
  }
  if (service !== SERVICE) throw malformed(flavour, `incorrect service "${service}". This endpoint belongs to "${SERVICE}".`);
  if (terminal !== 'aws4_request') {
    throw malformed(flavour, `incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  }
  return { accessKeyId, date, region: scopeRegion, text: `${date}/${scopeRegion}/${SERVICE}/aws4_request` };
}

function parseSignedHeaders(flavour: Flavour, value: string): string[] {
  const names = value.split(';').map((n) => n.trim().toLowerCase());
  if (names.some((n) => n === '')) {
    throw flavour === 'header'
      ? malformed('header', 'the SignedHeaders component is malformed.')
      : new S3Error('AuthorizationQueryParametersError', { message: 'X-Amz-SignedHeaders is malformed.' });
  }
  return names;
}

/** AWS refuses a request whose `host` or any `x-amz-*` header is not covered by the signature. */
function checkAllSigned(req: AuthRequest, signed: readonly string[], ignore?: string): void {
  const set = new Set(signed);
  const missing: string[] = [];
  if (!set.has('host')) missing.push('host');
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && name !== ignore && !set.has(name) && req.headers[name] !== undefined) missing.push(name);
  }
  if (missing.length === 0) return;
  throw new S3Error('AccessDenied', {
    message: 'There were headers present in the request which were not signed',
    extra: { HeadersNotSigned: missing.join(', ') },
  });
}

interface SignatureInput {
  req: AuthRequest;
  params: readonly QueryParam[];
  /** Raw query parameter name left out of the canonical query (the signature itself, when presigned). */
  excludeParam?: string;
  signedHeaders: string[];
  payloadHash: string;
  amzDate: string;
  scope: Scope;
  secret: string;
  provided: string;
  keys: SigningKeyCache;
}

/**
 * Recomputes the signature and compares. The canonical form (normalised encoding) is tried first; if it does
 * not match and the client's own encoding differs, the path and query exactly as sent are tried too, for
 * signers that sign their verbatim encoding. Returns the signing key on success.
 */
function verifySignature(input: SignatureInput): Buffer {
  const { req, scope } = input;
  const { rawPath } = splitUrl(req.rawUrl);
  const key = input.keys.get(input.secret, scope.date, scope.region, SERVICE);
  const headersPart = `${canonicalHeaders(req.headers, input.signedHeaders)}\n${input.signedHeaders.join(';')}\n${input.payloadHash}`;
  const candidates: [string, string][] = [[canonicalUri(rawPath), canonicalQuery(input.params, input.excludeParam)]];
  const verbatim: [string, string] = [rawPath === '' ? '/' : rawPath, verbatimQuery(input.params, input.excludeParam)];
  if (verbatim[0] !== candidates[0][0] || verbatim[1] !== candidates[0][1]) candidates.push(verbatim);
  const provided = input.provided.toLowerCase();
  let first: { canonicalRequest: string; stringToSign: string } | undefined;
  for (const [uri, query] of candidates) {
    const canonicalRequest = `${req.method.toUpperCase()}\n${uri}\n${query}\n${headersPart}`;
    const hash = createHash('sha256').update(canonicalRequest, 'utf8').digest('hex');
    const stringToSign = `${V4_ALGORITHM}\n${input.amzDate}\n${scope.text}\n${hash}`;
    const expected = hmacSha256(key, stringToSign).toString('hex');
    if (signaturesEqual(expected, provided)) return key;
    first ??= { canonicalRequest, stringToSign };
  }
  throw new S3Error('SignatureDoesNotMatch', {
    extra: {
      AWSAccessKeyId: scope.accessKeyId,
      StringToSign: first!.stringToSign,
      SignatureProvided: input.provided,
      StringToSignBytes: hexBytes(first!.stringToSign),
      CanonicalRequest: first!.canonicalRequest,
      CanonicalRequestBytes: hexBytes(first!.canonicalRequest),
    },
  });
}

/** `"41 57 53"`: how AWS shows the bytes of the string it signed. */
export function hexBytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

async function lookupSecret(lookup: SecretLookup, accessKeyId: string): Promise<string> {
  const secret = await lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId', { extra: { AWSAccessKeyId: accessKeyId } });
  return secret;
}

/** Verifies `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export async function authenticateV4Header(
  req: AuthRequest,
  authorization: string,
  params: readonly QueryParam[],
  lookup: SecretLookup,
  opts: AuthOptions,
): Promise<AuthResult> {
  const fields = new Map<string, string>();
  for (const part of authorization.slice(V4_ALGORITHM.length).split(',')) {
    const p = part.trim();
    const eq = p.indexOf('=');
    if (eq > 0) fields.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeadersText = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeadersText === undefined || signature === undefined) {
    throw malformed('header', 'the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const scope = parseCredential('header', credential, opts.region);
  const signedHeaders = parseSignedHeaders('header', signedHeadersText);

  // The time: x-amz-date, else Date; the string-to-sign always carries the basic ISO form.
  const amzDateHeader = headerValue(req.headers, 'x-amz-date');
  const dateText = amzDateHeader ?? headerValue(req.headers, 'date');
  const time = amzDateHeader !== undefined ? parseAmzDate(amzDateHeader.trim()) : dateText !== undefined ? parseHttpDate(dateText) : undefined;
  if (!time || dateText === undefined) {
    throw new S3Error('AccessDenied', { message: 'AWS authentication requires a valid Date or x-amz-date header' });
  }
  // An accepted x-amz-date is already in that form (parseAmzDate takes nothing else).
  const amzDate = amzDateHeader !== undefined ? amzDateHeader.trim() : formatAmzDate(time);
  if (amzDate.slice(0, 8) !== scope.date) {
    throw malformed('header', `Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  checkSkew(time, dateText, req.now, opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);

  const contentSha = headerValue(req.headers, 'x-amz-content-sha256');
  if (contentSha === undefined) {
    throw new S3Error('InvalidRequest', { message: 'Missing required header for this request: x-amz-content-sha256' });
  }
  const payload = parseContentSha256(contentSha.trim());
  const secret = await lookupSecret(lookup, scope.accessKeyId);
  checkAllSigned(req, signedHeaders);
  const key = verifySignature({
    req,
    params,
    signedHeaders,
    payloadHash: contentSha.trim(),
    amzDate,
    scope,
    secret,
    provided: signature,
    keys: opts.signingKeys ?? new SigningKeyCache(1),
  });
  const result: AuthResult = { kind: 'signed', accessKeyId: scope.accessKeyId, version: 4, via: 'header', payload, region: scope.region };
  if (payload.kind === 'streaming-signed') {
    result.chunkSigner = new ChunkSignatureVerifier(key, amzDate, scope.text, signature.toLowerCase());
  }
  return result;
}

/** Verifies a presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…`). */
export async function authenticateV4Query(
  req: AuthRequest,
  params: readonly QueryParam[],
  lookup: SecretLookup,
  opts: AuthOptions,
): Promise<AuthResult> {
  const get = (name: string) => params.find((p) => p.name === name)?.value;
  const algorithm = get('X-Amz-Algorithm');
  const credential = get('X-Amz-Credential');
  const signature = get('X-Amz-Signature');
  const dateText = get('X-Amz-Date');
  const signedHeadersText = get('X-Amz-SignedHeaders');
  const expiresText = get('X-Amz-Expires');
  if (
    algorithm === undefined ||
    credential === undefined ||
    signature === undefined ||
    dateText === undefined ||
    signedHeadersText === undefined ||
    expiresText === undefined
  ) {
    throw new S3Error('AuthorizationQueryParametersError');
  }
  if (algorithm !== V4_ALGORITHM) {
    throw new S3Error('AuthorizationQueryParametersError', { message: `X-Amz-Algorithm only supports "${V4_ALGORITHM}"` });
  }
  const scope = parseCredential('query', credential, opts.region);
  const time = parseAmzDate(dateText);
  if (!time) {
    throw new S3Error('AuthorizationQueryParametersError', {
      message: `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
    });
  }
  if (dateText.slice(0, 8) !== scope.date) {
    throw malformed('query', `Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${dateText.slice(0, 8)}".`);
  }
  if (!/^-?\d+$/.test(expiresText)) {
    throw new S3Error('AuthorizationQueryParametersError', { message: 'X-Amz-Expires should be a number' });
  }
  const expires = Number(expiresText);
  if (expires < 0) throw new S3Error('AuthorizationQueryParametersError', { message: 'X-Amz-Expires must be non-negative' });
  if (expires > MAX_PRESIGNED_EXPIRES) {
    throw new S3Error('AuthorizationQueryParametersError', {
      message: `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES}`,
    });
  }
  const expiry = new Date(time.getTime() + expires * 1000);
  if (req.now.getTime() > expiry.getTime()) {
    throw new S3Error('AccessDenied', {
      message: 'Request has expired',
      extra: { 'X-Amz-Expires': expiresText, Expires: isoSeconds(expiry), ServerTime: isoSeconds(req.now) },
    });
  }
  if (time.getTime() - req.now.getTime() > (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    throw new S3Error('AccessDenied', {
      message: 'Request is not yet valid',
      extra: { 'X-Amz-Date': String(time.getTime()), Expires: isoSeconds(expiry), ServerTime: isoSeconds(req.now) },
    });
  }
  const signedHeaders = parseSignedHeaders('query', signedHeadersText);
  // A presigned URL's body is unsigned unless the signer hoisted a payload hash into the query.
  const payloadHash = get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  const payload = parseContentSha256(payloadHash);
  if (payload.kind === 'streaming-signed') {
    throw new S3Error('InvalidRequest', { message: 'Presigned URLs cannot carry a signed streaming payload' });
  }
  const secret = await lookupSecret(lookup, scope.accessKeyId);
  checkAllSigned(req, signedHeaders, 'x-amz-content-sha256');
  verifySignature({
    req,
    params,
    excludeParam: params.find((p) => p.name === 'X-Amz-Signature')!.rawName,
    signedHeaders,
    payloadHash,
    amzDate: dateText,
    scope,
    secret,
    provided: signature,
    keys: opts.signingKeys ?? new SigningKeyCache(1),
  });
  return { kind: 'signed', accessKeyId: scope.accessKeyId, version: 4, via: 'query', payload, region: scope.region };
}
