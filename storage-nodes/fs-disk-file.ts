/**
 * DiskFiles on a real file system, in Swift's layout:
 * `<devicesDir>/<device>/objects[-N]/<partition>/<suffix>/<hash>/<timestamp>.data|.ts`. A version is written
 * to `<device>/tmp/`, fsynced, renamed into its hash dir and the dir fsynced, so a crash leaves the old or the
 * new version and never a torn one; older versions are unlinked only after that.
 *
 * New data files and tombstones are installed by the write queue (write-queue.ts): one job per replica write
 * (on the main thread, or on the disk worker with `writes.onWorker`). Small bodies are kept in memory until
 * the commit and written by that job; larger ones stream into their tmp file from here, and the job syncs and
 * installs it.
 */
import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { ArcaError } from '../src/common/errors.js';
import { freeAll } from '../src/common/free-bytes.js';
import { assertLockPatch, assertRemovable } from '../src/common/object-lock.js';
import type { Timestamp } from '../src/common/timestamp.js';
import type { ObjectMeta } from '../src/common/wire.js';
import { encodeFooter, parseTrailer, trailerLength } from './data-file-format.js';
import {
  type ArchiveRef,
  type ByteRange,
  type CommitOutcome,
  CorruptDataFileError,
  type DataFile,
  type DeleteOutcome,
  DeviceUnavailableError,
  type DiskFiles,
  type DiskFileWriter,
  hashOfName,
  isSafeDeviceName,
  type NewestFile,
  type ObjectLocation,
  objectsDirName,
  type OpenedObject,
  type PostOutcome,
  type RemoveOptions,
  suffixOfHash,
} from './disk-file.js';
import { readStoredMeta } from './stored-meta.js';
import { FsSuffixHashes, invalidFileName } from './fs-suffix-hashes.js';
import {
  applyPatch,
  conflictOf,
  dataFileName,
  type HashDirState,
  hashDirState,
  type MetaFileContent,
  mergePatches,
  metaFileName,
  tombstoneFileName,
  versionDataFile,
} from './hash-dir.js';
import {
  closeFd,
  fdatasyncFd,
  fsyncCreated,
  fsyncFd,
  KeyedMutex,
  openFd,
  preadFullSync,
  pwritevAll,
  readdirIfExists,
  readdirIfExistsSync,
  tmpName,
  unlinkIfExists,
} from './fs-util.js';
import { dropBehindReads, dropCachedPages, pageFloor } from './page-cache.js';
import { type ReplayResult, replayJournal } from './write-journal.js';
import { type InstallOutcome, sharedWriteQueue, type WriteQueue, type WriteQueueOptions } from './write-queue.js';

export interface FsDiskFilesOptions {
  /** Directory holding one sub-directory per device. */
  devicesDir: string;
  /** Devices served; any other name is unavailable. */
  devices: readonly string[];
  /** fsync files and directories (off only for throwaway test clusters). */
  fsync: boolean;
  /**
   * Make small writes (bodies written whole by the write queue, tombstones) durable through the device's
   * write journal (write-journal.ts) rather than syncs of their own. Default true.
   */
  journal?: boolean;
  /** Data files up to this size are read whole by `open` (one pread serves footer and body). */
  smallFileBytes?: number;
  /** Tail read for larger files; a second pread follows only when the metadata is longer. */
  tailReadBytes?: number;
  /**
   * Bodies up to this size are kept in memory and written whole by the write queue's job at commit (no tmp
   * file before that); larger ones stream into a tmp file. Default 64 KiB.
   */
  inlineWriteBytes?: number;
  /** Most body bytes one streaming writer buffers before writing them out (fewer, larger writes). Default 1 MiB. */
  writeBufferBytes?: number;
  /**
   * Body bytes all writers of this node may buffer together: with many uploads running, each buffers
   * budget ÷ uploads (never less than `minWriteBufferBytes`, never more than `writeBufferBytes`). Default 8 MiB.
   */
  writeBufferBudgetBytes?: number;
  /** The least a streaming writer buffers before a write. Default 64 KiB. */
  minWriteBufferBytes?: number;
  /**
   * Data files larger than this are read past the page cache: what a read stream read is dropped from it as
   * it goes (page-cache.ts; Swift's `keep_cache_size`). 0, the default: reads stay cached.
   */
  readPastCacheBytes?: number;
  /**
   * A streaming writer syncs what it wrote and drops it from the page cache each time this much more is
   * written (in the background, while the body keeps arriving), so the commit's sync has at most this much
   * left to write and a large upload reuses its own pages. 0: only at the commit. Default 8 MiB.
   */
  syncBehindBytes?: number;
  /** The write queue (default: the process's, `sharedWriteQueue(writeQueueOptions)`). */
  writeQueue?: WriteQueue;
  /** Options of the process's write queue when this is the first to make it. */
  writeQueueOptions?: WriteQueueOptions;
  /** The clock object locks are judged by (ms since the epoch; tests). */
  now?: () => number;
}

