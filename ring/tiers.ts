/**
 * The failure-domain tree (root ⊃ region ⊃ zone ⊃ host ⊃ device) and what each node should hold.
 *
 * Two numbers per node drive the builder, both per partition on average:
 * - `spread` — how many of a partition's replicas the node gets when replicas are spread as evenly as the
 *   device set allows: the parent's spread water-filled over its children, each capped by its capacity (how
 *   many devices it has). A partition is *dispersed* when every node holds `lo = floor(spread)` or
 *   `hi = ceil(spread)` of its replicas. That is Swift's dispersion, made exact: with 3 replicas and 2
 *   regions every partition has 2+1; with 4 replicas and 3 zones it has 2+1+1, never 2+2+0.
 * - `share` — partition-replicas the node should hold in total: the parent's share split by weight, but kept
 *   within [partitions × lo, partitions × hi] because dispersion comes first (a lone zone must take one
 *   replica of every partition whatever its weight). Integer targets round shares so that every device is
 *   within one partition of its share.
 */
import type { Device } from './device.js';
import { rankOf } from './hash.js';

/** Tree levels; a device's chain holds its nodes at levels 1..4. */
export const REGION = 1;
export const ZONE = 2;
export const HOST = 3;
export const DEVICE = 4;
export const LEVELS = 4;

const EPS = 1e-9;

/** The tree for one device table. Node 0 is the root; a parent's id is always below its children's. */
export interface TierTree {
  readonly nodeCount: number;
  readonly level: Uint8Array;
  readonly parent: Int32Array;
  readonly children: Int32Array[];
  /** Human-readable node names (`r1`, `r1z2`, `r1z2-10.0.0.1`, `d7`), also the seed of tie-break ranks. */
  readonly names: string[];
  /** Seeded tie-break rank per node: a stable order among equals that does not depend on node ids. */
  readonly rank: Uint32Array;
  /** `chain[id * 4 + level - 1]` = node of device `id` at `level`; -1 for a null id. */
  readonly chain: Int32Array;
  /** Device id of a device node, -1 for other nodes. */
  readonly nodeDevice: Int32Array;
  /** Replicas of one partition the node can take: devices it has × replicas allowed per device. */
  readonly capacity: Float64Array;
  readonly weight: Float64Array;
  readonly spread: Float64Array;
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** Fractional partition-replicas the node should hold. */
  readonly share: Float64Array;
  /** Children with lo ≥ 1, per node: every partition must have a replica there. */
  readonly mandatory: Int32Array[];
  /** All nodes with lo ≥ 1 (at most replicas per level). */
  readonly mandatoryAll: Int32Array;
  readonly replicas: number;
  readonly partitionCount: number;
}

/**
 * Builds the tree. `usable(dev)` says whether a device may receive partitions (weight > 0 and not being
 * removed); unusable devices stay in the tree, with no capacity, so their replicas still count where they are.
 */
export function buildTierTree(
  devices: ReadonlyArray<Device | null>,
  replicas: number,
  partitionCount: number,
  seed: number,
  usable: (dev: Device) => boolean,
): TierTree {
  const live = devices.filter((d): d is Device => d !== null);
  live.sort((a, b) => a.region - b.region || a.zone - b.zone || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0) || a.id - b.id);
  const usableCount = live.filter(usable).length;
  // Several replicas of a partition may share a device only when there are fewer devices than replicas.
  const perDevice = usableCount === 0 ? 0 : Math.ceil(replicas / Math.min(usableCount, replicas));

  const level: number[] = [0];
  const parent: number[] = [-1];
  const names: string[] = ['root'];
  const kids: number[][] = [[]];
  const weight: number[] = [0];
  const capacity: number[] = [0];
  const byName = new Map<string, number>();
  const chain = new Int32Array(devices.length * LEVELS).fill(-1);
  const nodeDevice: number[] = [-1];
  const node = (name: string, lvl: number, up: number): number => {
    let n = byName.get(name);
    if (n === undefined) {
      n = level.length;
      byName.set(name, n);
      level.push(lvl);
      parent.push(up);
      names.push(name);
      kids.push([]);
      weight.push(0);
      capacity.push(0);
      nodeDevice.push(-1);
      kids[up].push(n);
    }
    return n;
  };
  for (const dev of live) {
    const r = node(`r${dev.region}`, REGION, 0);
    const z = node(`r${dev.region}z${dev.zone}`, ZONE, r);
    const h = node(`r${dev.region}z${dev.zone}-${dev.ip}`, HOST, z);
    const d = node(`d${dev.id}`, DEVICE, h);
    nodeDevice[d] = dev.id;
    const path = [r, z, h, d];
    for (let l = 0; l < LEVELS; l++) chain[dev.id * LEVELS + l] = path[l];
    if (usable(dev)) {
      for (const n of [0, ...path]) {
        weight[n] += dev.weight;
        capacity[n] += perDevice;
      }
    }
  }

  const nodeCount = level.length;
  const children = kids.map((k) => Int32Array.from(k));
  const spread = new Float64Array(nodeCount);
  const share = new Float64Array(nodeCount);
  const lo = new Int32Array(nodeCount);
  const hi = new Int32Array(nodeCount);
  spread[0] = Math.min(replicas, capacity[0]);
  share[0] = spread[0] * partitionCount;
  // Parents precede children, so one pass in id order fills the tree top-down.
  for (let x = 0; x < nodeCount; x++) {
    lo[x] = Math.floor(spread[x] + EPS);
    hi[x] = Math.ceil(spread[x] - EPS);
    const c = children[x];
    if (c.length === 0) continue;
    const s = waterFill(spread[x], Array.from(c, (n) => capacity[n]));
    for (let i = 0; i < c.length; i++) spread[c[i]] = s[i];
    const v = boundedShares(
      share[x],
      Array.from(c, (n) => weight[n]),
      Array.from(s, (v) => partitionCount * Math.floor(v + EPS)),
      Array.from(s, (v) => partitionCount * Math.ceil(v - EPS)),
    );
    for (let i = 0; i < c.length; i++) share[c[i]] = v[i];
  }
  const mandatory = children.map((c) => Int32Array.from(Array.from(c).filter((n) => lo[n] >= 1)));
  const mandatoryAll: number[] = [];
  for (let n = 1; n < nodeCount; n++) if (lo[n] >= 1) mandatoryAll.push(n);
  return {
    nodeCount,
    level: Uint8Array.from(level),
    parent: Int32Array.from(parent),
    children,
    names,
    rank: Uint32Array.from(names, (n) => rankOf(seed, n)),
    chain,
    nodeDevice: Int32Array.from(nodeDevice),
    capacity: Float64Array.from(capacity),
    weight: Float64Array.from(weight),
    spread,
    lo,
    hi,
    share,
    mandatory,
    mandatoryAll: Int32Array.from(mandatoryAll),
    replicas,
    partitionCount,
  };
}

