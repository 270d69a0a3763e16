// Rejects an upload whose bytes do not match its declared Content-Type, for the types it knows by their
// first bytes (PNG, JPEG, GIF, PDF, ZIP, gzip, qcow2, JSON) and for text/* (no NUL byte anywhere). Other
// types pass. A validating hook: the bytes are stored as sent.
import { buffer, contextString, reject, setContext } from "./lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

const SNIFF: i32 = 16;
const head: usize = memory.data(SNIFF);
let have: i32 = 0;
let declared: string = "";
let checked: bool = false;
let text: bool = false;

function startsWith(bytes: StaticArray<u8>): bool {
  if (have < bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (load<u8>(head + <usize>i) != bytes[i]) return false;
  return true;
}

/** True when the first bytes fit the declared type (or the type is not one this hook knows). */
function fits(): bool {
  if (declared == "image/png") return startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (declared == "image/jpeg") return startsWith([0xff, 0xd8, 0xff]);
  if (declared == "image/gif") return startsWith([0x47, 0x49, 0x46, 0x38]);
  if (declared == "application/pdf") return startsWith([0x25, 0x50, 0x44, 0x46, 0x2d]);
  if (declared == "application/zip") return startsWith([0x50, 0x4b, 0x03, 0x04]) || startsWith([0x50, 0x4b, 0x05, 0x06]);
  if (declared == "application/gzip" || declared == "application/x-gzip") return startsWith([0x1f, 0x8b]);
  if (declared == "application/x-qemu-disk" || declared == "application/x-qcow2") return startsWith([0x51, 0x46, 0x49, 0xfb]);
  if (declared == "application/json") {
    for (let i = 0; i < have; i++) {
      const c = load<u8>(head + <usize>i);
      if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) continue;
      return c == 0x7b || c == 0x5b || c == 0x22 || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x74 || c == 0x66 || c == 0x6e;
    }
    return false;
  }
  return true;
}

function check(): i32 {
  checked = true;
  if (fits()) return 0;
  return reject("the body is not " + declared + " as its Content-Type says");
}

export function arca_begin(ptr: usize, len: i32): i32 {
  setContext(ptr, len);
  declared = contextString("contentType").split(";")[0].trim().toLowerCase();
  text = declared.startsWith("text/");
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  if (text) for (let i = 0; i < len; i++) if (load<u8>(ptr + <usize>i) == 0) return reject("a NUL byte in a body declared " + declared);
  if (checked) return 0;
  const take = min(len, SNIFF - have);
  memory.copy(head + <usize>have, ptr, <usize>take);
  have += take;
  return have == SNIFF ? check() : 0;
}

export function arca_end(): i32 {
  return checked ? 0 : check();
}
