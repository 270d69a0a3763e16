/**
 * The body of a sandbox worker thread: holds at most one hook instance (one call) at a time and runs its
 * steps as the main thread asks. Nothing here is trusted to stop a runaway hook — the main thread's timer
 * terminates the whole thread — but everything a hook does wrong otherwise (traps, bad pointers, memory
 * exhaustion) comes back as a reply.
 */
import { parentPort } from 'node:worker_threads';
import { pageBytes, type WorkerReply, type WorkerRequest } from './abi.js';

interface Instance {
  exports: Record<string, (...args: number[]) => number>;
  memory: WebAssembly.Memory;
  maxBytes: number;
  out: Uint8Array[];
  meta: Record<string, string>;
  rejected?: string;
}

class AbiError extends Error {}
class HookAbort extends Error {}

const decoder = new TextDecoder('utf-8');
let current: Instance | undefined;

/** A trap with the memory this close to its cap is taken for running out of it (grow failed, then the hook gave up). */
/**
 * Whether a trap most likely came from memory running out: a module cannot see why `memory.grow` failed and
 * traps or aborts after it, so a trap with less than a quarter of the cap left (hooks often grow in MiB-sized
 * steps) is reported as out of memory.
 */
function nearLimit(inst: Instance): boolean {
  return inst.maxBytes - inst.memory.buffer.byteLength < Math.max(inst.maxBytes / 4, 2 * pageBytes);
}

function view(inst: Instance, ptr: number, len: number): Uint8Array {
  if (!Number.isInteger(ptr) || !Number.isInteger(len) || ptr < 0 || len < 0 || ptr + len > inst.memory.buffer.byteLength) {
    throw new AbiError(`pointer ${ptr}+${len} is outside the hook's memory`);
  }
  return new Uint8Array(inst.memory.buffer, ptr, len);
}

function text(inst: Instance, ptr: number, len: number): string {
  return decoder.decode(view(inst, ptr >>> 0, len >>> 0));
}

/** AssemblyScript's abort passes a managed string: UTF-16, its byte length in the 4 bytes before it. */
function asString(inst: Instance, ptr: number): string {
  if (ptr === 0) return '';
  try {
    const len = new DataView(inst.memory.buffer).getUint32(ptr - 4, true);
    return Buffer.from(view(inst, ptr, Math.min(len, 1024))).toString('utf16le');
  } catch {
    return '';
  }
}

function instantiate(req: Extract<WorkerRequest, { op: 'begin' }>): Instance {
  const memory = new WebAssembly.Memory({ initial: req.memory.initial, maximum: req.memory.maximum });
  const inst = { memory, maxBytes: req.memory.maximum * pageBytes, out: [], meta: {} } as unknown as Instance;
  const imports = {
    env: {
      memory,
      abort: (msg: number, file: number, line: number, col: number) => {
        throw new HookAbort(`abort: ${asString(inst, msg) || 'no message'} at ${asString(inst, file)}:${line}:${col}`);
      },
    },
    arca: {
      emit: (ptr: number, len: number) => {
        if (len > 0) inst.out.push(view(inst, ptr >>> 0, len >>> 0).slice());
      },
      set_meta: (kp: number, kl: number, vp: number, vl: number) => {
        if (Object.keys(inst.meta).length >= 64) throw new AbiError('more than 64 metadata fields');
        inst.meta[text(inst, kp, kl)] = text(inst, vp, vl);
      },
      reject: (ptr: number, len: number) => {
        inst.rejected = text(inst, ptr, Math.min(len >>> 0, 1024)) || 'rejected';
      },
    },
  };
  const instance = new WebAssembly.Instance(req.module, imports);
  inst.exports = instance.exports as Instance['exports'];
  return inst;
}

/** Copies `data` into the hook's buffer and returns the pointer. */
function place(inst: Instance, data: Uint8Array): number {
  const ptr = inst.exports.arca_buffer(data.length) >>> 0;
  view(inst, ptr, data.length).set(data);
  return ptr;
}

function step(req: WorkerRequest): Omit<Extract<WorkerReply, { ok: true }>, 'cpuMs'> {
  if (req.op === 'reset') {
    current = undefined;
    return { ok: true, out: [] };
  }
  if (req.op === 'begin') current = instantiate(req);
  const inst = current;
  if (!inst) throw new AbiError('no call in progress');
  let rc: number;
  if (req.op === 'begin') rc = inst.exports.arca_begin(place(inst, req.context), req.context.length);
  else if (req.op === 'chunk') rc = inst.exports.arca_chunk(place(inst, req.data), req.data.length);
  else rc = inst.exports.arca_end();
  const out = inst.out;
  inst.out = [];
  if (rc !== 0 && inst.rejected === undefined) inst.rejected = `rejected (code ${rc})`;
  const reply: Omit<Extract<WorkerReply, { ok: true }>, 'cpuMs'> = { ok: true, out };
  if (inst.rejected !== undefined) reply.rejected = inst.rejected;
  if (req.op === 'end' || inst.rejected !== undefined) reply.meta = inst.meta;
  return reply;
}

parentPort!.on('message', (req: WorkerRequest) => {
  const start = performance.now();
  let reply: WorkerReply;
  try {
    reply = { ...step(req), cpuMs: performance.now() - start };
  } catch (err) {
    const cpuMs = performance.now() - start;
    const inst = current;
    current = undefined;
    const message = (err as Error)?.message ?? String(err);
    if (err instanceof AbiError) reply = { ok: false, reason: 'abi', message, cpuMs };
    else if (err instanceof RangeError && /call stack/i.test(message)) reply = { ok: false, reason: 'trap', message: 'stack overflow', cpuMs };
    else if (inst && nearLimit(inst) && (err instanceof WebAssembly.RuntimeError || err instanceof HookAbort)) {
      reply = { ok: false, reason: 'memory', message: `out of memory at its limit of ${inst.maxBytes / 1024 / 1024} MiB (${message})`, cpuMs };
    } else if (err instanceof WebAssembly.RuntimeError || err instanceof HookAbort) reply = { ok: false, reason: 'trap', message, cpuMs };
    else if (err instanceof WebAssembly.LinkError || err instanceof WebAssembly.CompileError) reply = { ok: false, reason: 'abi', message, cpuMs };
    else reply = { ok: false, reason: 'trap', message, cpuMs };
  }
  const transfer = reply.ok ? reply.out.map((b) => b.buffer as ArrayBuffer) : [];
  parentPort!.postMessage(reply, transfer);
});
