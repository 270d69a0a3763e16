/** Shared fixtures for the erasure tests: deterministic bytes and the policies under test. */
import { createHash } from 'node:crypto';

/** The policies every codec property runs over: Arca's defaults plus the edges of the parameter table. */
export const POLICIES: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [2, 1],
  [4, 2],
  [6, 3],
  [8, 4],
  [10, 4],
  [12, 4],
];

export const MiB = 1048576;

/** `length` pseudo-random bytes from `seed` (xorshift32), so a failing fast-check case replays exactly. */
export function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  const words = new Uint32Array(out.buffer, out.byteOffset, length >>> 2);
  let x = (seed | 0) || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  for (let i = words.length * 4; i < length; i++) out[i] = i * 31 + seed;
  return out;
}

export function sha256(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

/** The padded segment the k data fragments hold: `segment` then zeros up to k * fragmentSize. */
export function padded(segment: Buffer, total: number): Buffer {
  const out = Buffer.alloc(total);
  segment.copy(out);
  return out;
}

/** Copies of `fragments` with the slots in `erased` set to undefined. */
export function erase(fragments: readonly Buffer[], erased: Iterable<number>): Array<Buffer | undefined> {
  const out: Array<Buffer | undefined> = [...fragments];
  for (const i of erased) out[i] = undefined;
  return out;
}

/** Every subset of 0..n-1 with at most `max` members. */
export function subsets(n: number, max: number): number[][] {
  const out: number[][] = [];
  const walk = (start: number, picked: number[]): void => {
    out.push([...picked]);
    if (picked.length === max) return;
    for (let i = start; i < n; i++) walk(i + 1, [...picked, i]);
  };
  walk(0, []);
  return out;
}
