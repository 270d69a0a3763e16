// Passes every byte through unchanged: the baseline of the hook benchmark (and a block-wise hook).
import { buffer } from "./lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

@external("arca", "emit")
declare function emit(ptr: usize, len: i32): void;

export function arca_begin(ptr: usize, len: i32): i32 {
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  emit(ptr, len);
  return 0;
}

export function arca_end(): i32 {
  return 0;
}
