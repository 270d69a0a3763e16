// Reads a qcow2 image's header (the first 104 bytes) and records it: on PUT (a validating hook) as object
// metadata (x-amz-meta-qcow2-version, -virtual-size, -cluster-size, -encrypted, -backing-file); as an event
// hook it writes the same as a JSON object beside the image (`<key>.qcow2.json`). Not a qcow2 image: nothing.
import { buffer, contextString, flush, putString, setContext, setMeta } from "./lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

const HEADER: i32 = 104;
const head: usize = memory.data(HEADER);
let have: i32 = 0;
let done: bool = false;
let event: bool = false;
let key: string = "";

function be32(off: i32): u32 {
  return bswap<u32>(load<u32>(head + <usize>off));
}

function be64(off: i32): u64 {
  return bswap<u64>(load<u64>(head + <usize>off));
}

function report(): void {
  done = true;
  if (have < 72 || be32(0) != 0x514649fb) return;
  const version = be32(4);
  const size = be64(24);
  const clusterBits = be32(20);
  const crypt = be32(32);
  const backing = be64(8);
  if (event) {
    setMeta("arca:key", key + ".qcow2.json");
    setMeta("arca:content-type", "application/json");
    putString(
      '{"format":"qcow2","version":' + version.toString() + ',"virtualSize":' + size.toString() + ',"clusterSize":' + (1 << clusterBits).toString() +
        ',"encrypted":' + (crypt != 0 ? "true" : "false") + ',"hasBackingFile":' + (backing != 0 ? "true" : "false") + "}\n",
    );
    flush();
  } else {
    setMeta("qcow2-version", version.toString());
    setMeta("qcow2-virtual-size", size.toString());
    setMeta("qcow2-cluster-size", (1 << clusterBits).toString());
    setMeta("qcow2-encrypted", crypt != 0 ? "true" : "false");
    setMeta("qcow2-backing-file", backing != 0 ? "true" : "false");
  }
}

export function arca_begin(ptr: usize, len: i32): i32 {
  setContext(ptr, len);
  event = contextString("trigger") == "event";
  key = contextString("key");
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  if (done) return 0;
  const take = min(len, HEADER - have);
  memory.copy(head + <usize>have, ptr, <usize>take);
  have += take;
  if (have == HEADER) report();
  return 0;
}

export function arca_end(): i32 {
  if (!done) report();
  return 0;
}
