// A broken hook for tests: grows its memory until the host's limit refuses, then traps.
import { buffer } from "../lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

export function arca_begin(ptr: usize, len: i32): i32 {
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  let before = memory.grow(32);
  while (before >= 0) {
    store<u8>(<usize>before << 16, 1);
    before = memory.grow(32);
  }
  unreachable();
  return 0;
}

export function arca_end(): i32 {
  return 0;
}
