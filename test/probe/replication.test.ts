/**
 * Probe tests of object replication: real nodes, real disks, real rings. Each writes to chosen devices
 * directly (a node that was down missed the write), runs replicator passes, and checks which device holds
 * which file.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { ReplicationClient } from '../../storage-nodes/replication-client.js';
import { tsAgo, withRepairCluster } from './repair-cluster.js';

const name = (k: string) => `/AUTH_probe/bucket/${k}`;

test(
  'a primary that missed a write gets the same .data from the others',
  withRepairCluster({}, async (t, c) => {
    const obj = name('missed');
    const { primaries, handoffs } = c.placement(obj);
    const body = randomBytes(100_000);
    const ts = tsAgo(10);
    for (const dev of primaries.slice(0, 2)) t.is((await c.put(dev, obj, body, ts)).status, 201);
    t.deepEqual(await c.files(primaries[2], obj), []);

    const stats = await c.nodeOf(primaries[0]).node!.workers.replicator.runOnce();
    t.like(stats, { dataPushed: 1, failures: 0 });
    t.deepEqual(await c.files(primaries[2], obj), [`${ts}.data`]);
    t.deepEqual(await c.readVersion(primaries[2], obj, `${ts}.data`), await c.readVersion(primaries[0], obj, `${ts}.data`), 'byte for byte');
    for (const dev of handoffs) t.deepEqual(await c.files(dev, obj), [], `nothing on handoff ${dev.device}`);

    // Converged: another pass pushes nothing.
    const again = await c.replicateAll();
    t.like(again, { dataPushed: 0, tombstonesPushed: 0, suffixesSynced: 0, failures: 0 });
  }),
);

test(
  'an object held by a handoff goes to every primary and then leaves the handoff, not before',
  withRepairCluster({ nodes: 5 }, async (t, c) => {
    const obj = name('parked');
    const { partition, primaries, handoffs } = c.placement(obj);
    const handoff = handoffs[0];
    const body = randomBytes(5000);
    const ts = tsAgo(5);
    t.is((await c.put(handoff, obj, body, ts)).status, 201);

    // One primary is down: the others get the object, the handoff keeps its copy.
    const down = c.nodeOf(primaries[2]).index;
    await c.stopNode(down);
    const first = await c.nodeOf(handoff).node!.workers.replicator.runOnce();
    t.like(first, { handoffPartitions: 1, dataPushed: 2, reverted: 0 });
    t.deepEqual(await c.files(primaries[0], obj), [`${ts}.data`]);
    t.deepEqual(await c.files(primaries[1], obj), [`${ts}.data`]);
    t.deepEqual(await c.files(handoff, obj), [`${ts}.data`], 'kept while a primary has not acknowledged it');

    await c.startNode(down);
    const second = await c.nodeOf(handoff).node!.workers.replicator.runOnce();
    t.like(second, { dataPushed: 1, reverted: 1, partitionsRemoved: 1 });
    for (const dev of primaries) t.deepEqual(await c.files(dev, obj), [`${ts}.data`]);
    t.deepEqual(await c.files(handoff, obj), []);
    const objectsDir = join(c.nodeOf(handoff).config.devicesDir, handoff.device, 'objects');
    t.false((await readdir(objectsDir)).includes(String(partition)), 'the handoff partition dir is gone');
  }),
);

test(
  'a tombstone beats older data and the deleted object is not resurrected; newer data beats a tombstone',
  withRepairCluster({}, async (t, c) => {
    const deleted = name('deleted');
    const rewritten = name('rewritten');
    const p = c.placement(deleted).primaries;
    const q = c.placement(rewritten).primaries;
    const [t1, t2, t3] = [tsAgo(30), tsAgo(20), tsAgo(10)];
    for (const dev of p) await c.put(dev, deleted, Buffer.from('v1'), t1);
    // The third primary was down for the delete.
    for (const dev of p.slice(0, 2)) t.is((await c.del(dev, deleted, t2)).status, 204);
    // Of the other object, one primary has a newer write than everybody else's delete.
    for (const dev of q) await c.put(dev, rewritten, Buffer.from('v1'), t1);
    for (const dev of q.slice(0, 2)) await c.del(dev, rewritten, t2);
    await c.put(q[2], rewritten, Buffer.from('v3'), t3);

    // The stale node runs first: its older data must not overwrite the tombstones.
    await c.nodeOf(p[2]).node!.workers.replicator.runOnce();
    await c.replicateAll();
    for (const dev of p) t.deepEqual(await c.files(dev, deleted), [`${t2}.ts`], `tombstone on ${dev.device}`);
    for (const dev of q) t.deepEqual(await c.files(dev, rewritten), [`${t3}.data`], `newest data on ${dev.device}`);
    for (const dev of q) t.deepEqual((await c.readVersion(dev, rewritten, `${t3}.data`)).subarray(0, 2), Buffer.from('v3'));
    t.like(await c.replicateAll(), { dataPushed: 0, tombstonesPushed: 0, suffixesSynced: 0 });
  }),
);

test(
  'tombstones past the reclaim age are removed once every primary has them, and not while one is down',
  withRepairCluster({ reclaimAgeSec: 3600 }, async (t, c) => {
    const old = name('old-delete');
    const recent = name('recent-delete');
    const p = c.placement(old).primaries;
    const r = c.placement(recent).primaries;
    for (const dev of p) await c.put(dev, old, Buffer.from('x'), tsAgo(3 * 3600));
    // Only the first primary saw the delete, two hours ago: older than the reclaim age.
    await c.del(p[0], old, tsAgo(2 * 3600));
    for (const dev of r) await c.del(dev, recent, tsAgo(60));

    // A primary is down: the tombstone goes to the one that is up, and stays everywhere.
    const down = c.nodeOf(p[2]).index;
    await c.stopNode(down);
    const first = await c.nodeOf(p[0]).node!.workers.replicator.runOnce();
    t.is(first.reclaimed, 0);
    t.is((await c.files(p[0], old)).length, 1);
    t.true((await c.files(p[1], old))[0].endsWith('.ts'));
    await c.startNode(down);

    // Everyone back: the stale primary gets the tombstone (its data is older), then all reclaim it.
    let reclaimed = 0;
    for (let pass = 0; pass < 3; pass++) reclaimed += (await c.replicateAll()).reclaimed;
    t.true(reclaimed >= 3, `${reclaimed} reclaimed`);
    for (const dev of p) t.deepEqual(await c.files(dev, old), [], `nothing left of the old object on ${dev.device}`);
    for (const dev of r) t.is((await c.files(dev, recent)).length, 1, 'a recent tombstone stays');
    t.like(await c.replicateAll(), { dataPushed: 0, tombstonesPushed: 0 });
  }),
);

test(
  "a full pass over converged partitions pushes nothing, comparing them with the hashes the peers' change answers carry; the next asks each peer device once",
  withRepairCluster({}, async (t, c) => {
    for (let i = 0; i < 40; i++) {
      const obj = name(`k${i}`);
      const ts = tsAgo(5);
      for (const dev of c.placement(obj).primaries) await c.put(dev, obj, Buffer.from(String(i)), ts);
    }
    const stats = await c.replicateAll();
    t.like(stats, { fullPass: 4, dataPushed: 0, tombstonesPushed: 0, suffixesSynced: 0, handoffPartitions: 0, failures: 0, unchangedPartitions: 0 });
    t.true(stats.primaryPartitions > 0);
    t.is(stats.changeRequests, 4 * 3, 'each node asks each of its three peer devices what changed');
    t.is(stats.requests, stats.changeRequests, "and nothing per partition: every partition changed since the peers started, so their answers carry its hashes");

    // Nothing changed anywhere: no partition is compared.
    const idle = await c.replicateAll();
    t.like(idle, { fullPass: 0, unchangedPartitions: stats.primaryPartitions, requests: 4 * 3, failures: 0 });

    // A write two primaries took: only its partition is compared (by the nodes that changed, and by the third
    // once its peers report the change), and the third primary gets it.
    const obj = name('late');
    const { primaries } = c.placement(obj);
    const ts = tsAgo(1);
    for (const dev of primaries.slice(0, 2)) await c.put(dev, obj, Buffer.from('late'), ts);
    const after = await c.replicateAll();
    t.like(after, { dataPushed: 1, failures: 0 });
    t.true(after.unchangedPartitions >= stats.primaryPartitions - 3, `${after.unchangedPartitions} of ${stats.primaryPartitions} left alone`);
    t.deepEqual(await c.files(primaries[2], obj), [`${ts}.data`]);
    await c.replicateAll();
    t.like(await c.replicateAll(), { unchangedPartitions: stats.primaryPartitions, requests: 4 * 3 });
  }),
);

// Serial: it wraps ReplicationClient.prototype.changes, which every node of this process shares.
test.serial(
  "a write every replica took after the peers' change answers is not synced: the pass asks those peers again",
  withRepairCluster({}, async (t, c) => {
    for (let i = 0; i < 10; i++) {
      const obj = name(`k${i}`);
      for (const dev of c.placement(obj).primaries) await c.put(dev, obj, Buffer.from(String(i)), tsAgo(5));
    }
    await c.replicateAll();
    await c.replicateAll();

    // A write before the pass: the peers' change answers report its partition, with their hashes then. Once
    // every answer is in, a newer version lands on all three primaries (as a proxy's PUT does while a pass
    // runs): the hashes the pass got from the answers predate it.
    const obj = name('during');
    const { primaries } = c.placement(obj);
    for (const dev of primaries) await c.put(dev, obj, Buffer.from('before'), tsAgo(2));
    const ts = tsAgo(1);
    const original = ReplicationClient.prototype.changes;
    let started = 0;
    let answered = 0;
    let write: Promise<unknown> | undefined;
    ReplicationClient.prototype.changes = async function (this: ReplicationClient, ...args: Parameters<typeof original>) {
      started++;
      const answer = await original.apply(this, args);
      if (++answered === started) write ??= Promise.all(primaries.map((dev) => c.put(dev, obj, Buffer.from('during'), ts)));
      await write;
      return answer;
    };
    try {
      const stats = await c.nodeOf(primaries[0]).node!.workers.replicator.runOnce();
      t.truthy(write, 'the write happened during the pass');
      t.like(stats, { suffixesSynced: 0, dataPushed: 0, failures: 0 });
      t.is(stats.requests, stats.changeRequests + 2, 'one hashes request to each of the two other primaries');
    } finally {
      ReplicationClient.prototype.changes = original;
    }
    for (const dev of primaries) t.deepEqual(await c.files(dev, obj), [`${ts}.data`]);
  }),
);

test(
  "files lost behind a node's back are restored when the node restarts (a new epoch), or by the periodic full pass",
  withRepairCluster({ fullPassIntervalSec: 3 }, async (t, c) => {
    const obj1 = name('lost-1');
    const obj2 = [2, 3, 4, 5, 6, 7, 8].map((i) => name(`lost-${i}`)).find((o) => c.placement(o).partition !== c.placement(obj1).partition)!;
    t.not(c.placement(obj1).partition, c.placement(obj2).partition);
    const ts = tsAgo(5);
    for (const obj of [obj1, obj2]) for (const dev of c.placement(obj).primaries) await c.put(dev, obj, Buffer.from(obj), ts);
    t.like(await c.replicateAll(), { fullPass: 4, dataPushed: 0 });

    // The disk loses a hash dir and the partition's hashes.json; the node does not know (no write went through
    // it, and it holds the hashes in memory): no pass sees it.
    const victim = c.placement(obj1).primaries[2];
    await rm(c.hashDir(victim, obj1), { recursive: true });
    await rm(join(c.hashDir(victim, obj1), '..', '..', 'hashes.json'));
    t.like(await c.replicateAll(), { dataPushed: 0 });
    t.deepEqual(await c.files(victim, obj1), []);

    // It restarts: its peers see a new epoch and compare everything with it.
    await c.stopNode(c.nodeOf(victim).index);
    await c.startNode(c.nodeOf(victim).index);
    t.like(await c.replicateAll(), { dataPushed: 1, failures: 0 });
    t.deepEqual(await c.files(victim, obj1), [`${ts}.data`]);

    // A whole partition dir lost, with no restart: the node no longer lists it, so nothing reports it changed
    // until a full pass compares every partition.
    const { partition, primaries } = c.placement(obj2);
    const victim2 = primaries[0];
    await rm(join(c.hashDir(victim2, obj2), '..', '..'), { recursive: true });
    t.deepEqual(await c.files(victim2, obj2, partition), []);
    const cheap = await c.replicateAll();
    // (On a slow machine the passes before may have taken longer than the interval: then some were full.)
    if (cheap.fullPass === 0) t.is(cheap.dataPushed, 0, 'not seen by a cheap pass');
    await new Promise((r) => setTimeout(r, 3100));
    const full = await c.replicateAll();
    t.is(full.fullPass, 4);
    t.is(cheap.dataPushed + full.dataPushed, 1);
    t.deepEqual(await c.files(victim2, obj2, partition), [`${ts}.data`]);
  }),
);

test(
  'a primary whose disk is gone (507) is stood in for by a handoff, which gives the data back once the disk returns',
  withRepairCluster({ nodes: 5 }, async (t, c) => {
    const obj = name('failed-disk');
    const { primaries, handoffs } = c.placement(obj);
    const ts = tsAgo(10);
    for (const dev of primaries.slice(0, 2)) await c.put(dev, obj, Buffer.from('precious'), ts);
    const failed = primaries[2];
    const devPath = join(c.nodeOf(failed).config.devicesDir, failed.device);
    await rename(devPath, `${devPath}.unmounted`);
    await c.nodeOf(primaries[0]).node!.workers.replicator.runOnce();
    t.deepEqual(await c.files(handoffs[0], obj), [`${ts}.data`], 'the first handoff stands in');

    await rename(`${devPath}.unmounted`, devPath);
    await c.nodeOf(handoffs[0]).node!.workers.replicator.runOnce();
    t.deepEqual(await c.files(failed, obj), [`${ts}.data`], 'back on its primary');
    t.deepEqual(await c.files(handoffs[0], obj), [], 'and gone from the handoff');
  }),
);

test(
  'a node down during writes and deletes comes back: it gets the new objects, keeps no deleted one, and the handoffs empty',
  withRepairCluster({ nodes: 5 }, async (t, c) => {
    // Objects whose primaries include node 1's device.
    const down = c.nodes[0];
    const mine = Array.from({ length: 200 }, (_, i) => name(`n${i}`)).filter((n) => c.placement(n).primaries.some((d) => d.port === down.config.port));
    const [created, deleted] = [mine.slice(0, 4), mine.slice(4, 8)];
    const old = tsAgo(100);
    for (const obj of deleted) for (const dev of c.placement(obj).primaries) await c.put(dev, obj, Buffer.from('old'), old);
    await c.stopNode(down.index);
    // What a proxy does with a primary down: the other primaries and the first handoff take the write.
    const stand = (obj: string) => [...c.placement(obj).primaries.filter((d) => d.port !== down.config.port), c.placement(obj).handoffs.find((d) => d.port !== down.config.port)!];
    const now = tsAgo(10);
    for (const obj of created) for (const dev of stand(obj)) t.is((await c.put(dev, obj, Buffer.from(`new ${obj}`), now)).status, 201);
    for (const obj of deleted) for (const dev of stand(obj)) t.true([204, 404].includes((await c.del(dev, obj, now)).status));

    await c.startNode(down.index);
    // The returning node runs first: its stale data must not win anywhere.
    await down.node!.workers.replicator.runOnce();
    await c.replicateAll();
    await c.replicateAll();
    for (const obj of created) {
      const holders = await c.holders(obj);
      t.deepEqual([...holders.keys()].sort(), c.placement(obj).primaries.map((d) => d.device).sort(), `${obj} only on its primaries`);
      for (const files of holders.values()) t.deepEqual(files, [`${now}.data`]);
    }
    for (const obj of deleted) {
      const holders = await c.holders(obj);
      t.deepEqual([...holders.keys()].sort(), c.placement(obj).primaries.map((d) => d.device).sort());
      for (const files of holders.values()) t.deepEqual(files, [`${now}.ts`], `${obj} stays deleted`);
    }
  }),
);
