/**
 * The ring as processes use it: path → partition → devices. Built from validated ring data; lookups read
 * typed arrays only, so `primaries()` runs millions of times per second.
 */
import type { Device } from './device.js';
import { RingError } from './errors.js';
import { type Domains, handoffSequence, indexDomains } from './handoffs.js';
import { partitionOf } from './hash.js';
import { checkRingData, type RingData } from './ring-data.js';

export type { RingData } from './ring-data.js';
export { decodeRingFile, encodeRingFile } from './ring-data.js';

/** An immutable ring. */
export class Ring {
  readonly partPower: number;
  readonly replicaCount: number;
  readonly partitionCount: number;
  /** uint32 cluster seed of the partition hash. */
  readonly seed: number;
  /** Live devices, by ascending id. */
  readonly devices: readonly Device[];
  private readonly byId: ReadonlyArray<Device | undefined>;
  /** One row per replica: partition → device id (Swift's `_replica2part2dev_id`). */
  private readonly rows: Uint32Array[];
  private readonly seedBig: bigint;
  private readonly shift: bigint;
  private readonly domains: Domains;

  /** Validates `data` completely; throws RingError naming the first bad field. */
  constructor(data: RingData) {
    const c = checkRingData(data);
    this.partPower = c.partPower;
    this.replicaCount = c.replicas;
    this.partitionCount = 2 ** c.partPower;
    this.seed = c.seed;
    const byId = c.devices.map((d) => (d === null ? undefined : Object.freeze(d)));
    this.byId = byId;
    this.devices = Object.freeze(byId.filter((d): d is Device => d !== undefined));
    this.domains = indexDomains(c.devices);
    const P = this.partitionCount;
    this.rows = Array.from({ length: c.replicas }, (_, r) => Uint32Array.from(c.flat.subarray(r * P, (r + 1) * P)));
    this.seedBig = BigInt(c.seed);
    this.shift = BigInt(64 - c.partPower);
  }

  /** The partition of `path`: the top `partPower` bits of XXH64(utf8(path), seed). */
  partition(path: string): number {
    return partitionOf(path, this.seedBig, this.shift);
  }

  /** Partition of an account (`/a`), a bucket (`/a/b`) or an object (`/a/b/k`). */
  objectPartition(account: string, bucket?: string, key?: string): number {
    if (bucket === undefined) {
      if (key !== undefined) throw new RingError('bucket', 'an object key needs a bucket');
      return this.partition(`/${account}`);
    }
    return this.partition(key === undefined ? `/${account}/${bucket}` : `/${account}/${bucket}/${key}`);
  }

  /**
   * The partition's primary devices, one per replica in replica order (replica i = EC fragment index i).
   * Distinct whenever the ring has at least `replicaCount` devices with weight.
   */
  primaries(part: number): Device[] {
    this.check(part);
    const out = new Array<Device>(this.rows.length);
    for (let r = 0; r < this.rows.length; r++) out[r] = this.byId[this.rows[r][part]] as Device;
    return out;
  }

  /** Device ids of the partition's primaries (no allocation of Device arrays). */
  primaryIds(part: number, out: Uint32Array = new Uint32Array(this.rows.length)): Uint32Array {
    this.check(part);
    for (let r = 0; r < this.rows.length; r++) out[r] = this.rows[r][part];
    return out;
  }

  /**
   * Every live device that is not a primary, lazily, in a stable per-partition order: devices in a region no
   * primary uses first, then new zones, new hosts, then the rest (see handoffs.ts).
   */
  handoffs(part: number): Iterable<Device> {
    const ids = this.primaryIds(part);
    const { domains, seed } = this;
    return { [Symbol.iterator]: () => handoffSequence(domains, seed, part, ids) };
  }

  /** The device with `id`, or undefined. */
  device(id: number): Device | undefined {
    return this.byId[id];
  }

  private check(part: number): void {
    if (!(part >>> 0 === part && part < this.partitionCount)) {
      throw new RangeError(`partition ${part} is not in 0..${this.partitionCount - 1}`);
    }
  }
}
