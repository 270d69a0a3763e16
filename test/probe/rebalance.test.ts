/**
 * Probe test of a ring change: a node joins, the rings are rebalanced and written, and the replicators move
 * every partition to its new primaries — checking after every single pass that no object ever has fewer
 * copies than either its old or its new primaries hold, i.e. old copies go only once the new ones are there.
 */
import test from 'ava';
import type { Device } from '../../ring/index.js';
import { type RepairCluster, tsAgo, withRepairCluster } from './repair-cluster.js';

const names = Array.from({ length: 60 }, (_, i) => `/AUTH_probe/bucket/object-${i}`);

async function holdersOf(c: RepairCluster, name: string, ts: string): Promise<Set<string>> {
  const held = new Set<string>();
  for (const [device, files] of await c.holders(name)) if (files.includes(`${ts}.data`)) held.add(device);
  return held;
}

const devicesOf = (devs: Device[]) => new Set(devs.map((d) => d.device));
const covers = (held: Set<string>, want: Set<string>) => [...want].every((d) => held.has(d));

test(
  'after a node joins and the ring is rebalanced, partitions move to their new primaries and old copies go only after',
  withRepairCluster({ nodes: 4, partPower: 6 }, async (t, c) => {
    const ts = new Map<string, string>();
    for (const name of names) {
      const stamp = tsAgo(60);
      ts.set(name, stamp);
      for (const dev of c.placement(name).primaries) t.is((await c.put(dev, name, Buffer.from(name), stamp)).status, 201);
    }
    const before = new Map(names.map((n) => [n, devicesOf(c.placement(n).primaries)]));

    await c.addNode();
    await c.rebalance();
    const after = new Map(names.map((n) => [n, devicesOf(c.placement(n).primaries)]));
    const moving = names.filter((n) => !covers(after.get(n)!, before.get(n)!));
    t.true(moving.length > 5, `${moving.length} objects change primaries`);

    let settled = false;
    for (let round = 0; round < 5 && !settled; round++) {
      let work = 0;
      for (const n of c.nodes) {
        const s = await n.node!.workers.replicator.runOnce();
        work += s.dataPushed + s.tombstonesPushed + s.reverted + s.partitionsRemoved;
        t.is(s.failures, 0);
        // The invariant, after every pass of every node.
        for (const name of moving) {
          const held = await holdersOf(c, name, ts.get(name)!);
          t.true(covers(held, before.get(name)!) || covers(held, after.get(name)!), `${name} held by ${[...held]} (round ${round}, node ${n.index + 1})`);
        }
      }
      settled = work === 0;
    }
    t.true(settled, 'replication settles');
    for (const name of names) {
      const held = await holdersOf(c, name, ts.get(name)!);
      t.deepEqual([...held].sort(), [...after.get(name)!].sort(), `${name} sits exactly on its new primaries`);
    }
    t.true((await c.replicateAll()).handoffPartitions === 0, 'no partition left out of place');
  }),
);
