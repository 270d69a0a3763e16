/**
 * The steps of a durable write, and the node's disk worker (write-queue.ts is the side the node's main thread
 * sees). `WriteRunner` installs new versions of objects — data files and tombstones — into their hash dirs,
 * durably: on the node's main thread (write-queue.ts calls it), or on this worker with `writes.onWorker`.
 * The worker runs the recomputations of partitions' suffix hashes (`rehashPartition`, suffix-hash-files.ts)
 * and lists partitions for the auditor (`listPartition`). One thread does all of it: each worker thread costs
 * a node ~10 MiB of RSS (its own V8 heap, and the code it compiled), so a node runs one.
 *
 * One job is everything a replica write does on disk once its body arrived: look at the hash dir (conflict,
 * the version it replaces and that version's object lock), create and write the tmp file (or take the fd of
 * one the main thread streamed), `mkdir -p` the hash dir, fdatasync, rename into place, fsync the directories
 * whose entries changed, append the suffix to the partition's `hashes.invalid`, unlink what became obsolete.
 * On the worker, the main thread posts one message and gets one back, instead of ~17 thread-pool round trips
 * of its own; on the main thread, the job is a call.
 *
 * A small write (the whole file in the job: bodies up to 64 KiB, tombstones) skips the syncs of its file and
 * directories: it appends the file to the device's write journal (write-journal.ts) just before the rename
 * and waits for the journal's fdatasync, which concurrent writes share. The runner keeps each device's
 * journal and its checkpoints.
 *
 * Here, reads that the page cache serves (readdir, the replaced version's footer), writes into the page cache
 * (the body, the `hashes.invalid` line), the calls that create or rename names (open with O_CREAT, mkdir,
 * rename), closes and unlinks of small files are synchronous. The syncs and the unlinks of large files go to
 * libuv's thread pool: they wait for the disk, and on one thread the waits would add up instead of
 * overlapping. Every job runs as its own chain, so the syncs of concurrent writes reach the disk together
 * (the file system merges them); a directory's fsync is shared by the jobs that ask for it while another of
 * it runs (CoalescedSyncs). An earlier version took jobs in batches, phase by phase (all files synced, then
 * all renamed, then each directory once): each phase then waited for its slowest member, and latency grew
 * more than the shared syncs saved.
 *
 * A recomputation is one synchronous job on the worker (~1 ms of CPU for a partition that changed); writes on
 * the main thread go on meanwhile (with `onWorker`, their calls in the pool do, and their next steps wait).
 *
 * The main thread holds each job's hash-dir lock, and keeps folds of its partition's hashes.invalid out,
 * until the job is done: no two jobs running at once touch the same hash dir, what the readdir at the start
 * saw stays true, and no append can fall between a fold's read and its unlink of the file.
 */
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { ArcaError } from '../src/common/errors.js';
import { freeBytes } from '../src/common/free-bytes.js';
import { assertRemovable } from '../src/common/object-lock.js';
import type { Timestamp } from '../src/common/timestamp.js';
import type { ObjectMeta } from '../src/common/wire.js';
import { parseTrailer, trailerLength } from './data-file-format.js';
import { CoalescedSyncs, fdatasyncFd, fsyncFd, mkdirTracked as mkdirTrackedWith, preadFullSync, readdirIfExistsSync, unlinkIfExists, unlinkIfExistsSync } from './fs-util.js';
import { applyPatch, conflictOf, type HashDirState, hashDirState, type MetaFileContent, parseFileName, versionDataFile } from './hash-dir.js';
import { type JobError, jobError, serveJobs } from '../src/common/job-thread.js';
import { dropCachedPages } from './page-cache.js';
import { WriteJournal, type WriteJournalOptions } from './write-journal.js';
import { readStoredMeta } from './stored-meta.js';
import { type ListJob, type ListReply, listPartition, type RehashJob, type RehashReply, rehashPartition } from './suffix-hash-files.js';

