import test from 'ava';
import fc from 'fast-check';
import { type BuilderData, RingBuilder, RingError } from '../../../ring/index.js';
import { built, type ClusterSpec, clusterSpec, deviceOf, deviceSpec, offBalance, partsPerDevice, settle, undispersed } from './model.js';

const runs = (n: number) => ({ numRuns: n });

/** Fails the property with a message (fast-check predicates return booleans). */
function expect(ok: boolean, message: string): true {
  if (!ok) throw new Error(message);
  return true;
}

test('first build: every partition is spread over regions, then zones, hosts and devices as widely as the devices allow', (t) => {
  fc.assert(
    fc.property(clusterSpec(), (spec) => {
      const b = built(spec);
      const data = b.toJSON();
      return undispersed(data).length === 0 && b.stats().dispersion === 0;
    }),
    runs(120),
  );
  t.pass();
});

test('first build: every device is within one partition-replica of its weighted share, as far as dispersion allows', (t) => {
  fc.assert(
    fc.property(clusterSpec(), (spec) => {
      const off = offBalance(built(spec).toJSON());
      return expect(off.length === 0, `off balance (id, parts, share): ${JSON.stringify(off)}`);
    }),
    runs(120),
  );
  // Where dispersion does not interfere (one host), shares are plain weight shares.
  fc.assert(
    fc.property(fc.array(fc.constantFrom(1, 2, 3), { minLength: 3, maxLength: 12 }), fc.nat(), (weights, seed) => {
      const b = RingBuilder.create({ partPower: 10, replicas: 3, minPartHours: 1, seed });
      weights.forEach((w, i) => {
        b.addDevice({ region: 0, zone: 0, ip: '10.0.0.1', port: 6000, device: `sd${i}`, weight: w });
      });
      const total = weights.reduce((a, w) => a + w, 0);
      // No device would need more than one replica of every partition: dispersion does not bind.
      fc.pre(Math.max(...weights) * 3 <= total);
      const r = b.rebalance({ nowHours: 1 });
      return r.devices.every((d) => Math.abs(d.parts - (3 * 1024 * weights[d.id]) / total) < 1);
    }),
    runs(60),
  );
  t.pass();
});

test('the same inputs give the same ring, including every tie-break (seeded, no Math.random)', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 10 }), deviceSpec(), (spec, extra) => {
      const once = () => {
        const b = built(spec);
        b.addDevice(deviceOf(extra, 99));
        b.rebalance({ nowHours: 2000 });
        return JSON.stringify(b.toJSON());
      };
      const first = once();
      return first === once();
    }),
    runs(40),
  );
  const a = built({ partPower: 8, replicas: 3, seed: 1, devices: Array.from({ length: 6 }, (_, i) => ({ region: 0, zone: i % 3, host: i, weight: 1 })) });
  const b = built({ partPower: 8, replicas: 3, seed: 2, devices: Array.from({ length: 6 }, (_, i) => ({ region: 0, zone: i % 3, host: i, weight: 1 })) });
  t.notDeepEqual(a.toJSON().assignments, b.toJSON().assignments, 'the seed drives tie-breaks');
});

/**
 * Moves of one change compared with minimumMoves over many random clusters. minimumMoves is a lower bound
 * on what any rebalance needs (lower-bound.ts), so this also bounds the distance from the true minimum.
 */
function moveRatios(change: 'add' | 'remove', cases: Array<[ClusterSpec, number, number]>): Array<[number, number]> {
  const ratios: Array<[number, number]> = [];
  for (const [spec, pick, hourGap] of cases) {
    const b = built(spec);
    const hour = settle(b, 1000);
    const live = b.devices.filter((d) => d !== null);
    if (change === 'add') b.addDevice(deviceOf(spec.devices[pick % spec.devices.length], 50));
    else {
      if (live.length < 2) continue;
      b.removeDevice(live[pick % live.length].id);
    }
    const r = b.rebalance({ nowHours: hour + b.minPartHours + hourGap });
    ratios.push([r.moved, r.minimumMoves]);
  }
  return ratios;
}

