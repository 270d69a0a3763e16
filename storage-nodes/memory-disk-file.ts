/**
 * The in-memory twin of FsDiskFiles: the same DiskFiles contract (newest wins, conflicts, abort leaves
 * nothing, `.meta` patches, EC fragment archives and their durable mark, unavailable devices) without a file
 * system, for fast tests of everything above the disk. Each hash dir is a map of file names, read through
 * the same rules (hash-dir.ts) as the real one.
 */
import { ArcaError } from '../src/common/errors.js';
import { assertLockPatch, assertRemovable } from '../src/common/object-lock.js';
import type { Timestamp } from '../src/common/timestamp.js';
import type { ObjectMeta } from '../src/common/wire.js';
import {
  type ArchiveRef,
  type ByteRange,
  type CommitOutcome,
  type DataFile,
  type DeleteOutcome,
  DeviceUnavailableError,
  type DiskFiles,
  type DiskFileWriter,
  hashOfName,
  type NewestFile,
  type ObjectLocation,
  type OpenedObject,
  type PostOutcome,
  type RemoveOptions,
  suffixOfHash,
} from './disk-file.js';
import {
  applyPatch,
  conflictOf,
  dataFileName,
  type HashDirState,
  hashDirState,
  mergePatches,
  metaFileName,
  type ParsedFile,
  parseFileName,
  tombstoneFileName,
  versionDataFile,
} from './hash-dir.js';
import { readStoredMeta } from './stored-meta.js';

type FileContent = { kind: 'data'; rawMeta: Buffer; body: Buffer } | { kind: 'tombstone' } | { kind: 'meta'; patch: Record<string, unknown> };

/** DiskFiles held in memory; `devices` are the ones served, `setAvailable` simulates a failed device. */
export class MemoryDiskFiles implements DiskFiles {
  readonly #dirs = new Map<string, Map<string, FileContent>>();
  readonly #invalid = new Map<string, Set<string>>();
  readonly #devices: Map<string, boolean>;

  constructor(
    devices: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.#devices = new Map(devices.map((d) => [d, true]));
  }

