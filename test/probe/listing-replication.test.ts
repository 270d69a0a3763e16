/**
 * Probe tests of listing replication: rows, metadata and deletes that reached only some replicas converge
 * everywhere; a listing parked on a handoff goes home and leaves; deleted rows past the reclaim age are
 * reclaimed once every replica merged them.
 */
import test from 'ava';
import type { Device } from '../../ring/index.js';
import { type RepairCluster, tsAgo, withRepairCluster } from './repair-cluster.js';

const account = 'AUTH_probe';

function containerPlacement(c: RepairCluster, bucket: string): { partition: number; primaries: Device[]; handoffs: Device[] } {
  const ring = c.ring('container');
  const partition = ring.partition(`/${account}/${bucket}`);
  return { partition, primaries: ring.primaries(partition), handoffs: [...ring.handoffs(partition)] };
}

async function runListingReplicators(c: RepairCluster): Promise<Record<string, number>> {
  const sum: Record<string, number> = {};
  for (const n of c.nodes) {
    if (!n.node) continue;
    for (const [k, v] of Object.entries(await n.node.workers.listingReplicator.runOnce())) sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}

test(
  'rows, metadata and deletes written to one replica each converge on every replica',
  withRepairCluster({}, async (t, c) => {
    const { primaries } = containerPlacement(c, 'photos');
    const created = tsAgo(100);
    for (const dev of primaries) t.is((await c.listing(dev, 'PUT', account, 'photos', { body: { ts: created } })).status, 201);
    const [t1, t2, t3] = [tsAgo(50), tsAgo(40), tsAgo(30)];
    await c.listing(primaries[0], 'POST', account, 'photos', { query: '?rows', body: { rows: [{ name: 'a.jpg', ts: t1, size: 10 }, { name: 'b.jpg', ts: t1, size: 20 }] } });
    await c.listing(primaries[1], 'POST', account, 'photos', { query: '?rows', body: { rows: [{ name: 'c.jpg', ts: t2, size: 30 }, { name: 'a.jpg', ts: t3, deleted: true }] } });
    await c.listing(primaries[2], 'POST', account, 'photos', { body: { ts: t2, meta: { owner: 'me' } } });
    // The account listing (another ring) learns of the bucket on one replica only.
    const ar = c.ring('account');
    const accountPrimaries = ar.primaries(ar.partition(`/${account}`));
    for (const dev of accountPrimaries) await c.listing(dev, 'PUT', account, undefined, { body: { ts: created } });
    await c.listing(accountPrimaries[0], 'POST', account, undefined, { query: '?rows', body: { rows: [{ name: 'photos', ts: created }] } });

    const first = await runListingReplicators(c);
    t.true(first.rowsPushed > 0);
    t.is(first.failures, 0);
    await runListingReplicators(c);
    for (const dev of primaries) {
      t.deepEqual(await c.rowNames(dev, account, 'photos'), ['b.jpg', 'c.jpg'], `rows on ${dev.device}`);
      const head = await c.listing(dev, 'HEAD', account, 'photos');
      const info = JSON.parse(Buffer.from(String(head.headers['x-backend-listing-info']), 'base64url').toString());
      t.like(info, { objectCount: 2, bytesUsed: 50, meta: { owner: 'me' } });
    }
    for (const dev of accountPrimaries) {
      const page = JSON.parse((await c.listing(dev, 'GET', account, undefined)).body.toString());
      t.deepEqual(page.entries.map((e: { name: string }) => e.name), ['photos'], `account listing on ${dev.device}`);
    }
    // Converged: a pass only asks, and sends no rows.
    const idle = await runListingReplicators(c);
    t.like(idle, { rowsPushed: 0, batchesPushed: 0, failures: 0 });
    // Each replica asks its two peers once per partition and ring: one small request per peer.
    t.is(idle.requests, 2 * (idle.primaryPartitions + idle.handoffPartitions));
  }),
);

test(
  'rows that reached every replica, in any order, are not sent again: the replicas compare digests first',
  withRepairCluster({}, async (t, c) => {
    const { primaries } = containerPlacement(c, 'direct');
    const created = tsAgo(100);
    for (const dev of primaries) t.is((await c.listing(dev, 'PUT', account, 'direct', { body: { ts: created } })).status, 201);
    const rows = Array.from({ length: 50 }, (_, i) => ({ name: `k${i}`, ts: tsAgo(60 - i), size: i }));
    // Each replica gets every row, as the listing updates of 50 PUTs bring them: in its own order and batches.
    for (const [i, dev] of primaries.entries()) {
      const order = i === 0 ? rows : i === 1 ? [...rows].reverse() : [...rows.slice(25), ...rows.slice(0, 25)];
      for (let j = 0; j < order.length; j += 10) await c.listing(dev, 'POST', account, 'direct', { query: '?rows', body: { rows: order.slice(j, j + 10) } });
    }
    const pass = await runListingReplicators(c);
    t.like(pass, { rowsPushed: 0, batchesPushed: 0, failures: 0 });
    // One row that reached one replica only is sent, with what came before it on that replica.
    await c.listing(primaries[0], 'POST', account, 'direct', { query: '?rows', body: { rows: [{ name: 'late', ts: tsAgo(5), size: 1 }] } });
    const next = await runListingReplicators(c);
    t.true(next.rowsPushed >= 2, `${next.rowsPushed} rows pushed`);
    for (const dev of primaries) t.true((await c.rowNames(dev, account, 'direct'))?.includes('late') === true, `late on ${dev.device}`);
    t.like(await runListingReplicators(c), { rowsPushed: 0, batchesPushed: 0 });
  }),
);

test(
  'a push stops once the peer has caught up by other means: digests are compared again between batches',
  withRepairCluster({}, async (t, c) => {
    const { primaries } = containerPlacement(c, 'caught');
    const created = tsAgo(100);
    for (const dev of primaries) t.is((await c.listing(dev, 'PUT', account, 'caught', { body: { ts: created } })).status, 201);
    const rows = Array.from({ length: 2500 }, (_, i) => ({ name: `k${String(i).padStart(4, '0')}`, ts: tsAgo(60, i), size: 1 }));
    const post = async (dev: Device, some: typeof rows) => {
      for (let j = 0; j < some.length; j += 500) await c.listing(dev, 'POST', account, 'caught', { query: '?rows', body: { rows: some.slice(j, j + 500) } });
    };
    // Replica 0 holds every row, replica 2 too; replica 1 lacks the first 1,000, exactly the first batch of
    // replica 0's changes: after that batch the two are the same, and the rest is not sent.
    await post(primaries[0], rows);
    await post(primaries[1], rows.slice(1000));
    await post(primaries[2], rows);
    const first = c.nodes.find((n) => n.config.port === primaries[0].port)!;
    const pass = await first.node!.workers.listingReplicator.runOnce();
    t.like(pass, { batchesPushed: 1, rowsPushed: 1000, failures: 0 });
    t.is((await c.rowNames(primaries[1], account, 'caught'))?.length, 2500);
  }),
);

test(
  'a listing that only a handoff holds goes to its primaries and then leaves the handoff',
  withRepairCluster({ nodes: 5 }, async (t, c) => {
    const { partition, primaries, handoffs } = containerPlacement(c, 'parked');
    const handoff = handoffs[0];
    const ts = tsAgo(20);
    t.is((await c.listing(handoff, 'PUT', account, 'parked', { body: { ts } })).status, 201);
    await c.listing(handoff, 'POST', account, 'parked', { query: '?rows', body: { rows: [{ name: 'x', ts }, { name: 'y', ts }] } });

    const stats = await c.nodeOf(handoff).node!.workers.listingReplicator.runOnce();
    t.like(stats, { removed: 1, failures: 0 });
    for (const dev of primaries) t.deepEqual(await c.rowNames(dev, account, 'parked'), ['x', 'y'], `on primary ${dev.device}`);
    t.is((await c.listing(handoff, 'HEAD', account, 'parked')).status, 404);
    t.is(await c.nodeOf(handoff).node!.listings.info({ device: handoff.device, partition, account, bucket: 'parked' }), undefined);
  }),
);

test(
  'deleted rows past the reclaim age are reclaimed once every replica merged them, and never come back',
  withRepairCluster({ reclaimAgeSec: 3600 }, async (t, c) => {
    const { partition, primaries } = containerPlacement(c, 'trash');
    const created = tsAgo(5 * 3600);
    for (const dev of primaries) await c.listing(dev, 'PUT', account, 'trash', { body: { ts: created } });
    // One replica still lists an object that another deleted two hours ago (past the reclaim age).
    await c.listing(primaries[2], 'POST', account, 'trash', { query: '?rows', body: { rows: [{ name: 'was-live', ts: tsAgo(3 * 3600), size: 5 }] } });
    await c.listing(primaries[0], 'POST', account, 'trash', {
      query: '?rows',
      body: {
        rows: [
          { name: 'gone-long-ago', ts: tsAgo(2 * 3600), deleted: true },
          { name: 'was-live', ts: tsAgo(2 * 3600), deleted: true },
          { name: 'gone-now', ts: tsAgo(60), deleted: true },
          { name: 'kept', ts: tsAgo(4 * 3600) },
        ],
      },
    });
    const deadRows = async (dev: Device) => {
      const changes = await c.nodeOf(dev).node!.listings.changesSince({ device: dev.device, partition, account, bucket: 'trash' }, 0, 100);
      return changes!.rows.filter((r) => r.deleted).map((r) => r.name).sort();
    };
    let reclaimed = 0;
    for (let pass = 0; pass < 3; pass++) reclaimed += (await runListingReplicators(c)).reclaimed;
    t.true(reclaimed >= 2, `${reclaimed} reclaimed`);
    for (const dev of primaries) {
      t.deepEqual(await deadRows(dev), ['gone-now'], `deleted rows on ${dev.device}`);
      t.deepEqual(await c.rowNames(dev, account, 'trash'), ['kept'], `the old delete still removed the row everywhere (${dev.device})`);
    }
    t.like(await runListingReplicators(c), { rowsPushed: 0, reclaimed: 0 });
  }),
);