for (const change of ['add', 'remove'] as const) {
  test(`${change === 'add' ? 'adding' : 'removing'} a device moves at most 5% more partition-replicas than the minimum`, (t) => {
    const cases = fc.sample(fc.tuple(clusterSpec({ maxPartPower: 10, minDevices: 2 }), fc.nat(), fc.nat({ max: 5 })), 250);
    const ratios = moveRatios(change, cases);
    const within = ratios.filter(([moved, min]) => moved <= Math.floor(min * 1.05)).length;
    const worst = ratios.reduce((w, [moved, min]) => (moved - min > w[0] - w[1] ? [moved, min] : w), [0, 0]);
    t.log(`${within}/${ratios.length} within 5% of minimumMoves; most extra: ${worst[0]} moved for minimum ${worst[1]}`);
    // The first rebalance after a change is capped at minimumMoves × 1.05; only replicas that must leave a
    // removed device can push it over, rarely and by a few (see docs/ring.md).
    t.true(within >= ratios.length * 0.98, `only ${within}/${ratios.length} within 5%`);
    for (const [moved, min] of ratios) t.true(moved <= min * 1.25 + 2, `moved ${moved} for minimum ${min}`);
  });
}

test('minimumMoves is a true lower bound: a rebalance that reaches every target moves at least that many', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 9, minDevices: 2 }), deviceSpec(), fc.boolean(), (spec, extra, add) => {
      const b = built(spec);
      const hour = settle(b, 1000);
      if (add) b.addDevice(deviceOf(extra, 77));
      else b.setWeight(0, spec.devices[0].weight * 2);
      // Uncapped rebalance (no device change pending), so it goes all the way when it can.
      const json = b.toJSON();
      const free = RingBuilder.fromJSON({ ...json, devicesChanged: false });
      const r = free.rebalance({ nowHours: hour + 10 });
      const exact = offBalance(free.toJSON()).length === 0 && undispersed(free.toJSON()).length === 0;
      return expect(!exact || r.moved >= r.minimumMoves, `moved ${r.moved} < minimum ${r.minimumMoves}`);
    }),
    runs(60),
  );
  t.pass();
});

/** One step of a random history: a change, then a rebalance some hours later. */
type Step = { op: 'add' | 'remove' | 'weight' | 'none'; pick: number; weight: number; dev: ReturnType<typeof deviceSpec> extends fc.Arbitrary<infer D> ? D : never; hours: number };
const step = fc.record({
  op: fc.constantFrom('add', 'remove', 'weight', 'none') as fc.Arbitrary<Step['op']>,
  pick: fc.nat(),
  weight: fc.constantFrom(0, 0.5, 1, 2, 5),
  dev: deviceSpec(),
  hours: fc.integer({ min: 0, max: 7 }),
});

test('within minPartHours at most one replica of a partition moves, unless the device it sits on is removed', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 9 }), fc.integer({ min: 1, max: 4 }), fc.array(step, { minLength: 1, maxLength: 8 }), (spec, mph, steps) => {
      const b = built(spec, mph);
      let hour = 1000;
      const P = 2 ** spec.partPower;
      const lastMove = new Array<number>(P).fill(hour);
      let before = b.toJSON();
      for (const s of steps) {
        const live = b.devices.filter((d) => d !== null);
        const removed = new Set<number>();
        if (s.op === 'add') b.addDevice(deviceOf(s.dev, 100 + before.devices.length));
        else if (s.op === 'remove' && live.length > 1 && live.filter((d) => d.weight > 0).length > 1) {
          const id = live[s.pick % live.length].id;
          if (live.some((d) => d.id !== id && d.weight > 0)) {
            b.removeDevice(id);
            removed.add(id);
          }
        } else if (s.op === 'weight' && live.length > 0) {
          const dev = live[s.pick % live.length];
          if (s.weight > 0 || live.some((d) => d.id !== dev.id && d.weight > 0)) b.setWeight(dev.id, s.weight);
        }
        hour += s.hours;
        b.rebalance({ nowHours: hour });
        const after = b.toJSON();
        for (let p = 0; p < P; p++) {
          let free = 0;
          let forced = 0;
          for (let r = 0; r < spec.replicas; r++) {
            const was = (before.assignments as number[][])[r][p];
            if (was === (after.assignments as number[][])[r][p]) continue;
            if (removed.has(was)) forced++;
            else free++;
          }
          expect(free <= 1, `partition ${p}: ${free} replicas moved in one rebalance`);
          expect(free === 0 || hour - lastMove[p] >= mph, `partition ${p} moved at ${hour}, last at ${lastMove[p]}, minPartHours ${mph}`);
          if (free + forced > 0) lastMove[p] = hour;
        }
        before = after;
      }
      return true;
    }),
    runs(80),
  );
  t.pass();
});

