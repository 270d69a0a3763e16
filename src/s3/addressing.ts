/**
 * Resolves which bucket and key a request addresses: path-style (`/bucket/key`) or virtual-host-style
 * (`bucket.<domain>/key`, for the configured domains). `/b` and `/b/` both name bucket `b`; keys are
 * percent-decoded by UTF-8 byte, and `+` in a path is a literal plus.
 */
import { S3Error } from './errors.js';

export interface Addressed {
  bucket?: string;
  key?: string;
  /** The raw path as received (what signatures cover). */
  rawPath: string;
  query: URLSearchParams;
  /** True when the bucket came from the Host header. */
  virtualHost?: boolean;
}

function decodePathPart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** Addresses a request from its raw URL and Host header. */
export function address(rawUrl: string, host: string | undefined, virtualHostDomains: readonly string[]): Addressed {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  for (const domain of virtualHostDomains) {
    if (hostname.endsWith(`.${domain}`)) {
      const bucket = hostname.slice(0, -domain.length - 1);
      const keyPart = rawPath.replace(/^\//, '');
      return { bucket, key: keyPart === '' ? undefined : decodePathPart(keyPart), rawPath, query, virtualHost: true };
    }
  }
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (path === '') return { rawPath, query };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decodePathPart(path), rawPath, query };
  const bucket = decodePathPart(path.slice(0, slash));
  const key = path.slice(slash + 1);
  return { bucket, key: key === '' ? undefined : decodePathPart(key), rawPath, query };
}

/** True when `name` follows S3's bucket naming rules (3–63 chars, lower case, digits, dots, hyphens). */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return false;
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) return false;
  return true;
}
