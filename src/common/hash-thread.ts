/**
 * Cryptographic hashes of large bodies computed on a worker thread of the process's own, so that the thread
 * that moves a body's bytes (the proxy's event loop: reading the client, sending three replicas) does not
 * also spend a third of its time in MD5 (docs/performance.md, proposal 5). `hash-worker.ts` is the worker's
 * side.
 *
 * Each chunk is copied once into a message of its own; the jobs of one turn of the event loop travel together
 * (job-thread.ts). A stream's bytes reach the worker in order, and its final job asks for the digests and
 * the count of bytes the worker hashed: a count that differs from the bytes given (the worker died in the
 * middle and a new one started) fails the digest rather than return the hash of part of the stream.
 *
 * What the worker has not hashed yet is held in its messages; past `maxQueuedBytes` for the whole process,
 * `update` returns a promise that resolves once the worker has caught up, for the caller to wait on.
 */
import { errorOf, type JobError, JobThread } from './job-thread.js';

/** The node:crypto algorithms the worker computes. */
export type ThreadHashAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface HashJob {
  id: number;
  stream: number;
  algorithms: readonly ThreadHashAlgorithm[];
  data?: Uint8Array;
  /** Digest the stream after `data` and forget it. */
  final?: boolean;
  /** Forget the stream without a digest (its owner was collected unfinished). */
  drop?: boolean;
}

export interface HashReply {
  id: number;
  /** With `final`: one digest per algorithm, in order. */
  digests?: Uint8Array[];
  /** With `final`: the bytes the worker hashed for the stream. */
  bytes?: number;
  error?: JobError;
}

/** Bytes waiting in the worker's messages, process-wide, past which `update` asks its caller to wait. */
export const maxQueuedBytes = 32 * 1024 * 1024;

let thread: JobThread<HashJob, HashReply> | undefined;
let nextStream = 1;
let queued = 0;
let waiters: Array<() => void> = [];

function hashThread(): JobThread<HashJob, HashReply> {
  thread ??= new JobThread<HashJob, HashReply>(new URL('./hash-worker.js', import.meta.url), {
    name: 'hash worker',
    workerData: { arcaHashWorker: true },
    // Its heap holds only the hash states; the bytes it hashes arrive as ArrayBuffers outside it.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  return thread;
}

/** Stops the hash worker: digests pending on it fail, and the next update starts a new one. */
export async function closeHashThread(): Promise<void> {
  const t = thread;
  thread = undefined;
  await t?.close();
}

function post(job: Omit<HashJob, 'id'>): Promise<HashReply> {
  const bytes = job.data?.length ?? 0;
  queued += bytes;
  return hashThread()
    .run(job, job.data ? [job.data.buffer as ArrayBuffer] : [])
    .then((reply) => {
      if (reply.error) throw errorOf(reply.error);
      return reply;
    })
    .finally(() => {
      queued -= bytes;
      if (queued <= maxQueuedBytes / 2 && waiters.length > 0) {
        const woken = waiters;
        waiters = [];
        for (const wake of woken) wake();
      }
    });
}

// A stream whose owner was collected before its digest (an upload that failed) is dropped from the worker
// (with no worker running, none holds it: no new one is started for that).
const unfinished = new FinalizationRegistry<number>((stream) => {
  if (thread) post({ stream, algorithms: [], drop: true }).catch(() => {});
});

/** The hashes of one byte stream, computed on the process's hash worker. */
export class ThreadHashes {
  readonly #stream = nextStream++;
  #bytes = 0;
  #done = false;

  constructor(readonly algorithms: readonly ThreadHashAlgorithm[]) {
    unfinished.register(this, this.#stream, this);
  }

  /** Bytes given so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Hands a copy of `chunk` to the worker. Returns a promise when the worker is behind by more than
   * `maxQueuedBytes`: a caller that can wait (a stream's transform) should, before it reads on.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#done) throw new Error('ThreadHashes.update after digest');
    if (chunk.length === 0) return undefined;
    this.#bytes += chunk.length;
    // A copy of the chunk's bytes alone: the chunk may be a view of a larger or shared buffer.
    post({ stream: this.#stream, algorithms: this.algorithms, data: new Uint8Array(chunk) }).catch(() => {});
    if (queued <= maxQueuedBytes) return undefined;
    return new Promise((resolve) => waiters.push(resolve));
  }

  /** The digests, one per algorithm in order. Call once, after the last update. */
  async digest(): Promise<Buffer[]> {
    if (this.#done) throw new Error('ThreadHashes.digest called twice');
    this.#done = true;
    unfinished.unregister(this);
    const reply = await post({ stream: this.#stream, algorithms: this.algorithms, final: true });
    if (reply.bytes !== this.#bytes || reply.digests?.length !== this.algorithms.length) {
      throw new Error(`the hash worker hashed ${reply.bytes} of the stream's ${this.#bytes} bytes`);
    }
    return reply.digests.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
}
