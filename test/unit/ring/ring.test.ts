import test from 'ava';
import fc from 'fast-check';
import xxhash from 'xxhash-wasm';
import { type Device, Ring, type RingData, RingError } from '../../../ring/index.js';
import { built, clusterSpec } from './model.js';

const { h64Raw } = await xxhash();
const utf8 = new TextEncoder();

function ringOf(devices: number, replicas = 3, partPower = 6): Ring {
  const spec = { partPower, replicas, seed: 11, devices: Array.from({ length: devices }, (_, i) => ({ region: i % 2, zone: i % 3, host: i, weight: 1 })) };
  return new Ring(built(spec).ringData());
}

test('partition(path) is the top partPower bits of XXH64(utf8(path), seed)', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 0, max: 24 }), fc.nat({ max: 0xffffffff }), (path, partPower, seed) => {
      const data: RingData = {
        format: 'arca-ring',
        version: 1,
        partPower,
        replicas: 1,
        seed,
        devices: [{ id: 0, region: 0, zone: 0, ip: '10.0.0.1', port: 6000, device: 'sdb', weight: 1 }],
        assignments: [new Array(2 ** partPower).fill(0)],
      };
      const ring = new Ring(data);
      const want = Number(h64Raw(utf8.encode(path), BigInt(seed)) >> BigInt(64 - partPower));
      return ring.partition(path) === want;
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('objectPartition hashes /account, /account/bucket and /account/bucket/key', (t) => {
  const ring = ringOf(4, 3, 10);
  t.is(ring.objectPartition('AUTH_a'), ring.partition('/AUTH_a'));
  t.is(ring.objectPartition('AUTH_a', 'b'), ring.partition('/AUTH_a/b'));
  t.is(ring.objectPartition('AUTH_a', 'b', 'k/é.txt'), ring.partition('/AUTH_a/b/k/é.txt'));
  t.is(t.throws(() => ring.objectPartition('AUTH_a', undefined, 'k'), { instanceOf: RingError })?.field, 'bucket');
});

test('primaries(part) returns replicaCount distinct devices when there are enough devices', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 9 }), (spec) => {
      const ring = new Ring(built(spec).ringData());
      const enough = ring.devices.length >= ring.replicaCount;
      for (let p = 0; p < ring.partitionCount; p++) {
        const prim = ring.primaries(p);
        if (prim.length !== ring.replicaCount) return false;
        if (enough && new Set(prim.map((d) => d.id)).size !== prim.length) return false;
      }
      return true;
    }),
    { numRuns: 60 },
  );
  const ring = ringOf(4);
  t.throws(() => ring.primaries(-1), { instanceOf: RangeError });
  t.throws(() => ring.primaries(ring.partitionCount), { instanceOf: RangeError });
  t.throws(() => ring.primaries(1.5), { instanceOf: RangeError });
  t.deepEqual(Array.from(ring.primaryIds(3)), ring.primaries(3).map((d) => d.id));
});

/** How new a device's failure domain is next to `used`: 0 new region, 1 new zone, 2 new host, 3 none. */
function novelty(d: Device, used: Set<string>): number {
  if (!used.has(`r${d.region}`)) return 0;
  if (!used.has(`z${d.region}/${d.zone}`)) return 1;
  if (!used.has(`h${d.region}/${d.zone}/${d.ip}`)) return 2;
  return 3;
}
const use = (d: Device, used: Set<string>) => {
  used.add(`r${d.region}`);
  used.add(`z${d.region}/${d.zone}`);
  used.add(`h${d.region}/${d.zone}/${d.ip}`);
};

