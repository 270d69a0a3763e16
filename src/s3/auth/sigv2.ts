/**
 * SigV2 (S3's HMAC-SHA1 scheme), still sent by `s3cmd --signature-v2` and by boto3's default
 * `generate_presigned_url`. https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
 *
 *   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date-or-Expires \n CanonicalizedAmzHeaders CanonicalizedResource
 */
import { createHmac } from 'node:crypto';
import { S3Error } from '../errors.js';
import { headerValue, type QueryParam, splitUrl } from './canonical.js';
import { parseContentSha256 } from './payload.js';
import { hexBytes } from './sigv4.js';
import { signaturesEqual } from './signing-key.js';
import { checkSkew, DEFAULT_MAX_SKEW_MS, isoSeconds, parseHttpDate } from './time.js';
import type { AuthOptions, AuthRequest, AuthResult, PayloadMode, SecretLookup } from './types.js';

/**
 * Query parameters that belong to the CanonicalizedResource: AWS's documented sub-resources and response
 * overrides, plus the later additions botocore's HmacV1Auth signs (it is the SigV2 client in use today).
 */
export const V2_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'delete', 'encryption', 'inventory', 'lifecycle', 'location', 'logging',
  'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'publicAccessBlock', 'replication',
  'requestPayment', 'restore', 'select', 'select-type', 'storageClass', 'tagging', 'torrent', 'uploadId', 'uploads',
  'versionId', 'versioning', 'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires',
]);

/** `x-amz-*` headers but `exclude`, lower-cased and sorted, each `name:value\n` (repeats joined with `,`). */
function canonicalAmzHeaders(headers: AuthRequest['headers'], exclude?: string): string {
  const names = Object.keys(headers)
    .filter((n) => n.startsWith('x-amz-') && n !== exclude && headers[n] !== undefined)
    .sort();
  let out = '';
  for (const name of names) {
    const v = headers[name]!;
    const value = Array.isArray(v) ? v.map((x) => x.trim()).join(',') : v.trim();
    out += `${name}:${value.replace(/\s*\r?\n\s*/g, ' ')}\n`;
  }
  return out;
}

/**
 * The CanonicalizedResource candidates: the raw path (plus `/bucket` when virtual-hosted) and the
 * sub-resources sorted by name with decoded values, first as AWS documents it. Real clients differ in ways
 * AWS tolerates, so these are accepted too (every candidate derives from this request alone, so none can
 * match a signature made for another request):
 * - `?uploads=` signed with its `=` (botocore keeps whatever the URL had);
 * - a bucket addressed as `/b` signed as `/b/` (botocore's auth path);
 * - valueless sub-resources repeated, `/b/k?acl?acl` (botocore 1.29 appends them to an auth path that already
 *   holds them, e.g. CreateMultipartUpload, GetObjectAcl, DeleteObjects with `signature_version='s3'`).
 */
function canonicalResources(req: AuthRequest, params: readonly QueryParam[]): string[] {
  const { rawPath } = splitUrl(req.rawUrl);
  const base = (req.virtualHostBucket ? `/${req.virtualHostBucket}` : '') + (rawPath === '' ? '/' : rawPath);
  const bases = !req.virtualHostBucket && /^\/[^/]+$/.test(rawPath) ? [base, `${base}/`] : [base];
  const subs = params.filter((p) => V2_SUBRESOURCES.has(p.rawName)).sort((a, b) => (a.rawName < b.rawName ? -1 : a.rawName > b.rawName ? 1 : 0));
  if (subs.length === 0) return bases;
  const documented = subs.map((p) => (p.value === '' ? p.rawName : `${p.rawName}=${p.value}`)).join('&');
  const verbatim = subs.map((p) => (p.rawValue === undefined ? p.rawName : `${p.rawName}=${p.value}`)).join('&');
  const valueless = subs.filter((p) => p.value === '').map((p) => p.rawName).join('&');
  const queries = new Set([documented, verbatim]);
  if (valueless) queries.add(`${valueless}?${documented}`);
  return bases.flatMap((b) => [...queries].map((q) => `${b}?${q}`));
}

function payloadOf(req: AuthRequest): PayloadMode {
  const v = headerValue(req.headers, 'x-amz-content-sha256');
  if (v === undefined) return { kind: 'unsigned' };
  const payload = parseContentSha256(v.trim());
  if (payload.kind === 'streaming-signed') {
    throw new S3Error('InvalidRequest', { message: 'Signed streaming payloads require AWS Signature Version 4' });
  }
  return payload;
}

