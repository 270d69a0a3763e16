/**
 * The ring builder: the operator's editable description of a ring (devices, weights, where every
 * partition-replica sits and when it last moved), from which each rebalance produces the next ring. Pure:
 * time comes in as `nowHours`, and equal inputs give equal rings.
 */
import { type Device, validateDevice, validateDeviceTable } from './device.js';
import { RingError } from './errors.js';
import { rebalanceAssignments } from './rebalance.js';
import { flattenAssignments, type RingData, ringDataOf, validateShape } from './ring-data.js';
import { type RingStats, ringStats } from './stats.js';
import { buildTierTree } from './tiers.js';

/** What a builder file holds (plain JSON). */
export interface BuilderData {
  format: 'arca-ring-builder';
  version: 1;
  partPower: number;
  replicas: number;
  /** Hours a partition must stay put after one of its replicas moved. */
  minPartHours: number;
  /** uint32 cluster seed: the partition hash seed and the tie-break seed of the builder. */
  seed: number;
  devices: Array<Device | null>;
  /** `[replica][partition]` → device id; null until the first rebalance. */
  assignments: number[][] | null;
  /** Per partition, the hour (since the epoch) of its last move; empty until the first rebalance. */
  lastMoved: number[];
  /** Device ids marked for removal; they leave `devices` at the next rebalance. */
  removing: number[];
  /**
   * True when devices or weights changed since the last rebalance. That rebalance then moves at most 5% more
   * than `minimumMoves`; a rebalance with nothing changed finishes any balancing that would have cost more.
   */
  devicesChanged: boolean;
}

/** What a rebalance did (or, with dryRun, would do). */
export interface RebalanceResult {
  /** Partition-replicas reassigned from one device to another. */
  moved: number;
  /** The fewest partition-replicas any rebalance had to move to reach the new targets. */
  minimumMoves: number;
  /** Partition-replicas placed for the first time (first build). */
  placed: number;
  /** Largest % any device is off its share. */
  balance: number;
  /** % of partitions whose replicas are not spread as widely as the devices allow. */
  dispersion: number;
  devices: Array<{ id: number; parts: number; want: number }>;
}

/** Builder-wide statistics: RingStats plus the ring's shape. */
export interface BuilderStats extends RingStats {
  partPower: number;
  partitions: number;
  replicas: number;
  minPartHours: number;
}

const MAX_HOURS = 0x7fffffff;
/** Moves beyond `minimumMoves` allowed in the rebalance right after a device change (see BuilderData). */
const MAX_EXTRA_AFTER_CHANGE = 0.05;

function checkHours(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_HOURS) throw new RingError(field, 'must be a non-negative integer number of hours');
  return v;
}

/** Builds and rebalances a ring. */
export class RingBuilder {
  private devs: Array<Device | null>;
  private removing: Set<number>;
  private assign: Int32Array | null;
  private lastMoved: Int32Array | null;

  private constructor(
    readonly partPower: number,
    readonly replicas: number,
    readonly minPartHours: number,
    readonly seed: number,
    devices: Array<Device | null>,
    removing: Set<number>,
    assign: Int32Array | null,
    lastMoved: Int32Array | null,
    private changed: boolean,
  ) {
    this.devs = devices;
    this.removing = removing;
    this.assign = assign;
    this.lastMoved = lastMoved;
  }

  /** A new, empty builder. */
  static create(opts: { partPower: number; replicas: number; minPartHours: number; seed: number }): RingBuilder {
    const { partPower, replicas, seed } = validateShape(opts as unknown as Record<string, unknown>);
    return new RingBuilder(partPower, replicas, checkHours(opts.minPartHours, 'minPartHours'), seed, [], new Set(), null, null, true);
  }

  /** Restores a builder from its JSON form, checking every field. */
  static fromJSON(raw: BuilderData): RingBuilder {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RingError('builder', 'must be an object');
    const d = raw as unknown as Record<string, unknown>;
    if (d.format !== 'arca-ring-builder') throw new RingError('format', `expected "arca-ring-builder", got ${JSON.stringify(d.format)}`);
    if (d.version !== 1) throw new RingError('version', `unsupported version ${JSON.stringify(d.version)}`);
    const { partPower, replicas, seed } = validateShape(d);
    const minPartHours = checkHours(d.minPartHours, 'minPartHours');
    const devices = validateDeviceTable(d.devices);
    if (!Array.isArray(d.removing)) throw new RingError('removing', 'must be an array of device ids');
    const removing = new Set<number>();
    d.removing.forEach((id, i) => {
      if (typeof id !== 'number' || !devices[id] || removing.has(id)) throw new RingError(`removing[${i}]`, `${JSON.stringify(id)} is not a device`);
      removing.add(id);
    });
    const P = 2 ** partPower;
    let assign: Int32Array | null = null;
    let lastMoved: Int32Array | null = null;
    if (!Array.isArray(d.lastMoved)) throw new RingError('lastMoved', 'must be an array');
    if (d.assignments !== null) {
      assign = flattenAssignments(d.assignments, replicas, partPower, devices);
      if (d.lastMoved.length !== P) throw new RingError('lastMoved', `has ${d.lastMoved.length} entries, partPower ${partPower} needs ${P}`);
      lastMoved = new Int32Array(P);
      for (let p = 0; p < P; p++) lastMoved[p] = checkHours(d.lastMoved[p], `lastMoved[${p}]`);
    } else if (d.lastMoved.length !== 0) {
      throw new RingError('lastMoved', 'must be empty before the first rebalance');
    }
    if (d.devicesChanged !== undefined && typeof d.devicesChanged !== 'boolean') throw new RingError('devicesChanged', 'must be a boolean');
    return new RingBuilder(partPower, replicas, minPartHours, seed, devices, removing, assign, lastMoved, d.devicesChanged !== false);
  }

