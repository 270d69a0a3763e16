// Keeps the lines of a JSON Lines text whose top-level field `field` (parameter) is present, or, with
// parameter `equals`, has that value (a string compares without its quotes; numbers, true, false and null as
// written). A matching test on the raw line: `"field"` followed by `:` and the value. Lines longer than
// 256 KiB are dropped.
import { buffer, flush, param, putBytes, setContext } from "./lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

const LINE_CAP: i32 = 262144;
const line: usize = memory.data(LINE_CAP);
let lineLen: i32 = 0;
let tooLong: bool = false;
let key: Uint8Array = new Uint8Array(0);
let value: Uint8Array = new Uint8Array(0);
let hasValue: bool = false;

function bytesOf(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function matchAt(pos: i32, b: Uint8Array): bool {
  if (pos + b.length > lineLen) return false;
  for (let i = 0; i < b.length; i++) if (load<u8>(line + <usize>(pos + i)) != b[i]) return false;
  return true;
}

function skipSpaces(pos: i32): i32 {
  while (pos < lineLen) {
    const c = load<u8>(line + <usize>pos);
    if (c != 0x20 && c != 0x09) break;
    pos++;
  }
  return pos;
}

function lineMatches(): bool {
  for (let p = 0; p < lineLen; p++) {
    if (!matchAt(p, key)) continue;
    let q = skipSpaces(p + key.length);
    if (q >= lineLen || load<u8>(line + <usize>q) != 0x3a) continue;
    if (!hasValue) return true;
    q = skipSpaces(q + 1);
    if (matchAt(q, value)) {
      const end = q + value.length;
      if (end >= lineLen) return true;
      const c = load<u8>(line + <usize>end);
      if (c == 0x2c || c == 0x7d || c == 0x20 || c == 0x0d || c == 0x09) return true;
    }
  }
  return false;
}

function endLine(): void {
  if (!tooLong && lineMatches()) {
    putBytes(line, lineLen);
    putBytes(changetype<usize>(newline.buffer), 1);
  }
  lineLen = 0;
  tooLong = false;
}

const newline: Uint8Array = bytesOf("\n");

export function arca_begin(ptr: usize, len: i32): i32 {
  setContext(ptr, len);
  key = bytesOf('"' + param("field") + '"');
  const eq = param("equals");
  hasValue = eq.length > 0;
  if (hasValue) {
    const c = eq.charCodeAt(0);
    const bare = (c >= 0x30 && c <= 0x39) || c == 0x2d || eq == "true" || eq == "false" || eq == "null";
    value = bytesOf(bare ? eq : '"' + eq + '"');
  }
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (c == 0x0a) {
      endLine();
      continue;
    }
    if (lineLen < LINE_CAP) {
      store<u8>(line + <usize>lineLen, c);
      lineLen++;
    } else tooLong = true;
  }
  flush();
  return 0;
}

export function arca_end(): i32 {
  if (lineLen > 0) endLine();
  flush();
  return 0;
}