/** How the time enters the string-to-sign: the Date line, and an `x-amz-*` header left out of the list. */
interface DateForm {
  line: string;
  excludeHeader?: string;
}

async function verify(
  req: AuthRequest,
  params: readonly QueryParam[],
  accessKeyId: string,
  provided: string,
  dates: readonly DateForm[],
  lookup: SecretLookup,
): Promise<void> {
  const secret = await lookup(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId', { extra: { AWSAccessKeyId: accessKeyId } });
  const prefix =
    `${req.method.toUpperCase()}\n${headerValue(req.headers, 'content-md5')?.trim() ?? ''}\n` +
    `${headerValue(req.headers, 'content-type')?.trim() ?? ''}\n`;
  const resources = canonicalResources(req, params);
  const candidates = dates.flatMap((d) =>
    resources.map((r) => `${prefix}${d.line}\n${canonicalAmzHeaders(req.headers, d.excludeHeader)}${r}`),
  );
  for (const stringToSign of candidates) {
    const expected = createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
    if (signaturesEqual(expected, provided)) return;
  }
  throw new S3Error('SignatureDoesNotMatch', {
    extra: {
      AWSAccessKeyId: accessKeyId,
      StringToSign: candidates[0],
      SignatureProvided: provided,
      StringToSignBytes: hexBytes(candidates[0]),
    },
  });
}

/** Verifies `Authorization: AWS AKID:signature`. */
export async function authenticateV2Header(
  req: AuthRequest,
  authorization: string,
  params: readonly QueryParam[],
  lookup: SecretLookup,
  opts: AuthOptions,
): Promise<AuthResult> {
  const credentials = authorization.slice('AWS '.length).trim();
  const colon = credentials.lastIndexOf(':');
  if (colon <= 0 || colon === credentials.length - 1) {
    throw new S3Error('InvalidArgument', {
      message: 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature',
      extra: { ArgumentName: 'Authorization', ArgumentValue: authorization },
    });
  }
  const accessKeyId = credentials.slice(0, colon);
  const signature = credentials.slice(colon + 1);
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const dateText = amzDate ?? headerValue(req.headers, 'date');
  const time = dateText === undefined ? undefined : parseHttpDate(dateText.trim());
  if (!time || dateText === undefined) {
    throw new S3Error('AccessDenied', { message: 'AWS authentication requires a valid Date or x-amz-date header' });
  }
  checkSkew(time, dateText, req.now, opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  const payload = payloadOf(req);
  // With x-amz-date the Date line is empty and the time is among the x-amz-* headers (botocore, s3cmd); AWS's
  // own DELETE example instead puts x-amz-date's value on the Date line. Both are accepted.
  const dates: DateForm[] =
    amzDate === undefined ? [{ line: dateText.trim() }] : [{ line: '' }, { line: amzDate.trim(), excludeHeader: 'x-amz-date' }];
  await verify(req, params, accessKeyId, signature, dates, lookup);
  return { kind: 'signed', accessKeyId, version: 2, via: 'header', payload };
}

/** Verifies a SigV2 query-authenticated URL (`AWSAccessKeyId=…&Signature=…&Expires=…`). */
export async function authenticateV2Query(
  req: AuthRequest,
  params: readonly QueryParam[],
  lookup: SecretLookup,
): Promise<AuthResult> {
  const get = (name: string) => params.find((p) => p.name === name)?.value;
  const accessKeyId = get('AWSAccessKeyId');
  const rawSignature = get('Signature');
  const expiresText = get('Expires');
  if (accessKeyId === undefined || rawSignature === undefined || expiresText === undefined) {
    throw new S3Error('AccessDenied', {
      message: 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    });
  }
  if (!/^\d+$/.test(expiresText)) {
    throw new S3Error('InvalidArgument', {
      message: `Invalid date (should be seconds since epoch): ${expiresText}`,
      extra: { ArgumentName: 'Expires', ArgumentValue: expiresText },
    });
  }
  const expires = new Date(Number(expiresText) * 1000);
  if (req.now.getTime() > expires.getTime()) {
    throw new S3Error('AccessDenied', {
      message: 'Request has expired',
      extra: { Expires: isoSeconds(expires), ServerTime: isoSeconds(req.now) },
    });
  }
  // A `+` the client left unencoded in the base64 signature must not become a space.
  const signature = rawSignature.replace(/ /g, '+');
  const payload = payloadOf(req);
  await verify(req, params, accessKeyId, signature, [{ line: expiresText }], lookup);
  return { kind: 'signed', accessKeyId, version: 2, via: 'query', payload };
}
