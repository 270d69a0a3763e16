// The Arca hook ABI v1 for AssemblyScript hooks (docs/hooks.md): imports, buffers, output and context helpers.
// Hooks export arca_buffer, arca_begin, arca_chunk and arca_end; this file gives them the plumbing.

@external("arca", "emit")
declare function hostEmit(ptr: usize, len: i32): void;
@external("arca", "set_meta")
declare function hostSetMeta(kp: usize, kl: i32, vp: usize, vl: i32): void;
@external("arca", "reject")
declare function hostReject(ptr: usize, len: i32): void;

// Input: the host writes each chunk (at most 64 KiB) here; a larger request (the context) gets heap memory.
const CHUNK_CAP: i32 = 65536;
const chunkBuf: usize = memory.data(CHUNK_CAP, 16);

export function buffer(size: i32): usize {
  return size <= CHUNK_CAP ? chunkBuf : heap.alloc(<usize>size);
}

// Output: bytes are gathered here and handed to the host 64 KiB at a time.
const OUT_CAP: i32 = 65536;
const outBuf: usize = memory.data(OUT_CAP, 16);
let outLen: i32 = 0;

export function flush(): void {
  if (outLen > 0) {
    hostEmit(outBuf, outLen);
    outLen = 0;
  }
}

// @ts-ignore: decorator
@inline export function put(b: u8): void {
  store<u8>(outBuf + <usize>outLen, b);
  outLen++;
  if (outLen == OUT_CAP) flush();
}

export function putBytes(ptr: usize, len: i32): void {
  if (len >= OUT_CAP) {
    flush();
    hostEmit(ptr, len);
    return;
  }
  if (outLen + len > OUT_CAP) flush();
  memory.copy(outBuf + <usize>outLen, ptr, <usize>len);
  outLen += len;
}

export function putString(s: string): void {
  const b = String.UTF8.encode(s);
  putBytes(changetype<usize>(b), b.byteLength);
}

export function setMeta(key: string, value: string): void {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  hostSetMeta(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

/** Rejects the request; the hook then returns a non-zero code. */
export function reject(message: string): i32 {
  const m = String.UTF8.encode(message);
  hostReject(changetype<usize>(m), m.byteLength);
  return 1;
}

/** The call's context (JSON) as given to arca_begin. */
let context: string = "";

export function setContext(ptr: usize, len: i32): void {
  context = String.UTF8.decodeUnsafe(ptr, <usize>len);
}

/** A string field of the context, searched from `from` (e.g. inside "params"); "" when absent. */
function stringField(name: string, from: i32): string {
  const key = '"' + name + '":"';
  const at = context.indexOf(key, from);
  if (at < 0) return "";
  let i = at + key.length;
  let out = "";
  let start = i;
  while (i < context.length) {
    const c = context.charCodeAt(i);
    if (c == 0x5c) {
      out += context.substring(start, i);
      i++;
      const e = context.charCodeAt(i);
      out += e == 0x6e ? "\n" : e == 0x74 ? "\t" : String.fromCharCode(e);
      start = i + 1;
    } else if (c == 0x22) {
      return out + context.substring(start, i);
    }
    i++;
  }
  return "";
}

/** A top-level string of the context (contentType, key, bucket, trigger). */
export function contextString(name: string): string {
  return stringField(name, 0);
}

/** A parameter of the binding or request (params: {name: value}). */
export function param(name: string): string {
  const at = context.indexOf('"params":{');
  return at < 0 ? "" : stringField(name, at);
}