  /** Marks a device failed (every call for it throws DeviceUnavailableError) or healthy again. */
  setAvailable(device: string, available: boolean): void {
    if (this.#devices.has(device)) this.#devices.set(device, available);
  }

  async create(location: ObjectLocation, archive?: ArchiveRef): Promise<DiskFileWriter> {
    this.#check(location.device);
    return new MemoryWriter((meta, body) => {
      const file = parseFileName(dataFileName(meta.ts, archive?.frag, archive?.durable ?? true))!;
      const { previous: _, ...replaced } = this.#install(location, file, { kind: 'data', rawMeta: Buffer.from(JSON.stringify(meta)), body });
      return replaced;
    });
  }

  async open(location: ObjectLocation, opts: { frag?: number } = {}): Promise<OpenedObject | undefined> {
    this.#check(location.device);
    const dir = this.#dir(location);
    const state = hashDirState([...dir.keys()]);
    const v = state.version;
    if (!v) return undefined;
    if (v.kind === 'tombstone') return { kind: 'tombstone', ts: v.ts };
    const file = versionDataFile(state, opts.frag);
    const content = file && dir.get(file.file);
    if (!file || content?.kind !== 'data') return undefined;
    const stored = readStoredMeta(content.rawMeta);
    if ('error' in stored) throw new Error(stored.error);
    const data = new MemoryDataFile(stored.meta, stored.rawMeta, content.body);
    data.frag = file.frag;
    if (stored.fragmentChecksums) data.fragmentChecksums = stored.fragmentChecksums;
    const patch = state.meta && dir.get(state.meta.file);
    if (state.meta && patch?.kind === 'meta') {
      data.meta = applyPatch(data.meta, patch.patch);
      data.rawMeta = Buffer.from(JSON.stringify(data.meta));
      data.metaTs = state.meta.ts;
    }
    return data;
  }

  async newest(location: ObjectLocation): Promise<NewestFile | undefined> {
    this.#check(location.device);
    const v = hashDirState([...this.#dir(location).keys()]).version;
    return v && { kind: v.kind, ts: v.ts };
  }

  async delete(location: ObjectLocation, ts: Timestamp, opts: RemoveOptions = {}): Promise<DeleteOutcome> {
    this.#check(location.device);
    return this.#install(location, { file: tombstoneFileName(ts), ts, kind: 'tombstone' }, { kind: 'tombstone' }, opts.bypassGovernance === true);
  }

  async post(location: ObjectLocation, ts: Timestamp, patch: Record<string, unknown>, opts: RemoveOptions = {}): Promise<PostOutcome> {
    this.#check(location.device);
    const dir = this.#dir(location);
    const state = hashDirState([...dir.keys()]);
    const existingTs = conflictOf(state, { file: metaFileName(ts), ts, kind: 'meta' });
    if (existingTs !== undefined) throw new ArcaError('Conflict', `${location.name}: a version at ${existingTs} exists`, { existingTs });
    if (!versionDataFile(state)) return { kind: 'absent' };
    if ('retention' in patch) assertLockPatch(this.#mergedMeta(dir, state), patch, this.now(), opts.bypassGovernance);
    const previous = state.meta && dir.get(state.meta.file);
    const merged = mergePatches(previous?.kind === 'meta' ? previous.patch : undefined, patch);
    dir.set(metaFileName(ts), { kind: 'meta', patch: merged });
    this.#settle(location, dir);
    return { kind: 'posted', meta: this.#mergedMeta(dir, hashDirState([...dir.keys()]))! };
  }

  async markDurable(location: ObjectLocation, ts: Timestamp, frag: number): Promise<CommitOutcome | undefined> {
    this.#check(location.device);
    const dir = this.#dir(location);
    const state = hashDirState([...dir.keys()]);
    const v = state.version;
    if (v && (v.ts > ts || (v.ts === ts && v.kind === 'tombstone'))) {
      throw new ArcaError('Conflict', `${location.name}: a version at ${v.ts} exists`, { existingTs: v.ts });
    }
    if (dir.has(dataFileName(ts, frag, true))) return {};
    const pending = dir.get(dataFileName(ts, frag, false));
    if (!pending) return undefined;
    const replaced = v?.kind === 'data' && v.ts < ts ? this.#replaced(dir, state) : {};
    assertRemovable(replaced.replaced, this.now());
    dir.delete(dataFileName(ts, frag, false));
    dir.set(dataFileName(ts, frag, true), pending);
    this.#settle(location, dir);
    return replaced;
  }

  async invalidatedSuffixes(device: string, policyIndex: number, partition: number): Promise<string[]> {
    this.#check(device);
    return [...(this.#invalid.get(`${device}/${policyIndex}/${partition}`) ?? [])].sort();
  }

  #install(location: ObjectLocation, incoming: ParsedFile, content: FileContent, bypassGovernance = false): DeleteOutcome {
    this.#check(location.device);
    const dir = this.#dir(location);
    const state = hashDirState([...dir.keys()]);
    const existingTs = conflictOf(state, incoming);
    if (existingTs !== undefined) throw new ArcaError('Conflict', `${location.name}: a version at ${existingTs} exists`, { existingTs });
    const before = state.version;
    const replaced = before?.kind === 'data' ? this.#replaced(dir, state) : {};
    const afterState = hashDirState([...dir.keys(), incoming.file]).version;
    const replacesVersion = afterState !== undefined && (before === undefined || afterState.ts > before.ts);
    if (replacesVersion) assertRemovable(replaced.replaced, this.now(), incoming.kind === 'tombstone' && bypassGovernance);
    dir.set(incoming.file, content);
    this.#settle(location, dir);
    return replacesVersion ? { previous: before?.kind, ...replaced } : { previous: undefined };
  }

  /** Drops what became obsolete and notes the suffix as changed. */
  #settle(location: ObjectLocation, dir: Map<string, FileContent>): void {
    for (const name of hashDirState([...dir.keys()]).obsolete) dir.delete(name);
    const partKey = `${location.device}/${location.policyIndex}/${location.partition}`;
    let suffixes = this.#invalid.get(partKey);
    if (!suffixes) this.#invalid.set(partKey, (suffixes = new Set()));
    suffixes.add(suffixOfHash(hashOfName(location.name)));
  }

  #replaced(dir: Map<string, FileContent>, state: HashDirState): CommitOutcome {
    const replaced = this.#mergedMeta(dir, state);
    if (!replaced) return {};
    return state.meta ? { replaced, replacedMetaTs: state.meta.ts } : { replaced };
  }

  #mergedMeta(dir: Map<string, FileContent>, state: HashDirState): ObjectMeta | undefined {
    const data = versionDataFile(state);
    const content = data && dir.get(data.file);
    if (content?.kind !== 'data') return undefined;
    const stored = readStoredMeta(content.rawMeta);
    if ('error' in stored) return undefined;
    const patch = state.meta && dir.get(state.meta.file);
    return applyPatch(stored.meta, patch?.kind === 'meta' ? patch.patch : undefined);
  }

  #dir(location: ObjectLocation): Map<string, FileContent> {
    const key = `${location.device}/${location.policyIndex}/${location.partition}/${location.name}`;
    let dir = this.#dirs.get(key);
    if (!dir) this.#dirs.set(key, (dir = new Map()));
    return dir;
  }

  #check(device: string): void {
    const available = this.#devices.get(device);
    if (!available) throw new DeviceUnavailableError(device, `memory:${device}`, available === undefined ? 'not served by this node' : 'failed');
  }
}

class MemoryWriter implements DiskFileWriter {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #meta: ObjectMeta | undefined;
  #done = false;

  constructor(private readonly install: (meta: ObjectMeta, body: Buffer) => CommitOutcome) {}

  get bytesWritten(): number {
    return this.#bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#done) throw new Error('writer is no longer open');
    this.#chunks.push(Buffer.from(chunk));
    this.#bytes += chunk.length;
  }

  put(meta: ObjectMeta): void {
    this.#meta = meta;
  }

  async commit(): Promise<CommitOutcome> {
    if (this.#done) throw new Error('writer is no longer open');
    if (!this.#meta) throw new Error('put(meta) must come before commit()');
    this.#done = true;
    const body = Buffer.concat(this.#chunks);
    this.#chunks = [];
    return this.install(this.#meta, body);
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#chunks = [];
  }
}

class MemoryDataFile implements DataFile {
  readonly kind = 'data';
  readonly size: number;
  metaTs?: Timestamp;
  frag?: number;
  fragmentChecksums?: string[];
  constructor(
    public meta: ObjectMeta,
    public rawMeta: Uint8Array,
    private readonly body: Buffer,
  ) {
    this.size = body.length;
  }

  read(range?: ByteRange): Buffer {
    return range ? this.body.subarray(range.start, range.end + 1) : this.body;
  }

  async close(): Promise<void> {}
}