  /** The JSON form, for a builder file. */
  toJSON(): BuilderData {
    const P = 2 ** this.partPower;
    const assign = this.assign;
    return {
      format: 'arca-ring-builder',
      version: 1,
      partPower: this.partPower,
      replicas: this.replicas,
      minPartHours: this.minPartHours,
      seed: this.seed,
      devices: this.devs.map((d) => (d ? { ...d } : null)),
      assignments: assign ? Array.from({ length: this.replicas }, (_, r) => Array.from(assign.subarray(r * P, (r + 1) * P))) : null,
      lastMoved: this.lastMoved ? Array.from(this.lastMoved) : [],
      removing: [...this.removing].sort((a, b) => a - b),
      devicesChanged: this.changed,
    };
  }

  /** Device table (index = id, null = removed). */
  get devices(): ReadonlyArray<Readonly<Device> | null> {
    return this.devs;
  }

  /** Ids marked for removal at the next rebalance. */
  get pendingRemoval(): number[] {
    return [...this.removing].sort((a, b) => a - b);
  }

  /** True once the builder has been rebalanced (ringData() works). */
  get built(): boolean {
    return this.assign !== null;
  }

  /** Adds a device (it gets partitions at the next rebalance) and returns it with its id. */
  addDevice(dev: Omit<Device, 'id'> & { id?: number }): Device {
    const id = dev.id ?? this.devs.length;
    if (dev.id !== undefined && this.devs[id]) throw new RingError('id', `device ${id} already exists`);
    if (!Number.isSafeInteger(id) || id < 0 || id > 0xfffffffe) throw new RingError('id', 'must be a non-negative integer');
    const clean = validateDevice({ ...dev, id }, 'device');
    const where = `${clean.ip}:${clean.port}/${clean.device}`;
    if (this.devs.some((d) => d && `${d.ip}:${d.port}/${d.device}` === where)) throw new RingError('device', `${where} is already in the ring`);
    while (this.devs.length <= id) this.devs.push(null);
    this.devs[id] = clean;
    this.changed = true;
    return { ...clean };
  }

  /** Marks a device for removal: its partitions move, and it leaves the ring, at the next rebalance. */
  removeDevice(id: number): void {
    this.liveDevice(id);
    this.removing.add(id);
    this.changed = true;
  }

  /** Changes a device's weight; 0 drains it gradually, as minPartHours allows. */
  setWeight(id: number, weight: number): void {
    const dev = this.liveDevice(id);
    if (this.removing.has(id)) throw new RingError(`devices[${id}]`, 'is being removed');
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new RingError('weight', 'must be a finite number >= 0');
    if (dev.weight !== weight) this.changed = true;
    dev.weight = weight;
  }

  /**
   * Reassigns partitions for the current devices and weights (see rebalance.ts). `nowHours` is the current
   * time in hours since the epoch; with `dryRun` nothing changes and the result says what would happen.
   */
  rebalance(opts: { nowHours: number; dryRun?: boolean }): RebalanceResult {
    const nowHours = checkHours(opts.nowHours, 'nowHours');
    const out = rebalanceAssignments({
      partPower: this.partPower,
      replicas: this.replicas,
      seed: this.seed,
      devices: this.devs,
      removing: this.removing,
      assign: this.assign,
      lastMoved: this.lastMoved,
      minPartHours: this.minPartHours,
      nowHours,
      maxExtra: this.changed && this.assign ? MAX_EXTRA_AFTER_CHANGE : undefined,
    });
    const remaining = this.devs.map((d) => (d && !this.removing.has(d.id) ? d : null));
    const stats = ringStats(out.tree, remaining, out.assign);
    if (!opts.dryRun) {
      this.assign = out.assign;
      this.lastMoved = out.lastMoved;
      this.devs = remaining;
      this.removing = new Set();
      this.changed = false;
    }
    return {
      moved: out.moved,
      minimumMoves: out.minimumMoves,
      placed: out.placed,
      balance: stats.balance,
      dispersion: stats.dispersion,
      devices: stats.devices.map(({ id, parts, want }) => ({ id, parts, want })),
    };
  }

  /** The ring to write out, as of the last rebalance; throws if there was none. */
  ringData(): RingData {
    if (!this.assign) throw new RingError('assignments', 'the builder has never been rebalanced');
    return ringDataOf(this.partPower, this.replicas, this.seed, this.devs, this.assign);
  }

  /** Balance and dispersion of the current assignment against the current devices and weights. */
  stats(): BuilderStats {
    const P = 2 ** this.partPower;
    const tree = buildTierTree(this.devs, this.replicas, P, this.seed, (d) => d.weight > 0 && !this.removing.has(d.id));
    const assign = this.assign ?? new Int32Array(this.replicas * P).fill(-1);
    return { ...ringStats(tree, this.devs, assign), partPower: this.partPower, partitions: P, replicas: this.replicas, minPartHours: this.minPartHours };
  }

  private liveDevice(id: number): Device {
    const dev = Number.isInteger(id) ? this.devs[id] : undefined;
    if (!dev) throw new RingError(`devices[${id}]`, 'no such device');
    return dev;
  }
}
