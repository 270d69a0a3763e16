// A broken hook for tests: traps on its first chunk.
import { buffer } from "../lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

export function arca_begin(ptr: usize, len: i32): i32 {
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  unreachable();
  return 0;
}

export function arca_end(): i32 {
  return 0;
}