test('a removed device gives up all its partitions at the next rebalance, even within minPartHours, and leaves the table', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 9, minDevices: 2 }), fc.nat(), (spec, pick) => {
      const b = built(spec, 24);
      const live = b.devices.filter((d) => d !== null);
      const id = live[pick % live.length].id;
      if (!live.some((d) => d.id !== id && d.weight > 0)) return true;
      b.removeDevice(id);
      b.rebalance({ nowHours: 1001 }); // one hour later: everything else is still locked
      const data = b.toJSON();
      return data.devices[id] === null && !partsPerDevice(data).has(id);
    }),
    runs(80),
  );
  t.pass();
});

test('after any change, further rebalances reach full dispersion and one-partition balance', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 9, minDevices: 2 }), step, (spec, s) => {
      const b = built(spec);
      let hour = settle(b, 1000);
      const live = b.devices.filter((d) => d !== null);
      if (s.op === 'add') b.addDevice(deviceOf(s.dev, 100));
      else if (s.op === 'remove') b.removeDevice(live[s.pick % live.length].id);
      else if (s.op === 'weight') b.setWeight(live[s.pick % live.length].id, s.weight);
      if (!b.devices.some((d) => d !== null && d.weight > 0 && !b.pendingRemoval.includes(d.id))) return true;
      hour = settle(b, hour, 12);
      const data = b.toJSON();
      const off = offBalance(data);
      const bad = undispersed(data);
      return expect(off.length === 0 && bad.length === 0, `off balance ${JSON.stringify(off)}, undispersed ${bad.length}`);
    }),
    runs(80),
  );
  t.pass();
});

test('a dry run changes nothing and predicts the real rebalance', (t) => {
  fc.assert(
    fc.property(clusterSpec({ maxPartPower: 9 }), deviceSpec(), (spec, extra) => {
      const b = built(spec);
      b.addDevice(deviceOf(extra, 60));
      const before = JSON.stringify(b.toJSON());
      const dry = b.rebalance({ nowHours: 1010, dryRun: true });
      expect(JSON.stringify(b.toJSON()) === before, 'dry run changed the builder');
      const real = b.rebalance({ nowHours: 1010 });
      return JSON.stringify(dry) === JSON.stringify(real);
    }),
    runs(40),
  );
  t.pass();
});

test('more replicas than devices: several replicas share a device only as much as unavoidable', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 9 }), fc.nat(), (devices, replicas, seed) => {
      fc.pre(replicas > devices);
      const b = RingBuilder.create({ partPower: 7, replicas, minPartHours: 1, seed });
      for (let i = 0; i < devices; i++) b.addDevice({ region: 0, zone: i, ip: `10.0.0.${i}`, port: 6000, device: 'sdb', weight: 1 });
      b.rebalance({ nowHours: 1 });
      const data = b.toJSON();
      const most = Math.ceil(replicas / devices);
      for (let p = 0; p < 128; p++) {
        const count = new Map<number, number>();
        for (const row of data.assignments as number[][]) count.set(row[p], (count.get(row[p]) ?? 0) + 1);
        if (count.size !== devices || Math.max(...count.values()) > most || Math.min(...count.values()) < Math.floor(replicas / devices)) return false;
      }
      return true;
    }),
    runs(60),
  );
  t.pass();
});

test('weight 0 drains a device gradually; zero-weight devices receive nothing', (t) => {
  const spec: ClusterSpec = { partPower: 8, replicas: 3, seed: 5, devices: Array.from({ length: 6 }, (_, i) => ({ region: 0, zone: i % 3, host: i, weight: 1 })) };
  const b = built(spec);
  b.setWeight(0, 0);
  const first = b.rebalance({ nowHours: 1002 });
  t.true(first.moved > 0);
  settle(b, 1002);
  t.false(partsPerDevice(b.toJSON()).has(0));
  t.is(b.devices[0]?.weight, 0, 'still in the table, with weight 0');
});

test('a first build and a rebalance with nothing to do', (t) => {
  const b = built({ partPower: 6, replicas: 3, seed: 9, devices: Array.from({ length: 4 }, (_, i) => ({ region: 1, zone: i, host: 0, weight: 1 })) });
  const r = b.rebalance({ nowHours: 5000 });
  t.is(r.moved, 0);
  t.is(r.minimumMoves, 0);
  t.is(r.dispersion, 0);
  t.is(r.devices.length, 4);
  t.deepEqual(new Set(r.devices.map((d) => d.parts)), new Set([48]));
});