/** A job as the main thread posts it. */
export interface WriteJob {
  id: number;
  /**
   * The device's directory. Jobs with the same one are batched together, and the hash dir's missing parents
   * are made below it, never it (a device that went away is not made again: mkdirTracked).
   */
  queue: string;
  /** The object's name (for error messages). */
  name: string;
  hashDir: string;
  /** The file name the version gets in the hash dir (`<ts>.data`, `<ts>.ts`, `<ts>#<frag>[#d].data`). */
  file: string;
  /** The tmp file on the same device. */
  tmpPath: string;
  /** The whole file (small bodies, tombstones): the runner creates `tmpPath` and writes it. */
  data?: Uint8Array;
  /**
   * Or the open fd of `tmpPath`, fully written by the main thread (streamed bodies). The runner syncs it but
   * never closes it: the thread that opened an fd closes it (worker threads track the fds they open).
   */
  fd?: number;
  /**
   * The partition's `hashes.invalid` and the line to append to it (`<suffix>\n`) once the new name is
   * there. The main thread keeps that file's folds out while the job runs (FsSuffixHashes.appending).
   */
  invalidPath: string;
  invalidLine: string;
  /** fdatasync the file and fsync the directories (off only for throwaway test clusters). */
  sync: boolean;
  /**
   * With `sync` and `data`: make the write durable through the device's journal (write-journal.ts) instead
   * of syncs of its own.
   */
  journal?: boolean;
  /** The clock object locks are judged by (ms since the epoch), as the main thread read it. */
  now: number;
  /** A tombstone that may pass a governance retention. */
  bypassGovernance: boolean;
}

/** What a job reports: `done` or `failed`. */
export type WriteReply =
  | { id: number; kind: 'done'; outcome: InstallOutcome }
  | { id: number; kind: 'failed'; error: JobError };

export interface InstallOutcome {
  /** The kind of the version it replaced (undefined when it replaced none). */
  previous?: 'data' | 'tombstone';
  replaced?: ObjectMeta;
  replacedMetaTs?: Timestamp;
}

export interface WriteWorkerOptions {
  /** Marks the worker data of a write-queue worker (a module imported elsewhere never starts listening). */
  arcaWriteQueue: true;
  /** Jobs of one device in progress at once; more wait in line. */
  maxInFlight: number;
  /** The devices' write journals. */
  journal?: WriteJournalOptions;
}

interface Running {
  job: WriteJob;
  fd?: number;
  /** `fd` is the job's own (small bodies), closed here. */
  ownFd: boolean;
  /** The tmp file may exist (and must go if the job fails before the rename). */
  tmp: boolean;
  created: string[];
  obsolete: string[];
  /** The replaced data file, when it is small (`smallUnlinkBytes`): unlinked without the pool, like tombstones. */
  smallData?: string;
  outcome: InstallOutcome;
}

interface Queued {
  job: WriteJob;
  done: (reply: WriteReply) => void;
}

/** The per-device queues of the writes of one thread (the node's main thread, or the disk worker). */
export class WriteRunner {
  readonly #queues = new Map<string, { waiting: Queued[]; running: number }>();
  readonly #dirSyncs = new CoalescedSyncs(fsyncDir);
  readonly #journals = new Map<string, WriteJournal>();

  constructor(private readonly opts: WriteWorkerOptions) {}

  /** Queues a write; resolves with its reply once it ran (it never rejects: a failure is its reply). */
  add(job: WriteJob): Promise<WriteReply> {
    return new Promise((done) => {
      let q = this.#queues.get(job.queue);
      if (!q) {
        q = { waiting: [], running: 0 };
        this.#queues.set(job.queue, q);
      }
      q.waiting.push({ job, done });
      this.#pump(job.queue);
    });
  }

