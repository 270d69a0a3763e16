/**
 * The two signatures of the image API, shared by the server (which checks them) and `arca` (which makes them):
 *
 * - Signed image URLs, Swift-tempurl style, for hosts that cannot send headers (QEMU's curl driver):
 *   `…/v2/images/ID/file?temp_url_ak=AK&temp_url_expires=UNIX&temp_url_sig=HEX`, where
 *   `sig = HMAC-SHA256(HMAC-SHA256(secret, "arca-temp-url"), "GET\n<expires>\n<path>")`. A GET signature also
 *   allows HEAD. The URL acts as the access key's owner, so it reaches what that user may download.
 * - Token requests (`POST /arca/v1/tokens`): `{accessKeyId, date, expiresIn, signature}` with
 *   `signature = HMAC-SHA256(secret, "ARCA-TOKEN\n<accessKeyId>\n<date>\n<expiresIn>")`, `date` ISO 8601 within
 *   15 minutes of the server's clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a token request's date may be from the server's clock. */
export const TOKEN_REQUEST_SKEW_MS = 15 * 60 * 1000;

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time comparison of two hex strings. */
export function hexEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The temp URL signature of `method path` valid until `expires` (unix seconds). */
export function tempUrlSignature(secret: string, method: string, expires: number, path: string): string {
  return hmac(hmac(secret, 'arca-temp-url'), `${method}\n${expires}\n${path}`).toString('hex');
}

/** A signed URL of an image's data: `endpoint` is the image API's base (`http://host:9292`). */
export function signedImageUrl(endpoint: string, imageId: string, cred: { accessKeyId: string; secretKey: string }, expires: number): string {
  const path = `/v2/images/${imageId}/file`;
  const sig = tempUrlSignature(cred.secretKey, 'GET', expires, path);
  const q = new URLSearchParams({ temp_url_ak: cred.accessKeyId, temp_url_expires: String(expires), temp_url_sig: sig });
  return `${endpoint.replace(/\/+$/, '')}${path}?${q}`;
}

export interface TokenRequest {
  accessKeyId: string;
  /** ISO 8601 time the request was made. */
  date: string;
  /** Seconds the token should live. */
  expiresIn: number;
  signature: string;
}

export function tokenRequestSignature(secret: string, r: Omit<TokenRequest, 'signature'>): string {
  return hmac(secret, `ARCA-TOKEN\n${r.accessKeyId}\n${r.date}\n${r.expiresIn}`).toString('hex');
}

/** A signed token request for `cred`. */
export function signTokenRequest(cred: { accessKeyId: string; secretKey: string }, expiresIn: number, now = new Date()): TokenRequest {
  const r = { accessKeyId: cred.accessKeyId, date: now.toISOString(), expiresIn };
  return { ...r, signature: tokenRequestSignature(cred.secretKey, r) };
}