test('ringData() before the first rebalance, and rebalance without devices, are errors naming the field', (t) => {
  const b = RingBuilder.create({ partPower: 4, replicas: 3, minPartHours: 1, seed: 1 });
  t.is(t.throws(() => b.ringData(), { instanceOf: RingError })?.field, 'assignments');
  t.is(t.throws(() => b.rebalance({ nowHours: 1 }), { instanceOf: RingError })?.field, 'devices');
  b.addDevice({ region: 0, zone: 0, ip: '10.0.0.1', port: 6000, device: 'sdb', weight: 0 });
  t.is(t.throws(() => b.rebalance({ nowHours: 1 }), { instanceOf: RingError })?.field, 'devices');
});

test('device edits are checked', (t) => {
  const b = RingBuilder.create({ partPower: 4, replicas: 3, minPartHours: 1, seed: 1 });
  const dev = { region: 0, zone: 0, ip: '10.0.0.1', port: 6000, device: 'sdb', weight: 1 };
  t.is(b.addDevice(dev).id, 0);
  t.is(t.throws(() => b.addDevice(dev), { instanceOf: RingError })?.field, 'device');
  t.is(t.throws(() => b.addDevice({ ...dev, device: 'sdc', weight: -1 }), { instanceOf: RingError })?.field, 'device.weight');
  t.is(t.throws(() => b.addDevice({ ...dev, device: 'sdc', port: 70000 }), { instanceOf: RingError })?.field, 'device.port');
  t.is(t.throws(() => b.addDevice({ ...dev, device: 'sdc', id: 0 }), { instanceOf: RingError })?.field, 'id');
  t.is(b.addDevice({ ...dev, device: 'sdc', id: 5 }).id, 5);
  t.is(b.addDevice({ ...dev, device: 'sdd' }).id, 6, 'ids are never reused');
  t.is(t.throws(() => b.setWeight(3, 1), { instanceOf: RingError })?.field, 'devices[3]');
  t.is(t.throws(() => b.setWeight(0, Number.NaN), { instanceOf: RingError })?.field, 'weight');
  t.is(t.throws(() => b.removeDevice(42), { instanceOf: RingError })?.field, 'devices[42]');
  b.removeDevice(0);
  t.is(t.throws(() => b.setWeight(0, 2), { instanceOf: RingError })?.field, 'devices[0]');
  t.is(t.throws(() => RingBuilder.create({ partPower: 40, replicas: 3, minPartHours: 1, seed: 1 }), { instanceOf: RingError })?.field, 'partPower');
  t.is(t.throws(() => RingBuilder.create({ partPower: 4, replicas: 0, minPartHours: 1, seed: 1 }), { instanceOf: RingError })?.field, 'replicas');
  t.is(t.throws(() => RingBuilder.create({ partPower: 4, replicas: 3, minPartHours: 1, seed: -1 }), { instanceOf: RingError })?.field, 'seed');
});

test('builder JSON round-trips, and corrupt builder data names the field', (t) => {
  const b = built({ partPower: 6, replicas: 2, seed: 3, devices: Array.from({ length: 3 }, (_, i) => ({ region: 0, zone: i, host: i, weight: 1 })) });
  b.removeDevice(2);
  const json = b.toJSON();
  t.deepEqual(RingBuilder.fromJSON(JSON.parse(JSON.stringify(json))).toJSON(), json);
  const bad = (patch: Partial<Record<keyof BuilderData, unknown>>) =>
    t.throws(() => RingBuilder.fromJSON({ ...json, ...patch } as BuilderData), { instanceOf: RingError })?.field;
  t.is(bad({ format: 'arca-ring' }), 'format');
  t.is(bad({ version: 2 }), 'version');
  t.is(bad({ minPartHours: -1 }), 'minPartHours');
  t.is(bad({ lastMoved: [1, 2] }), 'lastMoved');
  t.is(bad({ removing: [7] }), 'removing[0]');
  t.is(bad({ assignments: [json.assignments?.[0] ?? []] }), 'assignments');
  t.is(bad({ assignments: [[...(json.assignments?.[0] ?? [])].fill(9), json.assignments?.[1]] }), 'assignments[0][0]');
  const devices = json.devices.map((d) => (d ? { ...d } : null));
  (devices[1] as { weight: unknown }).weight = 'heavy';
  t.is(bad({ devices }), 'devices[1].weight');
});