  #pump(key: string): void {
    const q = this.#queues.get(key);
    if (!q) return;
    while (q.running < this.opts.maxInFlight && q.waiting.length > 0) {
      const { job, done } = q.waiting.shift()!;
      q.running++;
      void this.#run(job).then(done).finally(() => {
        q.running--;
        if (q.waiting.length > 0) this.#pump(key);
        else if (q.running === 0) this.#queues.delete(key);
      });
    }
  }

  /** One job, start to end; it never throws (a failure is its reply). */
  async #run(job: WriteJob): Promise<WriteReply> {
    const r: Running = { job, fd: job.fd, ownFd: false, tmp: true, created: [], obsolete: [], outcome: {} };
    try {
      const journaled = job.sync && job.journal === true && job.data !== undefined;
      await this.#prepare(r, journaled);
      // The record, the rename and the request for the journal's sync happen in one turn: a checkpoint (a
      // file-system flush) that removes the record's segment starts after the rename, so it covers it.
      const journal = journaled ? this.#journal(job.queue) : undefined;
      const seg = journal?.append({
        dir: relativeTo(job.queue, job.hashDir),
        file: job.file,
        invalid: relativeTo(job.queue, job.invalidPath),
        line: job.invalidLine,
        data: job.data!,
      });
      fs.renameSync(job.tmpPath, join(job.hashDir, job.file));
      r.tmp = false;
      // The journal's sync makes a journaled write durable. Any other must make its new name durable before
      // the old versions go, or a crash could leave neither: sync the hash dir and the parent of each dir
      // just made (a sync another job queued after its own rename covers this one too).
      const synced =
        journal && seg
          ? journal.sync(seg)
          : job.sync
            ? Promise.all([job.hashDir, ...r.created.map((c) => dirname(c))].map((d) => this.#dirSyncs.sync(d)))
            : undefined;
      // The main thread moved the body here: its memory goes now, not at this isolate's next collection.
      if (journal) freeBytes(job.data!);
      synced?.catch(() => {});
      // Meanwhile the suffix goes to hashes.invalid (not synced, like Swift's). Appending to a file that
      // exists changes no name: synchronous, like the other page-cache writes.
      fs.appendFileSync(job.invalidPath, job.invalidLine, 'latin1');
      await synced;
      for (const name of r.obsolete) {
        // Tombstones and .meta files carry no body; a data file's size is known only for the replaced one.
        if (name === r.smallData || parseFileName(name)?.kind !== 'data') unlinkIfExistsSync(join(job.hashDir, name));
        else await unlinkIfExists(join(job.hashDir, name));
      }
      return { id: job.id, kind: 'done', outcome: r.outcome };
    } catch (err) {
      return this.#fail(r, err);
    }
  }

  #journal(deviceDir: string): WriteJournal {
    let j = this.#journals.get(deviceDir);
    if (!j) {
      j = new WriteJournal(deviceDir, this.opts.journal);
      this.#journals.set(deviceDir, j);
    }
    return j;
  }

  /**
   * Decides (refuses the job: Conflict, Locked), then writes the tmp file, makes the hash dir (its entry
   * then rides along with the file's sync on file systems that sync a new file's directory) and fdatasyncs
   * the file — unless the write is `journaled`: then the journal's sync stands for the file's and the
   * directories'.
   */
  async #prepare(r: Running, journaled: boolean): Promise<void> {
    const { job } = r;
    const incoming = parseFileName(job.file);
    if (!incoming) throw new Error(`not a hash dir file name: ${job.file}`);
    const names = readdirIfExistsSync(job.hashDir);
    const state = hashDirState(names ?? []);
    const existingTs = conflictOf(state, incoming);
    if (existingTs !== undefined) throw new ArcaError('Conflict', `${job.name}: a version at ${existingTs} exists`, { existingTs });
    const after = hashDirState([...(names ?? []), incoming.file]);
    const replacesVersion = after.version !== undefined && (state.version === undefined || after.version.ts > state.version.ts);
    const { smallFile, ...replaced } = replacesVersion && state.version?.kind === 'data' ? replacedOf(job.hashDir, state) : {};
    // A locked version is never replaced: only a tombstone may pass a governance retention, with bypass.
    assertRemovable(replaced.replaced, job.now, incoming.kind === 'tombstone' && job.bypassGovernance);
    r.outcome = { previous: replacesVersion ? state.version?.kind : undefined, ...replaced };
    if (r.outcome.previous === undefined) delete r.outcome.previous;
    r.obsolete = after.obsolete;
    r.smallData = smallFile;
    const made = names === undefined ? mkdirTracked(job.hashDir, job.queue) : Promise.resolve([]);
    made.catch(() => {});
    if (job.data) {
      try {
        try {
          r.fd = openNew(job.tmpPath);
          r.ownFd = true;
        } catch (err) {
          r.tmp = false;
          (err as { stage?: string }).stage = 'tmp';
          throw err;
        }
        writeAll(r.fd, job.data);
        // The main thread moved the body here: its memory goes now, not at this isolate's next collection
        // (a journaled one once the journal has it too).
        if (!journaled) freeBytes(job.data);
      } catch (err) {
        // The hash dir's mkdir ends before the job does, so nothing changes the device after a job reported
        // (a test removing the device dir then raced it).
        await made.catch(() => {});
        throw err;
      }
    }
    r.created = await made;
    if (job.sync && !journaled) {
      await fdatasyncFd(r.fd!);
      // A streamed body's pages leave the cache once on disk (page-cache.ts); a small one's stay, to be read.
      if (!r.ownFd) dropCachedPages(r.fd!);
    }
    const fd = r.fd!;
    r.fd = undefined;
    if (r.ownFd) fs.closeSync(fd);
  }

  /** Ends a job with an error, removing its tmp file. */
  #fail(r: Running, err: unknown): WriteReply {
    if (r.fd !== undefined && r.ownFd) {
      try {
        fs.closeSync(r.fd);
      } catch {}
    }
    r.fd = undefined;
    if (r.tmp) {
      try {
        fs.unlinkSync(r.job.tmpPath);
      } catch {}
    }
    return { id: r.job.id, kind: 'failed', error: jobError(err) };
  }
}