/** File-system errors that mean the device, not the request, is at fault. */
const deviceErrorCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EIO', 'ENOTDIR', 'ENXIO', 'ENODEV']);

/** Swift-layout DiskFiles over the devices of one node. */
export class FsDiskFiles implements DiskFiles {
  readonly #devicesDir: string;
  readonly #devices: ReadonlySet<string>;
  readonly #sync: boolean;
  readonly #journal: boolean;
  /** The directories of the served devices, and their `objects[-N]` dirs by device and policy index. */
  readonly #devicePaths = new Map<string, string>();
  readonly #objectsDirs = new Map<string, string>();
  readonly #smallFileBytes: number;
  readonly #tailReadBytes: number;
  readonly #writeBufferBytes: number;
  readonly #inlineWriteBytes: number;
  readonly #writeBufferBudget: number;
  readonly #minWriteBufferBytes: number;
  readonly #readPastCacheBytes: number;
  readonly #syncBehindBytes: number;
  readonly #writeQueue: WriteQueue;
  /** Writers created and not yet committed or aborted (the write buffer budget is shared among them). */
  #openWriters = 0;
  readonly #now: () => number;
  /** Commits and deletes of one hash dir run one at a time, so "newest wins" is decided race-free. */
  readonly #hashDirLocks = new KeyedMutex();
  /** The partitions' suffix-hash caches, invalidated by every commit and delete (recomputed on the write queue's worker). */
  readonly suffixHashes: FsSuffixHashes;

