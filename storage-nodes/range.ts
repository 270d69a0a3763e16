/**
 * Single `Range: bytes=…` requests as RFC 9110 §14 reads them: an unparsable or multi-range header is ignored
 * (the whole body is sent), a last position past the end is clamped, a suffix range `-n` takes the last n
 * bytes, and a range that selects nothing is unsatisfiable (416).
 */
import { parseRange, resolveRange } from '../src/common/byte-range.js';

export type RangeDecision =
  | { kind: 'whole' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/** Decides what a `Range` header selects from a body of `size` bytes. */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  const range = parseRange(header);
  if (range === undefined) return { kind: 'whole' };
  const bytes = resolveRange(range, size);
  return bytes ? { kind: 'partial', ...bytes } : { kind: 'unsatisfiable' };
}
