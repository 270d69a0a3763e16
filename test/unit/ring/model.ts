/**
 * Test-side model of the ring's claims, written independently of ring/ (plain recursion, bisection instead
 * of breakpoint search), plus fast-check arbitraries for random clusters. Used by the property tests.
 */
import fc from 'fast-check';
import { type BuilderData, type Device, RingBuilder } from '../../../ring/index.js';

/** A device to add: where it is and how heavy. */
export interface DeviceSpec {
  region: number;
  zone: number;
  host: number;
  weight: number;
}

/** A random cluster: partition power 6–12, 1–5 replicas, up to 24 devices in up to 3×3×4 failure domains. */
export interface ClusterSpec {
  partPower: number;
  replicas: number;
  seed: number;
  devices: DeviceSpec[];
}

export const deviceSpec = (): fc.Arbitrary<DeviceSpec> =>
  fc.record({
    region: fc.integer({ min: 0, max: 2 }),
    zone: fc.integer({ min: 0, max: 2 }),
    host: fc.integer({ min: 0, max: 3 }),
    weight: fc.constantFrom(0.5, 1, 1, 1, 1.5, 2, 3, 10),
  });

export const clusterSpec = (opts: { maxPartPower?: number; minDevices?: number; maxDevices?: number } = {}): fc.Arbitrary<ClusterSpec> =>
  fc.record({
    partPower: fc.integer({ min: 6, max: opts.maxPartPower ?? 12 }),
    replicas: fc.integer({ min: 1, max: 5 }),
    seed: fc.nat({ max: 0xffffffff }),
    devices: fc.array(deviceSpec(), { minLength: opts.minDevices ?? 1, maxLength: opts.maxDevices ?? 24 }),
  });

/** The device record for a spec (names are unique per index). */
export function deviceOf(d: DeviceSpec, i: number): Omit<Device, 'id'> {
  return { region: d.region, zone: d.zone, ip: `10.${d.region}.${d.zone}.${d.host}`, port: 6000, device: `sd${i}`, weight: d.weight };
}

/** A builder with the spec's devices, rebalanced once at hour 1000. */
export function built(spec: ClusterSpec, minPartHours = 1): RingBuilder {
  const b = RingBuilder.create({ partPower: spec.partPower, replicas: spec.replicas, minPartHours, seed: spec.seed });
  spec.devices.forEach((d, i) => {
    b.addDevice(deviceOf(d, i));
  });
  b.rebalance({ nowHours: 1000 });
  return b;
}

/** Rebalances at later hours (past minPartHours) until nothing moves, at most `rounds` times; returns the last hour used. */
export function settle(b: RingBuilder, from: number, rounds = 8): number {
  let hour = from;
  for (let i = 0; i < rounds; i++) {
    hour += b.minPartHours + 1;
    if (b.rebalance({ nowHours: hour }).moved === 0) break;
  }
  return hour;
}

/** Failure-domain path of a device: region, zone, host, device. */
export function pathOf(d: Device): string[] {
  return [`r${d.region}`, `r${d.region}/z${d.zone}`, `r${d.region}/z${d.zone}/${d.ip}`, `d${d.id}`];
}

interface Node {
  key: string;
  children: Map<string, Node>;
  devices: number;
  weight: number;
  spread: number;
  share: number;
}

/**
 * The reference model: for every failure domain and device, how many replicas of each partition it gets
 * when spread as evenly as capacity allows (`spread`), and how many partition-replicas it should hold
 * (`share`): weight-proportional, kept within [P·floor(spread), P·ceil(spread)].
 */
export function reference(devices: ReadonlyArray<Device | null>, replicas: number, partitions: number): Map<string, { spread: number; share: number }> {
  const live = devices.filter((d): d is Device => d !== null && d.weight > 0);
  const perDevice = live.length === 0 ? 0 : Math.ceil(replicas / Math.min(live.length, replicas));
  const root: Node = { key: 'root', children: new Map(), devices: 0, weight: 0, spread: 0, share: 0 };
  for (const d of live) {
    let node = root;
    node.devices++;
    node.weight += d.weight;
    for (const key of pathOf(d)) {
      let child = node.children.get(key);
      if (!child) node.children.set(key, (child = { key, children: new Map(), devices: 0, weight: 0, spread: 0, share: 0 }));
      child.devices++;
      child.weight += d.weight;
      node = child;
    }
  }
  root.spread = Math.min(replicas, perDevice * root.devices);
  root.share = root.spread * partitions;
  const out = new Map<string, { spread: number; share: number }>();
  const visit = (n: Node) => {
    const kids = [...n.children.values()];
    if (kids.length === 0) return;
    // Even split capped by capacity: bisect the water level.
    const lambda = bisect((l) => kids.reduce((s, k) => s + Math.min(perDevice * k.devices, l), 0), n.spread, 0, replicas);
    for (const k of kids) k.spread = Math.min(perDevice * k.devices, lambda);
    const lo = (k: Node) => partitions * Math.floor(k.spread + 1e-9);
    const hi = (k: Node) => partitions * Math.ceil(k.spread - 1e-9);
    const mu = bisect((m) => kids.reduce((s, k) => s + Math.min(hi(k), Math.max(lo(k), m * k.weight)), 0), n.share, 0, (replicas * partitions) / Math.min(...kids.map((k) => k.weight)));
    for (const k of kids) {
      k.share = Math.min(hi(k), Math.max(lo(k), mu * k.weight));
      out.set(k.key, { spread: k.spread, share: k.share });
      visit(k);
    }
  };
  visit(root);
  return out;
}

/** x in [lo, hi] with f(x) = target, f nondecreasing. */
function bisect(f: (x: number) => number, target: number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Partitions whose replicas are not spread as the model says (some domain holds a count outside floor/ceil). */
export function undispersed(data: BuilderData | { devices: Array<Device | null>; assignments: number[][]; replicas: number; partPower: number }): number[] {
  const P = 2 ** data.partPower;
  const model = reference(data.devices, data.replicas, P);
  const bad: number[] = [];
  const byId = data.devices;
  const assignments = data.assignments as number[][];
  for (let p = 0; p < P; p++) {
    const counts = new Map<string, number>();
    for (let r = 0; r < data.replicas; r++) {
      const d = byId[assignments[r][p]] as Device;
      for (const key of pathOf(d)) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, { spread }] of model) {
      const c = counts.get(key) ?? 0;
      if (c < Math.floor(spread + 1e-9) || c > Math.ceil(spread - 1e-9)) {
        bad.push(p);
        break;
      }
    }
    for (const key of counts.keys()) if (!model.has(key)) bad.push(p); // a replica on a zero-weight device
  }
  return [...new Set(bad)];
}

/** Partition-replicas per device id. */
export function partsPerDevice(data: { assignments: number[][] | null }): Map<number, number> {
  const out = new Map<number, number>();
  for (const row of data.assignments ?? []) for (const id of row) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

/** Devices further than one partition-replica from the model's share: `[id, parts, share]`. */
export function offBalance(data: BuilderData): Array<[number, number, number]> {
  const model = reference(data.devices, data.replicas, 2 ** data.partPower);
  const parts = partsPerDevice(data);
  const out: Array<[number, number, number]> = [];
  for (const d of data.devices) {
    if (!d) continue;
    const share = model.get(`d${d.id}`)?.share ?? 0;
    const held = parts.get(d.id) ?? 0;
    if (Math.abs(held - share) >= 1 - 1e-9) out.push([d.id, held, share]);
  }
  return out;
}
