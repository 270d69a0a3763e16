/**
 * A minimal AWS Signature V4 signer for the load generator: header auth only, path-style S3 requests.
 *
 * It is written for speed and nothing else: the signing key is derived once per UTC day, the `x-amz-date`
 * string once per second, and a request costs one SHA-256 of its canonical request plus one HMAC. It never
 * hashes a body: the caller passes the payload hash, either `UNSIGNED-PAYLOAD` or a SHA-256 it computed once
 * for a shared body buffer (see docs/benchmarks.md, "Payload signing").
 *
 * Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import { createHash, createHmac } from 'node:crypto';

/** `x-amz-content-sha256` value for a body the signature does not cover. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of the empty string: the payload hash of a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface SignerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Default `s3`. */
  service?: string;
}

export interface SignRequest {
  method: string;
  /** Decoded path, `/bucket/key`; each segment is URI-encoded here, once (S3 does not double-encode). */
  path: string;
  /** Query parameters, decoded; encoded and sorted here. */
  query?: ReadonlyArray<readonly [string, string]>;
  /** `host` as sent on the wire (`127.0.0.1:8080`). */
  host: string;
  /** Extra headers to send and sign, lower-case names (e.g. `content-length`, `content-md5`). */
  headers?: Readonly<Record<string, string>>;
  /** `UNSIGNED-PAYLOAD`, `EMPTY_SHA256` or the hex SHA-256 of the body. */
  payloadHash: string;
  /** Signing time; default now. */
  now?: Date;
}

export interface SignedRequest {
  /** Encoded path and query, ready for `http.request({path})`. */
  url: string;
  /** Every signed header plus `authorization`; lower-case names. */
  headers: Record<string, string>;
}

/** RFC 3986 encoding as S3 wants it: everything but `A-Z a-z 0-9 - _ . ~` is %XX-escaped. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `/bucket/a b/c` → `/bucket/a%20b/c`: each segment encoded, slashes kept. */
export function encodePath(path: string): string {
  return path.split('/').map(uriEncode).join('/');
}

/** Query pairs → the canonical query string (encoded, sorted by name then value). */
export function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Signs requests for one access key; holds the day's signing key and the second's `x-amz-date`. */
export class SigV4Signer {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  readonly #secret: string;
  #keyDate = '';
  #key: Buffer = Buffer.alloc(0);
  #second = -1;
  #amzDate = '';

  constructor(options: SignerOptions) {
    this.accessKeyId = options.accessKeyId;
    this.#secret = options.secretAccessKey;
    this.region = options.region ?? 'us-east-1';
    this.service = options.service ?? 's3';
  }

  /** The signing key for a `YYYYMMDD` date, derived once per day (four HMACs). */
  signingKey(date: string): Buffer {
    if (date !== this.#keyDate) {
      const kDate = hmac(`AWS4${this.#secret}`, date);
      this.#key = hmac(hmac(hmac(kDate, this.region), this.service), 'aws4_request');
      this.#keyDate = date;
    }
    return this.#key;
  }

  sign(req: SignRequest): SignedRequest {
    const amzDate = req.now ? toAmzDate(req.now) : this.#nowAmzDate();
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
      ...req.headers,
      host: req.host,
      'x-amz-content-sha256': req.payloadHash,
      'x-amz-date': amzDate,
    };
    const names = Object.keys(headers).sort();
    let canonicalHeaders = '';
    for (const n of names) canonicalHeaders += `${n}:${headers[n].trim()}\n`;
    const signedHeaders = names.join(';');
    const path = encodePath(req.path);
    const query = req.query && req.query.length > 0 ? canonicalQuery(req.query) : '';
    const canonicalRequest = `${req.method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${req.payloadHash}`;
    const scope = `${date}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(date)).update(stringToSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return { url: query ? `${path}?${query}` : path, headers };
  }

  #nowAmzDate(): string {
    const ms = Date.now();
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) {
      this.#amzDate = toAmzDate(new Date(second * 1000));
      this.#second = second;
    }
    return this.#amzDate;
  }
}

/** `2013-05-24T00:00:00.000Z` → `20130524T000000Z`. */
export function toAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