test('handoffs(part): every live non-primary device once, stable, most-different failure domain first', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 8 }), fc.nat(), (spec, pick) => {
      const ring = new Ring(built(spec).ringData());
      const part = pick % ring.partitionCount;
      const primaries = ring.primaries(part);
      const handoffs = [...ring.handoffs(part)];
      const again = [...ring.handoffs(part)];
      if (JSON.stringify(handoffs.map((d) => d.id)) !== JSON.stringify(again.map((d) => d.id))) return false;
      const primaryIds = new Set(primaries.map((d) => d.id));
      const ids = handoffs.map((d) => d.id);
      if (ids.some((id) => primaryIds.has(id)) || new Set(ids).size !== ids.length) return false;
      if (ids.length + primaryIds.size !== ring.devices.length) return false;
      // Each handoff is as new a failure domain as any device still to come.
      const used = new Set<string>();
      for (const d of primaries) use(d, used);
      for (let i = 0; i < handoffs.length; i++) {
        const best = Math.min(...handoffs.slice(i).map((d) => novelty(d, used)));
        if (novelty(handoffs[i], used) !== best) return false;
        use(handoffs[i], used);
      }
      return true;
    }),
    { numRuns: 80 },
  );
  t.pass();
});

test('handoffs are lazy: taking the first does not walk the rest', (t) => {
  const ring = ringOf(12);
  const it = ring.handoffs(5)[Symbol.iterator]();
  const first = it.next();
  t.false(first.done);
  t.true(ring.devices.includes(first.value as Device));
});

test('handoffs spread: different partitions start their handoff lists on different devices', (t) => {
  const ring = ringOf(12, 3, 8);
  const firsts = new Set<number>();
  for (let p = 0; p < ring.partitionCount; p++) firsts.add([...ring.handoffs(p)][0].id);
  t.true(firsts.size >= 6, `only ${firsts.size} distinct first handoffs`);
});

test('lookups over a ring built with more replicas than devices repeat devices as evenly as possible', (t) => {
  const ring = ringOf(2, 5, 6);
  for (let p = 0; p < ring.partitionCount; p++) {
    const ids = ring.primaries(p).map((d) => d.id);
    const zeros = ids.filter((id) => id === 0).length;
    t.true(zeros === 2 || zeros === 3);
  }
  t.deepEqual([...ring.handoffs(0)], []);
});

test('the constructor validates everything and names the field', (t) => {
  const good = built({ partPower: 4, replicas: 2, seed: 3, devices: Array.from({ length: 3 }, (_, i) => ({ region: 0, zone: i, host: i, weight: 1 })) }).ringData();
  t.is(new Ring(good).partitionCount, 16);
  const field = (patch: Partial<Record<keyof RingData, unknown>>) => t.throws(() => new Ring({ ...good, ...patch } as RingData), { instanceOf: RingError })?.field;
  t.is(field({ format: 'x' }), 'format');
  t.is(field({ version: 2 }), 'version');
  t.is(field({ partPower: 30 }), 'partPower');
  t.is(field({ replicas: 0 }), 'replicas');
  t.is(field({ seed: 2 ** 32 }), 'seed');
  t.is(field({ devices: 'none' }), 'devices');
  t.is(field({ assignments: [good.assignments[0]] }), 'assignments');
  t.is(field({ assignments: [good.assignments[0].slice(1), good.assignments[1]] }), 'assignments[0]');
  t.is(field({ assignments: [good.assignments[0], [...good.assignments[1].slice(0, 15), 7]] }), 'assignments[1][15]');
  const devices = good.devices.map((d) => (d ? { ...d } : null));
  devices[1] = null;
  t.is(field({ devices }), `assignments[${good.assignments[0].indexOf(1) >= 0 ? 0 : 1}][${(good.assignments[0].indexOf(1) >= 0 ? good.assignments[0] : good.assignments[1]).indexOf(1)}]`);
  const renumbered = good.devices.map((d) => (d ? { ...d } : null));
  (renumbered[2] as Device).id = 5;
  t.is(field({ devices: renumbered }), 'devices[2].id');
  const dup = good.devices.map((d) => (d ? { ...d } : null));
  (dup[2] as Device).device = (dup[1] as Device).device;
  (dup[2] as Device).ip = (dup[1] as Device).ip;
  t.is(field({ devices: dup }), 'devices[2]');
});

test('devices lists live devices; device(id) finds one', (t) => {
  const ring = ringOf(5);
  t.is(ring.devices.length, 5);
  t.is(ring.device(3)?.id, 3);
  t.is(ring.device(99), undefined);
  t.true(Object.isFrozen(ring.devices));
});
