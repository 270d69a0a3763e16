/**
 * Single byte ranges as HTTP (RFC 9110 §14) and S3 read them, in one place for every layer: a `Range`
 * header is parsed before the size is known (`parseRange`), then resolved against it (`resolveRange`).
 * Anything but one `bytes=` range (several ranges, other units, bad syntax, `b-a` with b < a) is ignored:
 * the whole body is sent. A last position past the end is clamped; `-n` is the last n bytes.
 */

/** A byte range as a client asks for it, before the size is known. */
export type RangeSpec = { start: number; end?: number } | { suffix: number };

/** The range a `Range` header asks for, or undefined when the whole body is to be sent. */
export function parseRange(header: string | undefined): RangeSpec | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  if (m[2] === '') return { start };
  const end = Number(m[2]);
  return end < start ? undefined : { start, end };
}

/** The inclusive bytes a range selects from `size` bytes, or undefined when it selects none (416). */
export function resolveRange(range: RangeSpec, size: number): { start: number; end: number } | undefined {
  if ('suffix' in range) return range.suffix === 0 || size === 0 ? undefined : { start: Math.max(0, size - range.suffix), end: size - 1 };
  return range.start >= size ? undefined : { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** The Range header value of a RangeSpec. */
export function rangeHeader(range: RangeSpec): string {
  return 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end ?? ''}`;
}
