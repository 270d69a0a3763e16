/**
 * Fault test 3 (real processes): a storage node is SIGKILLed, objects are written, overwritten and deleted
 * while it is down (replicated and erasure-coded buckets), then it comes back with its stale data. Its own
 * replicator and reconstructor run first — stale data must not win — then every node's: the returning node
 * holds the new objects and no deleted one, the handoffs are empty, every object reads back byte for byte and
 * sits on exactly its primaries, and listings show exactly the live objects.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { checkConverged, checkObjects, createBucket, del, Model, put, replicaAndEc, s3Client, withLogs } from './faults-common.js';
import { ProcessCluster } from './process-cluster.js';

const buckets = [
  { bucket: 'rep', policy: 'replica-3', policyIndex: 0 },
  { bucket: 'ecb', policy: 'ec-4+2', policyIndex: 1 },
];

test('a node down during writes and deletes gets the new objects and keeps no deleted one once it returns', async (t) => {
  const cluster = await ProcessCluster.start({
    nodes: 4,
    policies: replicaAndEc,
  });
  const s3 = s3Client(cluster);
  try {
    await withLogs(t, cluster, async () => {
      const model = new Model();
      for (const b of buckets) await createBucket(s3, b.bucket, b.policy);
      const size = (i: number) => [0, 1, 900, 70_000, 1_300_000][i % 5];
      for (const b of buckets) {
        for (let i = 0; i < 30; i++) {
          const body = randomBytes(size(i));
          t.true((await put(s3, b.bucket, `old-${i}`, body)).ok);
          model.set(b.bucket, `old-${i}`, b.policyIndex, body);
        }
      }

      const down = 1;
      await cluster.killNode(down);
      for (const b of buckets) {
        for (let i = 0; i < 30; i++) {
          const body = randomBytes(size(i + 2));
          const r = await put(s3, b.bucket, `new-${i}`, body);
          t.true(r.ok, `new-${i}: ${r.error}`);
          model.set(b.bucket, `new-${i}`, b.policyIndex, body);
        }
        for (let i = 0; i < 10; i++) {
          const r = await del(s3, b.bucket, `old-${i}`);
          t.true(r.ok, `delete old-${i}: ${r.error}`);
          model.set(b.bucket, `old-${i}`, b.policyIndex, undefined);
        }
        for (let i = 10; i < 20; i++) {
          const body = randomBytes(size(i + 1));
          t.true((await put(s3, b.bucket, `old-${i}`, body)).ok);
          model.set(b.bucket, `old-${i}`, b.policyIndex, body);
        }
      }
      await checkObjects(t, s3, model, 'with the node down');

      await cluster.startNode(down);
      // The returning node goes first: whatever it pushes, its stale versions must not win anywhere.
      await cluster.runWorker(down, 'replicator');
      await cluster.runWorker(down, 'reconstructor');
      await cluster.repair(2);

      await checkConverged(t, cluster, s3, model, buckets.map((b) => b.bucket), 'after repair');
      const again = await cluster.runEverywhere('replicator');
      t.like(again, { dataPushed: 0, tombstonesPushed: 0, failures: 0 }, 'nothing left to push');
    });
  } finally {
    s3.destroy();
    await cluster.close();
  }
});