/*
 * The syncs (`fdatasyncFd`, `fsyncFd`), and unlinks of large files (`unlinkIfExists`: removing one frees its
 * blocks), go to libuv's thread pool: they wait for the disk, and on this one thread those waits would add up
 * instead of overlapping. The calls that create or rename names (`open(O_CREAT)`, `mkdir`, `rename`) are
 * synchronous, like reads (readdir, the replaced version's footer), writes into the page cache, closes and
 * unlinks of small files (tombstones, `.meta` files, data files up to `smallUnlinkBytes`): they change the
 * page cache, not the disk, and a pool round trip cost more than the call (docs/storage-nodes.md, "The write
 * queue").
 */
const smallUnlinkBytes = 64 * 1024;
const openNew = (path: string) => fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
const mkdirp = async (dir: string) => fs.mkdirSync(dir, { recursive: true });
/** `mkdir -p`; the directories it created, outermost first ([] when `dir` existed). */
const mkdirTracked = (dir: string, within: string) => mkdirTrackedWith(dir, within, mkdirp);

/**
 * fsyncs a directory. Its fd is opened for this sync only: a cached one could outlive the directory (the
 * replicator removes emptied hash dirs) and sync a deleted inode instead of the one now at the path.
 */
async function fsyncDir(dir: string): Promise<void> {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    await fsyncFd(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** `path` relative to `dir`, which holds it. */
function relativeTo(dir: string, path: string): string {
  if (!path.startsWith(`${dir}/`)) throw new Error(`${path} is not in ${dir}`);
  return path.slice(dir.length + 1);
}

function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, done);
}

/**
 * What replacing the data version of `state` reports (nothing when it cannot be read: the write still goes on),
 * and the name of its data file when that file is small (`smallUnlinkBytes`).
 */
function replacedOf(dir: string, state: HashDirState): Pick<InstallOutcome, 'replaced' | 'replacedMetaTs'> & { smallFile?: string } {
  try {
    const data = versionDataFile(state);
    if (!data) return {};
    const { meta, size } = readFooterMeta(join(dir, data.file));
    const patch = state.meta ? (JSON.parse(fs.readFileSync(join(dir, state.meta.file), 'utf8')) as MetaFileContent) : undefined;
    const replaced = applyPatch(meta, patch?.meta);
    const small = size <= smallUnlinkBytes ? { smallFile: data.file } : {};
    return state.meta ? { replaced, replacedMetaTs: state.meta.ts, ...small } : { replaced, ...small };
  } catch {
    return {};
  }
}

/** The stored metadata of a data file, and the file's size (fs-disk-file.ts reads it the same way, asynchronously). */
function readFooterMeta(path: string): { meta: ObjectMeta; size: number } {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let tail = preadFullSync(fd, Math.min(4096, size), size - Math.min(4096, size));
    const trailer = parseTrailer(tail);
    if ('error' in trailer) throw new Error(trailer.error);
    const footerLength = trailer.metaLength + trailerLength;
    if (footerLength > size) throw new Error('metadata longer than the file');
    if (footerLength > tail.length) tail = preadFullSync(fd, footerLength, size - footerLength);
    const stored = readStoredMeta(tail.subarray(tail.length - footerLength, tail.length - trailerLength));
    if ('error' in stored) throw new Error(stored.error);
    return { meta: stored.meta, size };
  } finally {
    fs.closeSync(fd);
  }
}

/** A job of the node's disk worker: a write, a partition's suffix-hash recomputation, or a partition's listing. */
export type DiskJob = WriteJob | RehashJob | ListJob;

export type DiskReply = WriteReply | RehashReply | ListReply;

if (parentPort && (workerData as Partial<WriteWorkerOptions> | undefined)?.arcaWriteQueue === true) {
  serveJobs<DiskJob, DiskReply>((reply) => {
    const runner = new WriteRunner(workerData as WriteWorkerOptions);
    return (job) => {
      if (!('op' in job)) {
        void runner.add(job).then(reply);
        return;
      }
      try {
        reply({ id: job.id, ...(job.op === 'rehash' ? rehashPartition(job) : listPartition(job.partitionDir, job.after)) });
      } catch (err) {
        reply({ id: job.id, kind: 'failed', error: jobError(err) });
      }
    };
  });
}
