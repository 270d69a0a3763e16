// A broken hook for tests: spins forever on its first chunk.
import { buffer } from "../lib/arca";

let spins: u64 = 0;

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

export function arca_begin(ptr: usize, len: i32): i32 {
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  while (spins != 0xffffffffffffffff) spins++;
  return <i32>spins;
}

export function arca_end(): i32 {
  return 0;
}
