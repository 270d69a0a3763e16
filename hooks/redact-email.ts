// Replaces e-mail addresses in text with "[redacted]". Works on words (runs of bytes without whitespace,
// quotes or brackets) as they stream, so an address split between chunks is still found; a word longer
// than 1 KiB is passed on as it is.
import { buffer, flush, param, put, putBytes, putString, setContext } from "./lib/arca";

export function arca_buffer(size: i32): usize {
  return buffer(size);
}

const WORD_CAP: i32 = 1024;
const word: usize = memory.data(WORD_CAP);
let wordLen: i32 = 0;
let replacement: string = "[redacted]";

function isBreak(c: u8): bool {
  return c <= 0x20 || c == 0x22 || c == 0x27 || c == 0x3c || c == 0x3e || c == 0x28 || c == 0x29 || c == 0x2c || c == 0x3b || c == 0x5b || c == 0x5d;
}

function isLocal(c: u8): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x5f || c == 0x25 || c == 0x2b || c == 0x2d;
}

function isDomain(c: u8): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x2d;
}

/** Emits the word, with the address in it (local@domain.tld, maybe with trailing punctuation) replaced. */
function flushWord(): void {
  let at: i32 = -1;
  for (let i = 0; i < wordLen; i++) if (load<u8>(word + <usize>i) == 0x40) { at = i; break; }
  if (at > 0) {
    let start = at;
    while (start > 0 && isLocal(load<u8>(word + <usize>(start - 1)))) start--;
    let end = at + 1;
    let dot: i32 = -1;
    while (end < wordLen && isDomain(load<u8>(word + <usize>end))) {
      if (load<u8>(word + <usize>end) == 0x2e) dot = end;
      end++;
    }
    // Trailing dots are punctuation, not domain.
    while (end > at + 1 && load<u8>(word + <usize>(end - 1)) == 0x2e) end--;
    if (dot > at + 1 && dot < end - 1 && start < at) {
      putBytes(word, start);
      putString(replacement);
      putBytes(word + <usize>end, wordLen - end);
      wordLen = 0;
      return;
    }
  }
  putBytes(word, wordLen);
  wordLen = 0;
}

export function arca_begin(ptr: usize, len: i32): i32 {
  setContext(ptr, len);
  const r = param("replacement");
  if (r.length > 0) replacement = r;
  return 0;
}

export function arca_chunk(ptr: usize, len: i32): i32 {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (isBreak(c)) {
      flushWord();
      put(c);
    } else {
      if (wordLen == WORD_CAP) flushWord();
      store<u8>(word + <usize>wordLen, c);
      wordLen++;
    }
  }
  flush();
  return 0;
}

export function arca_end(): i32 {
  flushWord();
  flush();
  return 0;
}
