/**
 * A worker thread that runs jobs for this thread: both sides of it. `JobThread` is the side that posts jobs and
 * gets their replies; `serveJobs` is the worker's side. The node's write queue (write-queue.ts) and its suffix
 * hashing (fs-suffix-hashes.ts) each run on threads of their own.
 *
 * The worker starts on the first job and does not keep the process alive while no job is pending. Jobs posted
 * in one turn of the event loop travel in one message, and so do the replies of one turn of the worker's loop
 * (each message wakes the other thread). A worker that dies fails its pending jobs (what they did on disk may
 * or may not have happened, as with a crash) and the next job starts a new one.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { ArcaError, type ArcaErrorCode } from './errors.js';

export interface JobThreadOptions {
  /** Names the worker in the error its pending jobs fail with when it dies. */
  name: string;
  workerData: unknown;
  /** The worker's heap limits (its jobs carry file contents as ArrayBuffers, outside the heap). */
  resourceLimits?: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number };
}

interface Slot {
  worker: Worker;
  dead: boolean;
  /** Jobs submitted in this turn of the event loop, posted together. */
  outbox: unknown[];
  transfer: ArrayBuffer[];
}

interface Pending<R> {
  slot: Slot;
  resolve: (reply: R) => void;
  reject: (err: Error) => void;
}

export class JobThread<J extends { id: number }, R extends { id: number }> {
  readonly #pending = new Map<number, Pending<R>>();
  #slot: Slot | undefined;
  #nextId = 1;

  constructor(
    private readonly url: URL,
    private readonly opts: JobThreadOptions,
  ) {}

  /** Posts `job` (with an id of its own) and resolves with the worker's reply to it. */
  run(job: Omit<J, 'id'>, transfer: ArrayBuffer[] = []): Promise<R> {
    let slot: Slot;
    try {
      slot = this.#live();
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.#nextId++;
    return new Promise<R>((resolve, reject) => {
      if (this.#pending.size === 0) slot.worker.ref();
      this.#pending.set(id, { slot, resolve, reject });
      slot.transfer.push(...transfer);
      if (slot.outbox.push({ ...job, id }) === 1) setImmediate(() => this.#send(slot));
    });
  }

  /** Stops the worker; pending jobs fail. */
  async close(): Promise<void> {
    const slot = this.#slot;
    this.#slot = undefined;
    if (slot) await slot.worker.terminate();
  }

  #send(slot: Slot): void {
    const jobs = slot.outbox;
    const transfer = slot.transfer;
    slot.outbox = [];
    slot.transfer = [];
    if (!slot.dead) slot.worker.postMessage(jobs, transfer);
  }

  #live(): Slot {
    if (this.#slot && !this.#slot.dead) return this.#slot;
    const worker = new Worker(this.url, { workerData: this.opts.workerData, resourceLimits: this.opts.resourceLimits });
    const slot: Slot = { worker, dead: false, outbox: [], transfer: [] };
    worker.unref();
    worker.on('message', (replies: R[]) => {
      for (const reply of replies) this.#onReply(reply);
    });
    worker.on('error', (err) => this.#died(slot, err.message));
    worker.on('exit', (code) => this.#died(slot, `exit code ${code}`));
    this.#slot = slot;
    return slot;
  }

  #onReply(reply: R): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0 && !p.slot.dead) p.slot.worker.unref();
    p.resolve(reply);
  }

  #died(slot: Slot, why: string): void {
    if (slot.dead) return;
    slot.dead = true;
    if (this.#slot === slot) this.#slot = undefined;
    for (const [id, p] of this.#pending) {
      if (p.slot !== slot) continue;
      this.#pending.delete(id);
      p.reject(new Error(`the ${this.opts.name} stopped (${why})`));
    }
  }
}

/** An error crossing back from a worker. */
export interface JobError {
  message: string;
  /** errno code of a file-system error. */
  code?: string;
  /** `tmp` when creating the tmp file failed (a missing tmp dir means the device went away). */
  stage?: 'tmp';
  /** Set for an ArcaError (Conflict, Locked), with its code in `code`. */
  arca?: { detail: Record<string, unknown> };
}

/** The worker's side: what an error thrown by a job sends back. */
export function jobError(err: unknown): JobError {
  if (err instanceof ArcaError) return { message: err.message, code: err.code, arca: { detail: err.detail } };
  const e = err as NodeJS.ErrnoException & { stage?: 'tmp' };
  const out: JobError = { message: e?.message ?? String(err) };
  if (typeof e?.code === 'string') out.code = e.code;
  if (e?.stage) out.stage = e.stage;
  return out;
}

/** This side: the error a job's `JobError` stands for (an ArcaError, or an Error with `code` and `stage`). */
export function errorOf(e: JobError): Error {
  if (e.arca) return new ArcaError(e.code as ArcaErrorCode, e.message, e.arca.detail);
  const err = new Error(e.message) as NodeJS.ErrnoException & { stage?: string };
  if (e.code !== undefined) err.code = e.code;
  if (e.stage !== undefined) err.stage = e.stage;
  return err;
}

/**
 * The worker's side: `makeHandler` gets the function that sends a reply back and returns the function each job
 * is handed to (which replies once, now or later); the replies of one turn of this thread's loop go back in
 * one message.
 */
export function serveJobs<J, R>(makeHandler: (reply: (r: R) => void) => (job: J) => void): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs: not on a worker thread');
  let replies: R[] = [];
  const flush = () => {
    const out = replies;
    replies = [];
    port.postMessage(out);
  };
  const handle = makeHandler((r) => {
    if (replies.push(r) === 1) setImmediate(flush);
  });
  port.on('message', (jobs: J[]) => {
    for (const job of jobs) handle(job);
  });
}
