/**
 * XXH64 for integrity checks of stored bytes (cheap: ~10 GB/s per core). The wasm module is compiled once
 * per process when this module loads; the exported functions are stateless.
 */
import xxhash from 'xxhash-wasm';

const api = await xxhash();

/** A streaming XXH64 over chunks; `digestHex()` gives 16 lower-case hex digits. */
export interface Xxh64Stream {
  update(chunk: Uint8Array): Xxh64Stream;
  digestHex(): string;
}

/** Starts a streaming XXH64 with seed 0. */
export function createXxh64(): Xxh64Stream {
  const h = api.create64(0n);
  const stream: Xxh64Stream = {
    update(chunk) {
      h.update(chunk);
      return stream;
    },
    digestHex() {
      return h.digest().toString(16).padStart(16, '0');
    },
  };
  return stream;
}

/** XXH64 (seed 0) of one buffer as 16 hex digits. */
export function xxh64Hex(data: Uint8Array): string {
  return api.h64Raw(data, 0n).toString(16).padStart(16, '0');
}
