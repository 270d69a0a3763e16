// ASCII letters to upper case, byte by byte: a block-wise hook (output block i depends on input block i
// only, and has its length), so Range GETs through it read only the blocks they need.
import { buffer, flush, put } from "./lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

export function arca_begin(ptr: usize, len: i32): i32 {
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    put(c >= 0x61 && c <= 0x7a ? c - 32 : c);
  }
  flush();
  return 0;
}

export function arca_end(): i32 {
  flush();
  return 0;
}
