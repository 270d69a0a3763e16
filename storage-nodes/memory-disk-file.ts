/**
 * The in-memory twin of FsDiskFiles: the same DiskFiles contract (newest wins, conflicts, abort leaves
 * nothing, unavailable devices) without a file system, for fast tests of everything above the disk.
 */
import { ArcaError } from '../src/common/errors.js';
import type { Timestamp } from '../src/common/timestamp.js';
import type { ObjectMeta } from '../src/common/wire.js';
import {
  type ByteRange,
  type DataFile,
  type DeleteOutcome,
  DeviceUnavailableError,
  type DiskFiles,
  type DiskFileWriter,
  hashOfName,
  type NewestFile,
  type ObjectLocation,
  type OpenedObject,
  suffixOfHash,
} from './disk-file.js';

type Version = { kind: 'data'; ts: Timestamp; rawMeta: Buffer; body: Buffer } | { kind: 'tombstone'; ts: Timestamp };

/** DiskFiles held in memory; `devices` are the ones served, `setAvailable` simulates a failed device. */
export class MemoryDiskFiles implements DiskFiles {
  readonly #versions = new Map<string, Version>();
  readonly #invalid = new Map<string, Set<string>>();
  readonly #devices: Map<string, boolean>;

  constructor(devices: readonly string[]) {
    this.#devices = new Map(devices.map((d) => [d, true]));
  }

  /** Marks a device failed (every call for it throws DeviceUnavailableError) or healthy again. */
  setAvailable(device: string, available: boolean): void {
    if (this.#devices.has(device)) this.#devices.set(device, available);
  }

  async create(location: ObjectLocation): Promise<DiskFileWriter> {
    this.#check(location.device);
    return new MemoryWriter((meta, body) => this.#install(location, meta.ts, { kind: 'data', ts: meta.ts, rawMeta: Buffer.from(JSON.stringify(meta)), body }));
  }

  async open(location: ObjectLocation): Promise<OpenedObject | undefined> {
    this.#check(location.device);
    const v = this.#versions.get(this.#key(location));
    if (!v) return undefined;
    if (v.kind === 'tombstone') return { kind: 'tombstone', ts: v.ts };
    return new MemoryDataFile(JSON.parse(v.rawMeta.toString('utf8')) as ObjectMeta, v.rawMeta, v.body);
  }

  async newest(location: ObjectLocation): Promise<NewestFile | undefined> {
    this.#check(location.device);
    const v = this.#versions.get(this.#key(location));
    return v && { kind: v.kind, ts: v.ts };
  }

  async delete(location: ObjectLocation, ts: Timestamp): Promise<DeleteOutcome> {
    this.#check(location.device);
    return this.#install(location, ts, { kind: 'tombstone', ts });
  }

  async invalidatedSuffixes(device: string, policyIndex: number, partition: number): Promise<string[]> {
    this.#check(device);
    return [...(this.#invalid.get(`${device}/${policyIndex}/${partition}`) ?? [])].sort();
  }

  #install(location: ObjectLocation, ts: Timestamp, version: Version): DeleteOutcome {
    this.#check(location.device);
    const key = this.#key(location);
    const existing = this.#versions.get(key);
    if (existing && existing.ts >= ts) {
      throw new ArcaError('Conflict', `${location.name}: a version at ${existing.ts} exists`, { existingTs: existing.ts });
    }
    this.#versions.set(key, version);
    const partKey = `${location.device}/${location.policyIndex}/${location.partition}`;
    let suffixes = this.#invalid.get(partKey);
    if (!suffixes) this.#invalid.set(partKey, (suffixes = new Set()));
    suffixes.add(suffixOfHash(hashOfName(location.name)));
    return { previous: existing?.kind };
  }

  #key(location: ObjectLocation): string {
    return `${location.device}/${location.policyIndex}/${location.partition}/${location.name}`;
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

  constructor(private readonly install: (meta: ObjectMeta, body: Buffer) => void) {}

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

  async commit(): Promise<void> {
    if (this.#done) throw new Error('writer is no longer open');
    if (!this.#meta) throw new Error('put(meta) must come before commit()');
    this.#done = true;
    const body = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.install(this.#meta, body);
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#chunks = [];
  }
}

class MemoryDataFile implements DataFile {
  readonly kind = 'data';
  readonly size: number;
  constructor(
    readonly meta: ObjectMeta,
    readonly rawMeta: Uint8Array,
    private readonly body: Buffer,
  ) {
    this.size = body.length;
  }

  read(range?: ByteRange): Buffer {
    return range ? this.body.subarray(range.start, range.end + 1) : this.body;
  }

  async close(): Promise<void> {}
}
