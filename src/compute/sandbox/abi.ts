/**
 * The hook ABI, version 1 (docs/hooks.md has the author's view). A hook is a WebAssembly module that
 *
 * - imports its linear memory as `env.memory` (the host supplies it with a `maximum`: the memory cap), and
 *   may import only these functions: `arca.emit(ptr, len)` (append output bytes), `arca.set_meta(kptr, klen,
 *   vptr, vlen)` (set a metadata field), `arca.reject(ptr, len)` (reject with a message) and `env.abort(msg,
 *   file, line, col)` (AssemblyScript's abort: a trap with a message);
 * - exports `arca_buffer(size) → ptr` (where the host may write `size` bytes), `arca_begin(ptr, len) → rc`
 *   (the call's context as JSON), `arca_chunk(ptr, len) → rc` (the next input bytes) and `arca_end() → rc`.
 *   `rc` 0 goes on; anything else rejects the request.
 *
 * No clock, file, network or randomness reaches a hook: its output is a function of its input.
 */
import { ArcaError } from '../../common/errors.js';

export const abiVersion = 1;

/** Functions a hook may import, as `module.name`. */
export const allowedFunctionImports = new Set(['arca.emit', 'arca.set_meta', 'arca.reject', 'env.abort']);
export const requiredExports = ['arca_buffer', 'arca_begin', 'arca_chunk', 'arca_end'] as const;

/** Largest input piece handed to one `arca_chunk` call. */
export const maxChunkBytes = 64 * 1024;
/** Bytes of one Wasm page. */
export const pageBytes = 64 * 1024;

/** The imported memory's declared limits, in pages. */
export interface MemoryLimits {
  min: number;
  max?: number;
}

/** What a hook module's imports and exports must be; throws ArcaError BadRequest naming the problem. */
export function checkModule(mod: WebAssembly.Module, bytes: Uint8Array): MemoryLimits {
  let memory = false;
  for (const imp of WebAssembly.Module.imports(mod)) {
    const name = `${imp.module}.${imp.name}`;
    if (imp.kind === 'memory' && name === 'env.memory') memory = true;
    else if (imp.kind !== 'function' || !allowedFunctionImports.has(name)) {
      throw new ArcaError('BadRequest', `the module imports ${imp.kind} ${name}; hooks may import only env.memory, ${[...allowedFunctionImports].join(', ')}`);
    }
  }
  if (!memory) throw new ArcaError('BadRequest', 'the module must import its memory as env.memory (AssemblyScript: --importMemory; clang/Rust: --import-memory)');
  const exports = new Map(WebAssembly.Module.exports(mod).map((e) => [e.name, e.kind]));
  for (const name of requiredExports) {
    if (exports.get(name) !== 'function') throw new ArcaError('BadRequest', `the module must export the function ${name}`);
  }
  const limits = importedMemoryLimits(bytes);
  if (!limits) throw new ArcaError('BadRequest', 'cannot read the limits of the imported memory (memory64 and shared memories are not supported)');
  return limits;
}

/** The limits of the `env.memory` import, read from the module's import section; undefined if unreadable. */
export function importedMemoryLimits(bytes: Uint8Array): MemoryLimits | undefined {
  let pos = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length || shift > 35) throw new RangeError('bad LEB128');
      const b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const name = (): string => {
    const len = leb();
    const s = Buffer.from(bytes.buffer, bytes.byteOffset + pos, len).toString('utf8');
    pos += len;
    return s;
  };
  const limits = (): MemoryLimits | undefined => {
    const flag = bytes[pos++];
    if (flag > 1) return undefined;
    const min = leb();
    return flag === 1 ? { min, max: leb() } : { min };
  };
  try {
    while (pos < bytes.length) {
      const id = bytes[pos++];
      const size = leb();
      const end = pos + size;
      if (id !== 2) {
        pos = end;
        continue;
      }
      const count = leb();
      for (let i = 0; i < count; i++) {
        const full = `${name()}.${name()}`;
        const kind = bytes[pos++];
        if (kind === 0) leb();
        else if (kind === 1) {
          pos++;
          limits();
        } else if (kind === 2) {
          const l = limits();
          if (full === 'env.memory') return l;
        } else if (kind === 3) pos += 2;
        else return undefined;
      }
      return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** What the main thread asks a sandbox worker to do. */
export type WorkerRequest =
  | { op: 'begin'; module: WebAssembly.Module; memory: { initial: number; maximum: number }; context: Uint8Array }
  | { op: 'chunk'; data: Uint8Array }
  | { op: 'end' }
  | { op: 'reset' };

/** Why a step failed. */
export type FailureReason = 'trap' | 'memory' | 'timeout' | 'abi';

/** A worker's answer to one step. */
export type WorkerReply =
  | { ok: true; out: Uint8Array[]; meta?: Record<string, string>; rejected?: string; cpuMs: number }
  | { ok: false; reason: FailureReason; message: string; cpuMs: number };