/**
 * Splits `total` over children as evenly as their capacities allow: each gets min(capacity, λ), with λ such
 * that the parts sum to `total`.
 */
export function waterFill(total: number, caps: number[]): Float64Array {
  const out = new Float64Array(caps.length);
  const order = caps.map((_, i) => i).sort((a, b) => caps[a] - caps[b]);
  let remaining = total;
  for (let k = 0; k < order.length; k++) {
    const even = remaining / (order.length - k);
    const i = order[k];
    if (caps[i] <= even) {
      out[i] = caps[i];
      remaining -= caps[i];
    } else {
      for (let j = k; j < order.length; j++) out[order[j]] = even;
      break;
    }
  }
  return out;
}

/**
 * Splits `total` in proportion to `weights`, each part clamped to [lower, upper]: finds μ with
 * Σ clamp(μ·wᵢ, lowerᵢ, upperᵢ) = total. The sum is piecewise linear in μ, so a search over its breakpoints
 * and one linear step give μ exactly.
 */
export function boundedShares(total: number, weights: number[], lower: number[], upper: number[]): Float64Array {
  const n = weights.length;
  const at = (mu: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += weights[i] > 0 ? Math.min(upper[i], Math.max(lower[i], mu * weights[i])) : lower[i];
    return s;
  };
  const points: number[] = [0];
  for (let i = 0; i < n; i++) if (weights[i] > 0) points.push(lower[i] / weights[i], upper[i] / weights[i]);
  points.sort((a, b) => a - b);
  let mu: number;
  if (total <= at(points[0])) mu = points[0];
  else if (total >= at(points[points.length - 1])) mu = points[points.length - 1];
  else {
    let a = 0;
    let b = points.length - 1; // at(points[a]) < total <= at(points[b])
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (at(points[m]) < total) a = m;
      else b = m;
    }
    const fa = at(points[a]);
    const fb = at(points[b]);
    mu = fb === fa ? points[b] : points[a] + ((total - fa) / (fb - fa)) * (points[b] - points[a]);
  }
  return Float64Array.from(weights, (w, i) => (w > 0 ? Math.min(upper[i], Math.max(lower[i], mu * w)) : lower[i]));
}

/**
 * Rounds the shares to integer targets top-down, children summing exactly to their parent, each within one
 * of its share. Where rounding has a choice it keeps what a node holds now (`current`, per node), so a
 * rebalance does not move partitions just to round differently.
 */
export function integerTargets(tree: TierTree, current: Int32Array): Int32Array {
  const { nodeCount, children, share, lo, hi, rank, partitionCount: P } = tree;
  const target = new Int32Array(nodeCount);
  target[0] = Math.round(share[0]);
  for (let x = 0; x < nodeCount; x++) {
    const c = children[x];
    if (c.length === 0) continue;
    let units = target[x];
    const frac = new Float64Array(c.length);
    for (let i = 0; i < c.length; i++) {
      const n = c[i];
      const f = Math.min(P * hi[n], Math.max(P * lo[n], Math.floor(share[n] + 1e-6)));
      target[n] = f;
      frac[i] = share[n] - f;
      units -= f;
    }
    if (units === 0) continue;
    const order = Array.from(c.keys());
    const score = (i: number): number => (frac[i] > 1e-6 ? 0 : 2) + (current[c[i]] > target[c[i]] ? 0 : 1);
    order.sort((a, b) => score(a) - score(b) || frac[b] - frac[a] || rank[c[a]] - rank[c[b]] || a - b);
    // units > 0 hands out one each; units < 0 (only from float error) takes back from the smallest.
    if (units < 0) order.reverse();
    for (let k = 0; units !== 0 && k < order.length * 2; k++) {
      const n = c[order[k % order.length]];
      if (units > 0 && target[n] < P * hi[n]) {
        target[n]++;
        units--;
      } else if (units < 0 && target[n] > P * lo[n]) {
        target[n]--;
        units++;
      }
    }
  }
  return target;
}
