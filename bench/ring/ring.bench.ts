/**
 * Ring benchmark: lookup speed (partition() of random paths, primaries(), first handoff), rebalance time for
 * partition power 16–20 with 100–1,000 devices, and what adding one device and removing one device cost
 * (moves against minimumMoves, balance, dispersion). Prints one JSON line on stdout; progress on stderr.
 *
 *   node dist/bench/ring/ring.bench.js [--quick]
 */
import { performance } from 'node:perf_hooks';
import { decodeRingFile, encodeRingFile, Ring, RingBuilder } from '../../ring/index.js';

const quick = process.argv.includes('--quick');
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Deterministic pseudo-random numbers (mulberry32) so runs compare. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A cluster layout: 2 regions × 4 zones, 12 devices per host, one in five devices twice as big. */
function addDevices(b: RingBuilder, count: number, random: () => number): void {
  for (let i = 0; i < count; i++) {
    const host = Math.floor(i / 12);
    b.addDevice({
      region: host % 2,
      zone: (host >> 1) % 4,
      ip: `10.${host % 2}.${(host >> 1) % 4}.${host >> 3}`,
      port: 6000,
      device: `sd${i % 12}`,
      weight: random() < 0.2 ? 2 : 1,
    });
  }
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, round(performance.now() - t0, 1)];
}

function rebalanceCase(partPower: number, devices: number, replicas: number) {
  const random = rng(partPower * 7919 + devices);
  const b = RingBuilder.create({ partPower, replicas, minPartHours: 1, seed: 1234 });
  addDevices(b, devices, random);
  const [build, buildMs] = timed(() => b.rebalance({ nowHours: 1000 }));
  const snapshot = b.toJSON();
  // Add one device of the common size to an existing host.
  b.addDevice({ region: 0, zone: 0, ip: '10.0.0.0', port: 6000, device: 'sd-new', weight: 1 });
  const [add, addMs] = timed(() => b.rebalance({ nowHours: 1010 }));
  // Remove one device from the original ring.
  const r = RingBuilder.fromJSON(snapshot);
  r.removeDevice(Math.floor(devices / 3));
  const [remove, removeMs] = timed(() => r.rebalance({ nowHours: 1010 }));
  const summary = (x: typeof add, ms: number) => ({
    ms,
    moved: x.moved,
    minimumMoves: x.minimumMoves,
    movedOverMinimumPct: x.minimumMoves ? round(((x.moved - x.minimumMoves) / x.minimumMoves) * 100, 3) : 0,
    movedPctOfReplicas: round((x.moved / (replicas * 2 ** partPower)) * 100, 3),
    balancePct: round(x.balance, 3),
    dispersionPct: round(x.dispersion, 3),
  });
  const out = {
    partPower,
    devices,
    replicas,
    build: { ms: buildMs, balancePct: round(build.balance, 3), dispersionPct: round(build.dispersion, 3) },
    addOne: summary(add, addMs),
    removeOne: summary(remove, removeMs),
  };
  log(`rebalance ${JSON.stringify(out)}`);
  return { out, builder: b };
}

function lookups(ring: Ring) {
  const random = rng(99);
  const paths = Array.from({ length: 200_000 }, (_, i) => `/AUTH_test/bucket-${i % 97}/photos/${Math.floor(random() * 1e9).toString(36)}/${i}.jpg`);
  let sink = 0;
  const [, partitionMs] = timed(() => {
    for (let k = 0; k < 5; k++) for (const p of paths) sink += ring.partition(p);
  });
  const parts = Int32Array.from({ length: 1 << 16 }, () => Math.floor(random() * ring.partitionCount));
  const primariesCalls = quick ? 2_000_000 : 10_000_000;
  const [, primariesMs] = timed(() => {
    for (let i = 0; i < primariesCalls; i++) sink += ring.primaries(parts[i & 0xffff])[0].id;
  });
  const handoffCalls = 20_000;
  const [, handoffMs] = timed(() => {
    for (let i = 0; i < handoffCalls; i++) for (const d of ring.handoffs(parts[i & 0xffff])) {
      sink += d.id;
      break;
    }
  });
  if (sink === -1) log('unreachable');
  return {
    partitionPerSec: Math.round((5 * paths.length) / (partitionMs / 1000)),
    primariesPerSec: Math.round(primariesCalls / (primariesMs / 1000)),
    firstHandoffPerSec: Math.round(handoffCalls / (handoffMs / 1000)),
  };
}

function main(): void {
  const cases: Array<[number, number]> = quick
    ? [
        [16, 100],
        [18, 300],
      ]
    : [
        [16, 100],
        [16, 1000],
        [18, 300],
        [20, 100],
        [20, 1000],
      ];
  const results = [];
  let largest: RingBuilder | undefined;
  for (const [partPower, devices] of cases) {
    const { out, builder } = rebalanceCase(partPower, devices, 3);
    results.push(out);
    largest = builder;
  }
  const data = (largest as RingBuilder).ringData();
  const [bytes, encodeMs] = timed(() => encodeRingFile(data));
  const [decoded, decodeMs] = timed(() => decodeRingFile(bytes));
  const [ring, loadMs] = timed(() => new Ring(decoded));
  const lookup = lookups(ring);
  log(`lookups ${JSON.stringify(lookup)}`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ring',
      node: process.version,
      quick,
      lookups: { ...lookup, ring: { partPower: ring.partPower, devices: ring.devices.length, replicas: ring.replicaCount } },
      rebalance: results,
      ringFile: { partPower: ring.partPower, bytes: bytes.length, encodeMs, decodeMs, loadMs },
    })}\n`,
  );
}

main();