  constructor(opts: FsDiskFilesOptions) {
    this.#devicesDir = opts.devicesDir;
    this.#devices = new Set(opts.devices);
    this.#sync = opts.fsync;
    this.#journal = opts.journal ?? true;
    this.#smallFileBytes = opts.smallFileBytes ?? 64 * 1024;
    this.#tailReadBytes = opts.tailReadBytes ?? 4096;
    this.#writeBufferBytes = opts.writeBufferBytes ?? 1024 * 1024;
    this.#inlineWriteBytes = opts.inlineWriteBytes ?? 64 * 1024;
    this.#writeBufferBudget = opts.writeBufferBudgetBytes ?? 8 * 1024 * 1024;
    this.#minWriteBufferBytes = Math.min(opts.minWriteBufferBytes ?? 64 * 1024, this.#writeBufferBytes);
    this.#readPastCacheBytes = opts.readPastCacheBytes ?? 0;
    this.#syncBehindBytes = opts.fsync ? (opts.syncBehindBytes ?? 8 * 1024 * 1024) : 0;
    this.#writeQueue = opts.writeQueue ?? sharedWriteQueue(opts.writeQueueOptions);
    this.suffixHashes = new FsSuffixHashes({ worker: this.#writeQueue });
    this.#now = opts.now ?? Date.now;
  }

  /** Directory of a device (whether or not it is served). */
  devicePath(device: string): string {
    return this.#devicePaths.get(device) ?? join(this.#devicesDir, device);
  }

  /** The hash dir of an object. */
  hashDir(location: ObjectLocation): string {
    const hash = hashOfName(location.name);
    return `${this.partitionDir(location.device, location.policyIndex, location.partition)}/${suffixOfHash(hash)}/${hash}`;
  }

  /**
   * A partition's directory; DeviceUnavailableError for a device not served here. The objects dir of each
   * device and policy is joined once: the repair workers ask for every partition of a device in each pass,
   * and `path.join` normalizes (allocates) the whole path every time.
   */
  partitionDir(device: string, policyIndex: number, partition: number): string {
    const key = `${device}\0${policyIndex}`;
    let objects = this.#objectsDirs.get(key);
    if (objects === undefined) {
      objects = join(this.#checkedDevicePath(device), objectsDirName(policyIndex));
      this.#objectsDirs.set(key, objects);
    }
    return Number.isSafeInteger(partition) && partition >= 0 ? `${objects}/${partition}` : join(objects, String(partition));
  }

  /**
   * Runs `fn` while no commit or delete of the hash dir at `dir` runs (the replicator and the auditor remove
   * or move versions under it, so they never race a write).
   */
  withHashDirLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    return this.#hashDirLocks.run(dir, fn);
  }

  /**
   * Opens the data file at `path` on `device` (the replicator and auditor, which know files by path):
   * undefined when it is gone; CorruptDataFileError when its footer does not parse.
   */
  async openDataFile(device: string, path: string): Promise<DataFile | undefined> {
    let fd: number;
    try {
      fd = await openFd(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.#deviceError(device, err);
    }
    try {
      return this.#readDataFile(fd, path);
    } catch (err) {
      closeQuietly(fd);
      throw err instanceof CorruptDataFileError ? err : this.#deviceError(device, err);
    }
  }

  /** Maps a file-system error on `device` to DeviceUnavailableError when the device is at fault. */
  deviceError(device: string, err: unknown): Error {
    return this.#deviceError(device, err);
  }

  /**
   * Checks at startup that a device directory exists and is writable, creates its `tmp/` and clears what a
   * crash left there. Throws DeviceUnavailableError naming the path.
   */
  async prepareDevice(device: string): Promise<void> {
    const path = this.#checkedDevicePath(device);
    try {
      const st = await fs.promises.stat(path);
      if (!st.isDirectory()) throw new DeviceUnavailableError(device, path, 'not a directory');
      await fs.promises.access(path, fs.constants.W_OK | fs.constants.X_OK);
      const tmp = join(path, 'tmp');
      await fs.promises.mkdir(tmp, { recursive: true });
      // Only this process writes here, so anything present at startup is an interrupted write.
      for (const name of await fs.promises.readdir(tmp)) await unlinkIfExists(join(tmp, name));
    } catch (err) {
      if (err instanceof DeviceUnavailableError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new DeviceUnavailableError(device, path, code === 'ENOENT' ? 'missing' : code === 'EACCES' ? 'not writable' : code);
    }
  }

  /**
   * Replays the device's write journal (write-journal.ts): writes that a crash took from their files come
   * back. Only at startup, after `prepareDevice` and before anything reads or writes the device.
   */
  async replayJournal(device: string): Promise<ReplayResult> {
    return replayJournal(this.#checkedDevicePath(device));
  }

  async create(location: ObjectLocation, archive?: ArchiveRef): Promise<DiskFileWriter> {
    // Nothing is opened yet: a small body goes to disk whole with the commit (its tmp file then too).
    const tmpPath = `${this.#checkedDevicePath(location.device)}/tmp/${tmpName()}`;
    this.#openWriters++;
    return new FsDiskFileWriter(this, location, tmpPath, archive);
  }

  /** @internal How many body bytes a streaming writer buffers now (its share of the budget). */
  writeBufferShare(): number {
    const share = Math.floor(this.#writeBufferBudget / Math.max(1, this.#openWriters));
    return Math.max(this.#minWriteBufferBytes, Math.min(this.#writeBufferBytes, share));
  }

  /** @internal Bodies up to this size stay in memory until the commit. */
  get inlineWriteBytes(): number {
    return this.#inlineWriteBytes;
  }

  /** @internal How far a streaming writer's writes may run ahead of its last sync (0: no syncs before the commit). */
  get syncBehindBytes(): number {
    return this.#syncBehindBytes;
  }

  /** @internal A writer is done (committed or aborted). */
  writerClosed(): void {
    this.#openWriters--;
  }

  /** @internal Opens a streaming writer's tmp file. */
  async openTmp(location: ObjectLocation, tmpPath: string): Promise<number> {
    try {
      return await openFd(tmpPath, 'wx');
    } catch (err) {
      throw this.#deviceError(location.device, err, true);
    }
  }

  async newest(location: ObjectLocation): Promise<NewestFile | undefined> {
    const names = await this.#readHashDir(location);
    const v = names && hashDirState(names).version;
    return v && { kind: v.kind, ts: v.ts };
  }

  /** The state of the object's hash dir (EC: which archives are here, durable or pending). */
  async state(location: ObjectLocation): Promise<HashDirState> {
    return hashDirState((await this.#readHashDir(location)) ?? []);
  }

  /**
   * Opens the object's current version for a read. The hash dir listing, the open and the metadata read are
   * synchronous calls, as in Swift's object server: on a warm page cache they take microseconds, while five
   * thread-pool round trips cost the node more CPU than the read itself (docs/storage-nodes.md, "Reads").
   * A large body is then streamed from the fd with pool reads.
   */
  async open(location: ObjectLocation, opts: { frag?: number } = {}): Promise<OpenedObject | undefined> {
    const dir = this.hashDir(location);
    // A concurrent commit (the write queue's job) may unlink the version between readdir and open; look again then.
    for (let attempt = 0; ; attempt++) {
      let names: string[] | undefined;
      try {
        names = readdirIfExistsSync(dir);
      } catch (err) {
        throw this.#deviceError(location.device, err);
      }
      const state = hashDirState(names ?? []);
      const v = state.version;
      if (!v) return undefined;
      if (v.kind === 'tombstone') return { kind: 'tombstone', ts: v.ts };
      const file = versionDataFile(state, opts.frag);
      if (!file) return undefined;
      const path = `${dir}/${file.file}`;
      let fd: number;
      try {
        fd = fs.openSync(path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        throw this.#deviceError(location.device, err);
      }
      let patch: MetaFileContent | undefined;
      if (state.meta) {
        try {
          patch = readMetaFile(join(dir, state.meta.file));
        } catch (err) {
          closeQuietly(fd);
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
          if (err instanceof SyntaxError || (err as NodeJS.ErrnoException).code === 'EBADMETA') {
            throw new CorruptDataFileError(join(dir, state.meta.file), 'unreadable .meta');
          }
          throw this.#deviceError(location.device, err);
        }
      }
      try {
        const data = this.#readDataFile(fd, path);
        data.frag = file.frag;
        if (patch && state.meta) withPatch(data, patch.meta, state.meta.ts);
        return data;
      } catch (err) {
        closeQuietly(fd);
        throw err instanceof CorruptDataFileError ? err : this.#deviceError(location.device, err);
      }
    }
  }

  async post(location: ObjectLocation, ts: Timestamp, patch: Record<string, unknown>, opts: RemoveOptions = {}): Promise<PostOutcome> {
    const dir = this.hashDir(location);
    const tmpDir = join(this.#checkedDevicePath(location.device), 'tmp');
    return this.#hashDirLocks.run(dir, async () => {
      let tmpPath: string | undefined;
      try {
        const names = (await readdirIfExists(dir)) ?? [];
        const state = hashDirState(names);
        const existingTs = conflictOf(state, { file: metaFileName(ts), ts, kind: 'meta' });
        if (existingTs !== undefined) throw new ArcaError('Conflict', `${location.name}: a version at ${existingTs} exists`, { existingTs });
        const data = versionDataFile(state);
        if (!data) return { kind: 'absent' };
        const previous = state.meta ? readMetaFile(join(dir, state.meta.file)) : undefined;
        if ('retention' in patch) assertLockPatch(applyPatch(await this.#readFooterMeta(join(dir, data.file)), previous?.meta), patch, this.#now(), opts.bypassGovernance);
        const content: MetaFileContent = { name: location.name, ts, meta: mergePatches(previous?.meta, patch) };
        tmpPath = join(tmpDir, tmpName());
        await this.#writeSmallFile(tmpPath, Buffer.from(JSON.stringify(content)));
        await fs.promises.rename(tmpPath, join(dir, metaFileName(ts)));
        tmpPath = undefined;
        await Promise.all([this.#sync ? fsyncCreated(dir, []) : undefined, this.#invalidateSuffix(location, dir)]);
        const after = hashDirState([...names, metaFileName(ts)]);
        for (const name of after.obsolete) await unlinkIfExists(join(dir, name));
        const meta = applyPatch(await this.#readFooterMeta(join(dir, data.file)), content.meta);
        return { kind: 'posted', meta };
      } catch (err) {
        if (tmpPath) await unlinkIfExists(tmpPath).catch(() => {});
        if (err instanceof ArcaError || err instanceof CorruptDataFileError) throw err;
        throw this.#deviceError(location.device, err);
      }
    });
  }

  async markDurable(location: ObjectLocation, ts: Timestamp, frag: number): Promise<CommitOutcome | undefined> {
    const dir = this.hashDir(location);
    return this.#hashDirLocks.run(dir, async () => {
      try {
        const names = (await readdirIfExists(dir)) ?? [];
        const state = hashDirState(names);
        const durableName = dataFileName(ts, frag, true);
        const pendingName = dataFileName(ts, frag, false);
        const v = state.version;
        if (v && (v.ts > ts || (v.ts === ts && v.kind === 'tombstone'))) {
          throw new ArcaError('Conflict', `${location.name}: a version at ${v.ts} exists`, { existingTs: v.ts });
        }
        if (names.includes(durableName)) return {};
        if (!names.includes(pendingName)) return undefined;
        const replaced = v?.kind === 'data' && v.ts < ts ? await this.#replaced(dir, state) : {};
        assertRemovable(replaced.replaced, this.#now());
        await fs.promises.rename(join(dir, pendingName), join(dir, durableName));
        await Promise.all([this.#sync ? fsyncCreated(dir, []) : undefined, this.#invalidateSuffix(location, dir)]);
        const after = hashDirState(names.map((n) => (n === pendingName ? durableName : n)));
        for (const name of after.obsolete) await unlinkIfExists(join(dir, name));
        return replaced;
      } catch (err) {
        if (err instanceof ArcaError) throw err;
        throw this.#deviceError(location.device, err);
      }
    });
  }

  /** The metadata of the data version of `state` with its `.meta` applied. */
  async #mergedMeta(dir: string, state: HashDirState): Promise<ObjectMeta | undefined> {
    const data = versionDataFile(state);
    if (!data) return undefined;
    const meta = await this.#readFooterMeta(join(dir, data.file));
    const patch = state.meta ? readMetaFile(join(dir, state.meta.file)) : undefined;
    return applyPatch(meta, patch?.meta);
  }

  /** What replacing the data version of `state` reports (nothing when it cannot be read: the write still goes on). */
  async #replaced(dir: string, state: HashDirState): Promise<CommitOutcome> {
    const replaced = await this.#mergedMeta(dir, state).catch(() => undefined);
    if (!replaced) return {};
    return state.meta ? { replaced, replacedMetaTs: state.meta.ts } : { replaced };
  }

  /** The stored metadata of the data file at `path` (without the node-internal fields). */
  async #readFooterMeta(path: string): Promise<ObjectMeta> {
    const fd = await openFd(path, 'r');
    try {
      const data = this.#readDataFile(fd, path);
      await data.close();
      return data.meta;
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  }

  async #writeSmallFile(tmpPath: string, content: Buffer): Promise<void> {
    const fd = await openFd(tmpPath, 'wx');
    try {
      await pwritevAll(fd, [content], 0);
      if (this.#sync) await fsyncFd(fd);
    } finally {
      await closeFd(fd);
    }
  }

  async delete(location: ObjectLocation, ts: Timestamp, opts: RemoveOptions = {}): Promise<DeleteOutcome> {
    const tmpPath = `${this.#checkedDevicePath(location.device)}/tmp/${tmpName()}`;
    const data = ownedBytes([Buffer.from(JSON.stringify({ name: location.name, ts }))]);
    return this.install(location, tmpPath, tombstoneFileName(ts), { data }, opts);
  }

  async invalidatedSuffixes(device: string, policyIndex: number, partition: number): Promise<string[]> {
    try {
      return this.suffixHashes.pending(this.partitionDir(device, policyIndex, partition));
    } catch (err) {
      throw this.#deviceError(device, err);
    }
  }

  /**
   * Installs a new version as file `file` of the object's hash dir through the write queue: the whole file
   * (`data`), or the tmp file at `tmpPath` that `fd` has open and fully written (closed here once the job
   * ends; the job removes the tmp file if it fails).
   * Refused with ArcaError `Conflict` when what is there is as new or newer, `Locked` when it would replace a
   * locked version; nothing is left behind then. Resolves once the new name is durable and what became
   * obsolete is removed. Used by writers and `delete`.
   */
  async install(location: ObjectLocation, tmpPath: string, file: string, content: { data: Uint8Array } | { fd: number }, opts: RemoveOptions = {}): Promise<DeleteOutcome> {
    let dir: string;
    let device: string;
    let partitionDir: string;
    try {
      dir = this.hashDir(location);
      device = this.#checkedDevicePath(location.device);
      partitionDir = this.partitionDir(location.device, location.policyIndex, location.partition);
    } catch (err) {
      if ('fd' in content) await closeFd(content.fd).catch(() => {});
      await unlinkIfExists(tmpPath).catch(() => {});
      throw err;
    }
    return this.#hashDirLocks.run(dir, async () => {
      try {
        // The job appends the suffix to hashes.invalid itself, after the rename (no rotation of the log meanwhile).
        const outcome: InstallOutcome = await this.suffixHashes.appending(partitionDir, () =>
          this.#writeQueue.submit({
            queue: device,
            name: location.name,
            hashDir: dir,
            file,
            tmpPath,
            ...content,
            invalidPath: `${partitionDir}/${invalidFileName}`,
            invalidLine: `${suffixOfHash(basename(dir))}\n`,
            sync: this.#sync,
            journal: this.#journal && 'data' in content,
            now: this.#now(),
            bypassGovernance: opts.bypassGovernance === true,
          }),
        );
        return { ...outcome, previous: outcome.previous };
      } catch (err) {
        if (err instanceof ArcaError) throw err;
        throw this.#deviceError(location.device, err, (err as { stage?: string }).stage === 'tmp');
      } finally {
        if ('fd' in content) await closeFd(content.fd).catch(() => {});
      }
    });
  }

  /** Notes the suffix as changed so the replicator recomputes only its hash (Swift's hashes.invalid). */
  async #invalidateSuffix(location: ObjectLocation, hashDir: string): Promise<void> {
    const partitionDir = this.partitionDir(location.device, location.policyIndex, location.partition);
    await this.suffixHashes.invalidate(partitionDir, suffixOfHash(basename(hashDir)));
  }

  #checkedDevicePath(device: string): string {
    const path = this.#devicePaths.get(device);
    if (path !== undefined) return path;
    if (!isSafeDeviceName(device) || !this.#devices.has(device)) {
      throw new DeviceUnavailableError(device, join(this.#devicesDir, device), 'not served by this node');
    }
    const joined = join(this.#devicesDir, device);
    this.#devicePaths.set(device, joined);
    return joined;
  }

  async #readHashDir(location: ObjectLocation): Promise<string[] | undefined> {
    try {
      return await readdirIfExists(this.hashDir(location));
    } catch (err) {
      throw this.#deviceError(location.device, err);
    }
  }

  /**
   * Reads the footer (and a small body) with one or two preads, synchronously (see `open`); a small file's fd
   * is closed here, a large one's is kept for streaming the body.
   */
  #readDataFile(fd: number, path: string): BufferedDataFile | StreamedDataFile {
    const fileSize = fs.fstatSync(fd).size;
    const whole = fileSize <= this.#smallFileBytes;
    const tailBytes = whole ? fileSize : Math.min(this.#tailReadBytes, fileSize);
    let tail = preadFullSync(fd, tailBytes, fileSize - tailBytes);
    const trailer = parseTrailer(tail);
    if ('error' in trailer) throw new CorruptDataFileError(path, trailer.error);
    const footerLength = trailer.metaLength + trailerLength;
    if (footerLength > fileSize) throw new CorruptDataFileError(path, 'metadata longer than the file');
    if (footerLength > tail.length) tail = preadFullSync(fd, footerLength, fileSize - footerLength);
    const stored = readStoredMeta(tail.subarray(tail.length - footerLength, tail.length - trailerLength));
    if ('error' in stored) throw new CorruptDataFileError(path, stored.error);
    const size = fileSize - footerLength;
    let data: BufferedDataFile | StreamedDataFile;
    if (whole) {
      fs.closeSync(fd);
      data = new BufferedDataFile(stored.meta, stored.rawMeta, tail.subarray(0, size));
    } else {
      data = new StreamedDataFile(stored.meta, stored.rawMeta, size, fd, this.#readPastCacheBytes > 0 && fileSize > this.#readPastCacheBytes);
    }
    if (stored.fragmentChecksums) data.fragmentChecksums = stored.fragmentChecksums;
    return data;
  }

  #deviceError(device: string, err: unknown, creatingTmp = false): Error {
    const code = (err as NodeJS.ErrnoException).code;
    // A missing tmp dir means the device itself went away (unmounted, removed).
    if ((code && deviceErrorCodes.has(code)) || (creatingTmp && code === 'ENOENT')) {
      return new DeviceUnavailableError(device, this.devicePath(device), code ?? 'error');
    }
    return err as Error;
  }
}

/** Closes an fd whose read failed; the error that made it fail is the one to report. */
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing more to do with it.
  }
}

/** Reads a `.meta` file (a few hundred bytes, synchronously as `open` does); ENOENT when it went away meanwhile. */
function readMetaFile(path: string): MetaFileContent {
  const content = JSON.parse(fs.readFileSync(path, 'utf8')) as MetaFileContent;
  if (typeof content !== 'object' || content === null || typeof content.meta !== 'object' || content.meta === null) {
    throw Object.assign(new Error(`${path}: not a .meta file`), { code: 'EBADMETA' });
  }
  return content;
}

/** Applies a `.meta` patch to an opened data file (its metadata and the raw JSON sent on the wire). */
function withPatch(data: BufferedDataFile | StreamedDataFile, patch: Record<string, unknown>, metaTs: Timestamp): void {
  data.meta = applyPatch(data.meta, patch);
  data.rawMeta = Buffer.from(JSON.stringify(data.meta), 'utf8');
  data.metaTs = metaTs;
}

class BufferedDataFile implements DataFile {
  readonly kind = 'data';
  readonly size: number;
  metaTs?: Timestamp;
  frag?: number;
  fragmentChecksums?: string[];
  constructor(
    public meta: ObjectMeta,
    public rawMeta: Uint8Array,
    readonly body: Buffer,
  ) {
    this.size = body.length;
  }

  read(range?: ByteRange): Buffer {
    return range ? this.body.subarray(range.start, range.end + 1) : this.body;
  }

  async close(): Promise<void> {}
}

class StreamedDataFile implements DataFile {
  readonly kind = 'data';
  #fd: number | undefined;
  metaTs?: Timestamp;
  frag?: number;
  fragmentChecksums?: string[];
  constructor(
    public meta: ObjectMeta,
    public rawMeta: Uint8Array,
    readonly size: number,
    fd: number,
    /** Reads leave no pages in the cache behind them (large files). */
    private readonly dropBehind: boolean,
  ) {
    this.#fd = fd;
  }

  read(range?: ByteRange): Readable {
    const fd = this.#take();
    if (this.size === 0 || (range && range.end < range.start)) {
      void closeFd(fd).catch(() => {});
      return Readable.from([]);
    }
    const start = range?.start ?? 0;
    return fs.createReadStream('', {
      fd,
      start,
      end: range?.end ?? this.size - 1,
      autoClose: true,
      highWaterMark: 256 * 1024,
      ...(this.dropBehind ? { fs: dropBehindReads(start) } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.#fd !== undefined) await closeFd(this.#take());
  }

  #take(): number {
    const fd = this.#fd;
    if (fd === undefined) throw new Error('data file already read or closed');
    this.#fd = undefined;
    return fd;
  }
}

/**
 * Keeps a small body in memory and hands it whole to the write queue at commit; a body that outgrows
 * `inlineWriteBytes` streams into a tmp file instead (in writes of the node's current buffer share), and the
 * commit hands the queue that file.
 */
class FsDiskFileWriter implements DiskFileWriter {
  #bytesWritten = 0;
  #position = 0;
  #buffered: Uint8Array[] = [];
  #bufferedBytes = 0;
  #meta: ObjectMeta | undefined;
  #fd: number | undefined;
  /** The tmp file exists (streaming) and is still this writer's to remove. */
  #tmp = false;
  /** The write in progress, which `abort` lets finish before it closes the fd. */
  #writing: Promise<unknown> | undefined;
  /** Bytes from the start synced and dropped from the page cache (a page boundary). */
  #synced = 0;
  /** The sync behind the writes in progress; the commit and `abort` wait for it. */
  #syncing: Promise<void> | undefined;
  /** Why a sync behind failed: the commit fails with it. */
  #syncError: unknown;
  #state: 'open' | 'committing' | 'done' = 'open';
  /** Still counted among the node's open writers (the write buffer budget's divisor). */
  #counted = true;

  constructor(
    private readonly files: FsDiskFiles,
    private readonly location: ObjectLocation,
    private readonly tmpPath: string,
    private readonly archive?: ArchiveRef,
  ) {}

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') throw new Error('writer is no longer open');
    this.#bytesWritten += chunk.length;
    this.#buffered.push(chunk);
    this.#bufferedBytes += chunk.length;
    if (this.#fd === undefined) {
      if (this.#bytesWritten <= this.files.inlineWriteBytes) return;
      const fd = await this.files.openTmp(this.location, this.tmpPath);
      if (this.#state !== 'open') {
        // Aborted meanwhile.
        await closeFd(fd).catch(() => {});
        await unlinkIfExists(this.tmpPath).catch(() => {});
        throw new Error('writer is no longer open');
      }
      this.#fd = fd;
      this.#tmp = true;
    }
    if (this.#bufferedBytes >= this.files.writeBufferShare()) await this.#flush();
  }

  put(meta: ObjectMeta): void {
    this.#meta = meta;
  }

  async commit(): Promise<CommitOutcome> {
    if (this.#state !== 'open') throw new Error('writer is no longer open');
    if (!this.#meta) throw new Error('put(meta) must come before commit()');
    this.#state = 'committing';
    const ts = this.#meta.ts;
    const file = dataFileName(ts, this.archive?.frag, this.archive?.durable ?? true);
    let content: { data: Uint8Array } | { fd: number };
    try {
      this.#buffered.push(encodeFooter(this.#meta));
      if (this.#fd === undefined) {
        content = { data: ownedBytes(this.#buffered) };
        freeAll(this.#buffered);
        this.#buffered = [];
        this.#bufferedBytes = 0;
      } else {
        await this.#flush();
        await this.#syncing;
        if (this.#syncError !== undefined) throw this.#syncError;
        if (this.#state !== 'committing' || this.#fd === undefined) throw new Error('writer aborted during its commit');
        content = { fd: this.#fd };
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
    // The job owns the tmp file now (it removes it if it fails); install closes the fd.
    this.#fd = undefined;
    this.#tmp = false;
    this.#state = 'done';
    this.#uncount();
    const { previous: _, ...replaced } = await this.files.install(this.location, this.tmpPath, file, content);
    return replaced;
  }

  async abort(): Promise<void> {
    if (this.#state === 'done' && this.#fd === undefined && !this.#tmp) return;
    this.#uncount();
    this.#state = 'done';
    freeAll(this.#buffered);
    this.#buffered = [];
    this.#bufferedBytes = 0;
    await this.#release();
  }

  #uncount(): void {
    if (!this.#counted) return;
    this.#counted = false;
    this.files.writerClosed();
  }

  async #release(): Promise<void> {
    // A write still in the thread pool must not find its fd closed (or reused by another file).
    await this.#writing?.catch(() => {});
    await this.#syncing;
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) await closeFd(fd).catch(() => {});
    if (this.#tmp) {
      this.#tmp = false;
      await unlinkIfExists(this.tmpPath).catch(() => {});
    }
  }

  async #flush(): Promise<void> {
    if (this.#buffered.length === 0) return;
    const chunks = this.#buffered;
    this.#buffered = [];
    this.#bufferedBytes = 0;
    const writing = pwritevAll(this.#fd!, chunks, this.#position);
    this.#writing = writing;
    try {
      this.#position += await writing;
    } finally {
      this.#writing = undefined;
      freeAll(chunks);
    }
    const every = this.files.syncBehindBytes;
    if (every > 0 && this.#syncing === undefined && this.#position - this.#synced >= every) this.#syncing = this.#syncBehind(this.#fd!);
  }

  /**
   * Syncs what was written so far and drops it from the page cache, while the next writes go on: the disk
   * writes the body as it arrives instead of all of it at the commit, and the next writes reuse the pages.
   */
  async #syncBehind(fd: number): Promise<void> {
    const upTo = pageFloor(this.#position);
    try {
      await fdatasyncFd(fd);
      dropCachedPages(fd, this.#synced, upTo - this.#synced);
      this.#synced = upTo;
    } catch (err) {
      this.#syncError ??= err;
    } finally {
      this.#syncing = undefined;
    }
  }
}

/** `chunks` copied into one buffer of its own (the write queue's job frees it once written, or moves it to the worker without another copy). */
function ownedBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
