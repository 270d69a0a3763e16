/**
 * The durable write queue of a storage node: installs new versions (data files, tombstones), with the steps of
 * write-queue-worker.ts (`WriteRunner`). They run on the node's main thread: a replica write's synchronous
 * calls (readdir, create, write, mkdir, rename, the `hashes.invalid` line) take ~0.1–0.2 ms there, less than
 * the two messages and two thread wake-ups a hand-off to a worker costs on the bench VMs (docs/storage-nodes.md,
 * "The write queue"). `onWorker` runs them on the disk worker instead, one message each way.
 *
 * The disk worker recomputes suffix hashes (`rehash`, for FsSuffixHashes) and lists partitions for the auditor
 * (`list`): ~1 ms of synchronous CPU per job, kept off the main thread. Every device's jobs go to the same
 * worker. The workers are JobThreads (job-thread.ts): started on the first job, idle ones keep no process
 * alive, and a worker that dies fails its pending jobs (a write's may or may not have happened, as with a
 * crash).
 */
import { dirname } from 'node:path';
import { isWholeBuffer } from '../src/common/free-bytes.js';
import { errorOf, JobThread } from '../src/common/job-thread.js';
import type { ListReply, RehashJob, RehashReply } from './suffix-hash-files.js';
import type { WriteJournalOptions } from './write-journal.js';
import { type DiskJob, type DiskReply, type InstallOutcome, type WriteJob, type WriteReply, WriteRunner, type WriteWorkerOptions } from './write-queue-worker.js';

export type { InstallOutcome } from './write-queue-worker.js';

export interface WriteQueueOptions {
  /** Disk worker threads; devices are spread over them (each ~10 MiB of RSS). Default 1. */
  workers?: number;
  /** Writes run on the disk worker instead of the calling thread. Default false. */
  onWorker?: boolean;
  /** Writes of one device in progress at once (more wait in line). Default 64. */
  maxInFlight?: number;
  /** The devices' write journals (write-journal.ts). */
  journal?: Pick<WriteJournalOptions, 'maxAgeMs' | 'maxBytes'>;
}

/** A job without its id. */
export type WriteRequest = Omit<WriteJob, 'id'>;

const workerUrl = new URL('./write-queue-worker.js', import.meta.url);

export class WriteQueue {
  readonly #threads: Array<JobThread<DiskJob, DiskReply>>;
  /** The writes' runner on this thread (none with `onWorker`). */
  readonly #local: WriteRunner | undefined;

  constructor(opts: WriteQueueOptions = {}) {
    const workerData: WriteWorkerOptions = { arcaWriteQueue: true, maxInFlight: Math.max(1, opts.maxInFlight ?? 64), journal: opts.journal };
    // The worker's heap holds job bookkeeping (the file contents are ArrayBuffers outside it) and, during a
    // recomputation, one partition's suffix hashes (4,096 suffixes at most, ~0.5 MiB).
    const resourceLimits = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };
    this.#local = opts.onWorker ? undefined : new WriteRunner(workerData);
    this.#threads = Array.from({ length: Math.max(1, opts.workers ?? 1) }, () => new JobThread(workerUrl, { name: 'write worker', workerData, resourceLimits }));
  }

  /**
   * Runs a job; resolves when it is durable. Rejects with the job's error: ArcaError `Conflict` or `Locked`
   * (nothing was written), an errno error with `code` (and `stage: 'tmp'` when the tmp file could not be
   * created).
   */
  async submit(req: WriteRequest): Promise<InstallOutcome> {
    // On this thread the job's `data` is the runner's from then on, as a buffer moved to the worker would be
    // (it frees it once written); the id only matters to a worker's replies.
    const reply = this.#local ? await this.#local.add({ ...req, id: 0 }) : await this.#posted(req);
    if (reply.kind === 'failed') throw errorOf(reply.error);
    return reply.outcome;
  }

  #posted(req: WriteRequest): Promise<WriteReply> {
    // A buffer of its own moves to the worker without a copy; a slice of a larger one is copied.
    const data = req.data;
    const transfer = data && isWholeBuffer(data) ? [data.buffer] : [];
    return this.#thread(req.queue).run(req, transfer) as Promise<WriteReply>;
  }

  /** Runs a partition's suffix-hash job (suffix-hash-files.ts) on the worker of the partition's device. */
  async rehash(job: Omit<RehashJob, 'id' | 'op'>): Promise<RehashReply> {
    return (await this.#partitionThread(job.partitionDir).run({ ...job, op: 'rehash' })) as RehashReply;
  }

  /** Lists a partition's hash dirs after suffix `after` (suffix-hash-files.ts, `listPartition`) on the worker of its device. */
  async list(partitionDir: string, after?: string): Promise<ListReply> {
    return (await this.#partitionThread(partitionDir).run({ op: 'list', partitionDir, after })) as ListReply;
  }

  /** The worker of the device a partition dir (`<device>/objects[-N]/<partition>`) is on. */
  #partitionThread(partitionDir: string): JobThread<DiskJob, DiskReply> {
    return this.#thread(dirname(dirname(partitionDir)));
  }

  /** The worker of the device at `deviceDir`. */
  #thread(deviceDir: string): JobThread<DiskJob, DiskReply> {
    return this.#threads[hashOf(deviceDir) % this.#threads.length];
  }

  /** Stops the workers; pending jobs fail. */
  async close(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.close()));
  }
}

let shared: WriteQueue | undefined;

/** The process's write queue (all FsDiskFiles of a process share its workers), made with `opts` on first use. */
export function sharedWriteQueue(opts?: WriteQueueOptions): WriteQueue {
  shared ??= new WriteQueue(opts);
  return shared;
}

function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
