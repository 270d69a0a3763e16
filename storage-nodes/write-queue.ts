/**
 * The durable write queue of a storage node: installs new versions (data files, tombstones) on a worker
 * thread (write-queue-worker.ts has the steps). A job costs the main thread one message each way, and the
 * jobs and replies of one turn of either event loop travel in one message.
 *
 * Every device's jobs go to the same worker (its queue is per device). The workers start on the first
 * job and do not keep the process alive while no job is pending. A worker that dies fails its pending jobs
 * (their writes may or may not have happened, as with a crash) and the next job starts a new one.
 */
import { Worker } from 'node:worker_threads';
import { ArcaError, type ArcaErrorCode } from '../src/common/errors.js';
import type { InstallOutcome, JobError, WriteJob, WriteReply, WriteWorkerOptions } from './write-queue-worker.js';

export type { InstallOutcome } from './write-queue-worker.js';

export interface WriteQueueOptions {
  /** Worker threads; devices are spread over them (each ~10 MiB of RSS). Default 1. */
  workers?: number;
  /** Jobs of one device in progress at once (more wait in line). Default 64. */
  maxInFlight?: number;
}

/** A job without its id. */
export type WriteRequest = Omit<WriteJob, 'id'>;

interface Slot {
  worker: Worker;
  pending: number;
  dead: boolean;
  /** Jobs submitted in one turn of the event loop, posted together (each message wakes the worker). */
  outbox: WriteJob[];
  transfer: ArrayBuffer[];
}

interface Pending {
  slot: Slot;
  resolve: (outcome: InstallOutcome) => void;
  reject: (err: Error) => void;
}

const workerUrl = new URL('./write-queue-worker.js', import.meta.url);

export class WriteQueue {
  readonly #opts: WriteWorkerOptions & { workers: number };
  readonly #slots: Array<Slot | undefined>;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(opts: WriteQueueOptions = {}) {
    this.#opts = {
      arcaWriteQueue: true,
      workers: Math.max(1, opts.workers ?? 1),
      maxInFlight: Math.max(1, opts.maxInFlight ?? 64),
    };
    this.#slots = new Array(this.#opts.workers).fill(undefined);
  }

  /**
   * Runs a job; resolves when it is durable. Rejects with the job's error: ArcaError `Conflict` or `Locked`
   * (nothing was written), an errno error with `code` (and `stage: 'tmp'` when the tmp file could not be
   * created).
   */
  submit(req: WriteRequest): Promise<InstallOutcome> {
    let slot: Slot;
    try {
      slot = this.#slot(req.queue);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.#nextId++;
    const job: WriteJob = { ...req, id };
    // A buffer of its own moves to the worker without a copy; a slice of a larger one is copied.
    const data = req.data;
    const transfer = data && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? [data.buffer] : [];
    return new Promise<InstallOutcome>((resolve, reject) => {
      this.#pending.set(id, { slot, resolve, reject });
      if (slot.pending++ === 0) slot.worker.ref();
      slot.transfer.push(...transfer);
      if (slot.outbox.push(job) === 1) setImmediate(() => this.#send(slot));
    });
  }

  #send(slot: Slot): void {
    const jobs = slot.outbox;
    const transfer = slot.transfer;
    slot.outbox = [];
    slot.transfer = [];
    if (!slot.dead) slot.worker.postMessage(jobs, transfer);
  }

  /** Stops the workers; pending jobs fail. */
  async close(): Promise<void> {
    const slots = this.#slots.filter((s): s is Slot => s !== undefined);
    this.#slots.fill(undefined);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #slot(queue: string): Slot {
    const i = hashOf(queue) % this.#opts.workers;
    const existing = this.#slots[i];
    if (existing && !existing.dead) return existing;
    const { workers: _, ...workerData } = this.#opts;
    // The worker's heap holds only job bookkeeping; the file contents are ArrayBuffers outside it.
    const worker = new Worker(workerUrl, { workerData, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    const slot: Slot = { worker, pending: 0, dead: false, outbox: [], transfer: [] };
    worker.unref();
    worker.on('message', (replies: WriteReply[]) => {
      for (const reply of replies) this.#onReply(reply);
    });
    worker.on('error', (err) => this.#died(slot, err.message));
    worker.on('exit', (code) => this.#died(slot, `exit code ${code}`));
    this.#slots[i] = slot;
    return slot;
  }

  #onReply(reply: WriteReply): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    this.#forget(reply.id, p);
    if (reply.kind === 'done') p.resolve(reply.outcome);
    else p.reject(errorOf(reply.error));
  }

  #forget(id: number, p: Pending): void {
    this.#pending.delete(id);
    if (--p.slot.pending === 0 && !p.slot.dead) p.slot.worker.unref();
  }

  #died(slot: Slot, why: string): void {
    if (slot.dead) return;
    slot.dead = true;
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots[i] = undefined;
    for (const [id, p] of this.#pending) {
      if (p.slot !== slot) continue;
      this.#pending.delete(id);
      p.reject(new Error(`the write worker stopped (${why})`));
    }
  }
}

let shared: WriteQueue | undefined;

/** The process's write queue (all FsDiskFiles of a process share its workers), made with `opts` on first use. */
export function sharedWriteQueue(opts?: WriteQueueOptions): WriteQueue {
  shared ??= new WriteQueue(opts);
  return shared;
}

function errorOf(e: JobError): Error {
  if (e.arca) return new ArcaError(e.code as ArcaErrorCode, e.message, e.arca.detail);
  const err = new Error(e.message) as NodeJS.ErrnoException & { stage?: string };
  if (e.code !== undefined) err.code = e.code;
  if (e.stage !== undefined) err.stage = e.stage;
  return err;
}

function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
