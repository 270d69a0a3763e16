/**
 * SigV4 canonical request pieces, built from the raw request line.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
 *
 * S3 does not double-encode the path: the canonical URI is the path with each segment's percent-encoding
 * normalised to AWS's UriEncode of the decoded bytes (unreserved `A-Za-z0-9-._~` literal, everything else
 * `%XX` upper case, `+` a literal plus). Query names and values are decoded and re-encoded the same way
 * (`/` included), sorted by name then value; `k` is `k=`.
 */

const HEX = '0123456789ABCDEF';
const ALREADY_CANONICAL_PATH = /^[A-Za-z0-9\-._~/]*$/;
const ALREADY_CANONICAL_COMPONENT = /^[A-Za-z0-9\-._~]*$/;

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes `%XX` escapes to bytes. A `%` not followed by two hex digits stays a literal `%` (what a client that
 * sent it unencoded signed); characters beyond ASCII are taken as UTF-8. `+` is not a space.
 */
export function percentDecodeBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && hexValue(s.charCodeAt(i + 1)) >= 0 && hexValue(s.charCodeAt(i + 2)) >= 0) {
      out.push(hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      // Node rejects non-ASCII request lines, so this only serves callers handing in decoded strings.
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
    }
  }
  return Buffer.from(out);
}

/** Decodes a URL component to a string (`%XX` as UTF-8, `+` literal, malformed escapes kept). */
export function percentDecode(s: string): string {
  return s.includes('%') ? percentDecodeBytes(s).toString('utf8') : s;
}

/** AWS UriEncode of bytes: unreserved characters literal, everything else `%XX`. */
export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += isUnreserved(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** AWS UriEncode of one raw (possibly percent-encoded) URL component. */
export function canonicalComponent(raw: string): string {
  return ALREADY_CANONICAL_COMPONENT.test(raw) ? raw : uriEncodeBytes(percentDecodeBytes(raw));
}

/** The canonical URI of a raw path: segments normalised, `/` kept, empty path `/`, `//` and dots untouched. */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  if (ALREADY_CANONICAL_PATH.test(rawPath)) return rawPath;
  return rawPath.split('/').map(canonicalComponent).join('/');
}

/** One query parameter as received, plus its decoded name and value. */
export interface QueryParam {
  rawName: string;
  /** undefined for `?k` (no `=`). */
  rawValue: string | undefined;
  name: string;
  value: string;
}

/** Splits a raw query string (without `?`) into parameters, keeping empty ones out. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? undefined : part.slice(eq + 1);
    params.push({ rawName, rawValue, name: percentDecode(rawName), value: rawValue === undefined ? '' : percentDecode(rawValue) });
  }
  return params;
}

/** Splits `rawUrl` into raw path and raw query (without `?`). */
export function splitUrl(rawUrl: string): { rawPath: string; rawQuery: string } {
  const q = rawUrl.indexOf('?');
  return q < 0 ? { rawPath: rawUrl, rawQuery: '' } : { rawPath: rawUrl.slice(0, q), rawQuery: rawUrl.slice(q + 1) };
}

function sortPairs(pairs: [string, string][]): string {
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** The canonical query string; `exclude` drops a parameter by raw name (`X-Amz-Signature` when presigned). */
export function canonicalQuery(params: readonly QueryParam[], exclude?: string): string {
  const pairs: [string, string][] = [];
  for (const p of params) {
    if (p.rawName === exclude) continue;
    pairs.push([canonicalComponent(p.rawName), p.rawValue === undefined ? '' : canonicalComponent(p.rawValue)]);
  }
  return sortPairs(pairs);
}

/**
 * The query as the client sent it, only sorted: the fallback for clients that sign their own encoding
 * verbatim (for example a literal `(` or `%7E` that they did not normalise).
 */
export function verbatimQuery(params: readonly QueryParam[], exclude?: string): string {
  const pairs: [string, string][] = [];
  for (const p of params) if (p.rawName !== exclude) pairs.push([p.rawName, p.rawValue ?? '']);
  return sortPairs(pairs);
}

/** The value of a header as one string (repeats joined with `,`), or undefined when absent. */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/** A header value as SigV4 canonicalises it: each value trimmed, inner whitespace runs one space, joined with `,`. */
export function canonicalHeaderValue(v: string | string[] | undefined): string {
  if (v === undefined) return '';
  const one = (s: string) => s.trim().replace(/\s+/g, ' ');
  return Array.isArray(v) ? v.map(one).join(',') : one(v);
}

/** `name:value\n` for each signed header, in the order given. */
export function canonicalHeaders(headers: Record<string, string | string[] | undefined>, signed: readonly string[]): string {
  let out = '';
  for (const name of signed) out += `${name}:${canonicalHeaderValue(headers[name])}\n`;
  return out;
}
