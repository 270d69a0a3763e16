/**
 * Frees a buffer's memory now instead of at V8's next collection.
 *
 * Every body chunk an HTTP server receives is a fresh ArrayBuffer (malloc'd; node:http copies it out of the
 * parser's read buffer), and a storage node allocates almost nothing else per chunk. So V8 collects the chunks
 * only when their external memory passes its own limit (64 MiB over what survived the last collection): a node
 * taking uploads carried 35–50 MiB of dead chunks in its malloc heap (docs/storage-nodes.md, "Memory V8 does
 * not see").
 * Detaching an ArrayBuffer with `ArrayBuffer.prototype.transfer(0)` drops its backing store at once.
 *
 * Node 20's V8 (11.3) has `transfer` behind `--harmony-rab-gsab-transfer` (v8-builtin.ts), and the builtin
 * accepts an ArrayBuffer of any context. Newer Node has it on every ArrayBuffer.
 */
import { builtinBehindFlag } from './v8-builtin.js';

type Transfer = (this: ArrayBuffer, newLength?: number) => ArrayBuffer;

const own = (ArrayBuffer.prototype as { transfer?: Transfer }).transfer;
const transfer: Transfer | undefined =
  typeof own === 'function' ? own : builtinBehindFlag<Transfer>('--harmony-rab-gsab-transfer', 'ArrayBuffer.prototype.transfer');

/** Whether `freeBytes` frees anything in this process. */
export const canFreeBytes = transfer !== undefined;

/**
 * Whether `bytes` is the whole of an ArrayBuffer (not shared memory), so that it can be moved to a worker or
 * freed on its own. A view of part of one may share it with others: Node's pooled small Buffers do.
 */
export function isWholeBuffer(bytes: Uint8Array): bytes is Uint8Array & { buffer: ArrayBuffer } {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
}

/**
 * Frees the memory of `bytes` when it is the whole of its ArrayBuffer (`isWholeBuffer`). Every view of that
 * ArrayBuffer reads as empty afterwards, so the caller must own it: nothing else may hold it.
 */
export function freeBytes(bytes: Uint8Array): void {
  if (!transfer || bytes.byteLength === 0 || !isWholeBuffer(bytes)) return;
  transfer.call(bytes.buffer, 0);
}

/** `freeBytes` for each of `chunks`. */
export function freeAll(chunks: readonly Uint8Array[]): void {
  for (const c of chunks) freeBytes(c);
}
