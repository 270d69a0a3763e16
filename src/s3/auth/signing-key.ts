/**
 * SigV4 signing keys: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 of `data` under `key`. */
export function hmacSha256(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Derives the signing key for one credential scope. */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256(`AWS4${secret}`, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, 'aws4_request');
}

/**
 * Derived keys per (secret, date, region, service). A key is valid for a day, so the cache holds at most
 * `maxEntries` keys and forgets the oldest first; a process needs about one entry per active access key.
 */
export class SigningKeyCache {
  readonly #keys = new Map<string, Buffer>();

  constructor(readonly maxEntries = 1024) {}

  /** The signing key, derived on first use. */
  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${date}/${region}/${service}/${secret}`;
    let key = this.#keys.get(id);
    if (key) return key;
    key = deriveSigningKey(secret, date, region, service);
    if (this.#keys.size >= this.maxEntries) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(id, key);
    return key;
  }
}

/** Compares two signature strings in time independent of where they differ. */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  // Lengths are public (always 64 hex or 28 base64 characters for a well-formed signature).
  return a.length === b.length && timingSafeEqual(a, b);
}
