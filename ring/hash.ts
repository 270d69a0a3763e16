/**
 * Hashing: where a path lands (XXH64 with the cluster seed) and small integer mixers for deterministic
 * tie-breaking. The hasher is a WebAssembly module instantiated once at import; it holds no state between
 * calls, so this is not mutable module state.
 */
import xxhash from 'xxhash-wasm';

const { h64 } = await xxhash();

/** Top `partPower` bits of XXH64(utf8(path), seed): the partition of `path`. */
export function partitionOf(path: string, seed: bigint, shift: bigint): number {
  return Number(h64(path, seed) >> shift);
}

/** A 32-bit avalanche mix (murmur3 finaliser) of two integers: a stateless, seedable pseudo-random value. */
export function mix32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ Math.imul(b, 0x27d4eb2f), 0x165667b1);
  h ^= h >>> 15;
  return h >>> 0;
}

/** FNV-1a of a string mixed with `seed`: a stable tie-break rank for a named failure domain. */
export function rankOf(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return mix32(seed, h >>> 0);
}
