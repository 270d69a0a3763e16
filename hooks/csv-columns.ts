// Projects CSV columns: parameter `columns` lists the columns to keep, by header name or 0-based index
// ("name,email" or "0,2"), in the order given... of the file (columns keep their file order). Quoted fields
// (RFC 4180, with commas and line breaks inside) are kept whole. Up to 256 columns; the header line is
// read before anything goes out (at most 64 KiB).
import { buffer, flush, param, put, setContext } from "./lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

const MAX_COLS: i32 = 256;
const selected: usize = memory.data(MAX_COLS);
const HEAD_CAP: i32 = 65536;
const head: usize = memory.data(HEAD_CAP);
let headLen: i32 = 0;
let byName: bool = false;
let headerDone: bool = false;
let wanted: string[] = [];

let field: i32 = 0;
let inQuotes: bool = false;
let outFields: i32 = 0;
let lineStart: bool = true;

function isSelected(i: i32): bool {
  return i < MAX_COLS && load<u8>(selected + <usize>i) != 0;
}

function startField(): void {
  if (isSelected(field)) {
    if (outFields > 0) put(0x2c);
    outFields++;
  }
}

function feed(c: u8): void {
  if (lineStart) {
    lineStart = false;
    startField();
  }
  if (inQuotes) {
    if (c == 0x22) inQuotes = false;
    if (isSelected(field)) put(c);
    return;
  }
  if (c == 0x22) {
    inQuotes = true;
    if (isSelected(field)) put(c);
  } else if (c == 0x2c) {
    field++;
    startField();
  } else if (c == 0x0a) {
    put(0x0a);
    field = 0;
    outFields = 0;
    lineStart = true;
  } else if (c != 0x0d && isSelected(field)) put(c);
}

/** Picks the columns from the header line, then sends the header through. */
function finishHeader(): void {
  headerDone = true;
  const line = String.UTF8.decodeUnsafe(head, <usize>headLen);
  const names = line.split(",");
  for (let i = 0; i < names.length && i < MAX_COLS; i++) {
    let n = names[i].trim();
    if (n.startsWith('"') && n.endsWith('"') && n.length >= 2) n = n.substring(1, n.length - 1);
    if (wanted.includes(n)) store<u8>(selected + <usize>i, 1);
  }
  for (let i = 0; i < headLen; i++) feed(load<u8>(head + <usize>i));
}

export function arca_begin(ptr: usize, len: i32): i32 {
  setContext(ptr, len);
  wanted = param("columns").split(",").map<string>((s: string) => s.trim());
  byName = false;
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i];
    if (w.length == 0) continue;
    let digits = true;
    for (let j = 0; j < w.length; j++) if (w.charCodeAt(j) < 0x30 || w.charCodeAt(j) > 0x39) digits = false;
    if (digits) {
      const k = I32.parseInt(w);
      if (k < MAX_COLS) store<u8>(selected + <usize>k, 1);
    } else byName = true;
  }
  headerDone = !byName;
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (!headerDone) {
      if (headLen < HEAD_CAP) store<u8>(head + <usize>headLen, c);
      headLen++;
      if (c == 0x0a || headLen >= HEAD_CAP) finishHeader();
      continue;
    }
    feed(c);
  }
  flush();
  return 0;
}

export function arca_end(): i32 {
  if (!headerDone) finishHeader();
  flush();
  return 0;
}
