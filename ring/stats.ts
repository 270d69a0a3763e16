import type { Device } from './device.js';
import { PartitionCounts } from './partition-counts.js';
import { checkRingData, type RingData } from './ring-data.js';
import { buildTierTree, type TierTree } from './tiers.js';

/** Swift's cap for the balance of a device that should hold nothing but does. */
export const MAX_BALANCE = 999.99;

/** One device's standing in a ring. */
export interface DeviceStats {
  id: number;
  /** Partition-replicas it holds. */
  parts: number;
  /** Partition-replicas it should hold: its weighted share, kept within what dispersion requires. */
  want: number;
  weight: number;
  /** (parts − want) / want in percent. */
  balance: number;
}

/** Balance and dispersion of an assignment table. */
export interface RingStats {
  /** Largest |balance| over all devices, in percent. */
  balance: number;
  /** Percentage of partitions whose replicas are not spread as widely as the device set allows. */
  dispersion: number;
  devices: DeviceStats[];
}

/** Balance of one device in percent (signed). */
export function deviceBalance(parts: number, want: number): number {
  if (want <= 1e-9) return parts > 0 ? MAX_BALANCE : 0;
  return Math.min(MAX_BALANCE, Math.max(-100, ((parts - want) / want) * 100));
}

/** Computes per-device parts, balance and dispersion of `assign` (flat, `slot = replica × partitions + p`). */
export function ringStats(tree: TierTree, devices: ReadonlyArray<Device | null>, assign: ArrayLike<number>): RingStats {
  const parts = new Int32Array(devices.length);
  for (let i = 0; i < assign.length; i++) if (assign[i] >= 0) parts[assign[i]]++;
  const counts = new PartitionCounts(tree);
  let undispersed = 0;
  for (let p = 0; p < tree.partitionCount; p++) {
    counts.load(assign, p);
    if (!counts.dispersed()) undispersed++;
  }
  counts.clear();
  const out: DeviceStats[] = [];
  let balance = 0;
  for (const dev of devices) {
    if (!dev) continue;
    const node = tree.chain[dev.id * 4 + 3];
    const want = node >= 0 ? tree.share[node] : 0;
    const b = deviceBalance(parts[dev.id], want);
    balance = Math.max(balance, Math.abs(b));
    out.push({ id: dev.id, parts: parts[dev.id], want, weight: dev.weight, balance: b });
  }
  return { balance, dispersion: tree.partitionCount ? (undispersed / tree.partitionCount) * 100 : 0, devices: out };
}

/** Statistics of a ring file's contents (weights as recorded in the ring). */
export function statsOfRingData(data: RingData): RingStats {
  const { partPower, replicas, seed, devices, flat } = checkRingData(data);
  const tree = buildTierTree(devices, replicas, 2 ** partPower, seed, (d) => d.weight > 0);
  return ringStats(tree, devices, flat);
}
