/**
 * Fault test 5 (real processes): the node holding one replica of a bucket's listing is SIGKILLed while
 * objects are created, overwritten and deleted; listings through the proxy stay right meanwhile (the other
 * replicas answer). Once it returns and the updaters and listing replicators have run, every replica of the
 * listing — read straight from each node — holds exactly the live objects, with the same counts, and so does
 * ListObjectsV2.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { account, checkListings, checkObjects, checkPlacement, createBucket, del, listingReplicaRows, Model, put, s3Client, withLogs } from './faults-common.js';
import { ProcessCluster } from './process-cluster.js';

test('a listing replica down during writes: every replica converges to the exact set of objects once it returns', async (t) => {
  const cluster = await ProcessCluster.start({ nodes: 4 });
  const s3 = s3Client(cluster);
  try {
    await withLogs(t, cluster, async () => {
      await createBucket(s3, 'lst');
      const model = new Model();
      for (let i = 0; i < 40; i++) {
        const body = randomBytes(i * 37);
        t.true((await put(s3, 'lst', `before/${i}`, body)).ok);
        model.set('lst', `before/${i}`, 0, body);
      }
      const ring = cluster.rings().container;
      const replica = ring.primaries(ring.partition(`/${account}/lst`))[0];
      const down = cluster.nodeConfigs.findIndex((c) => c.port === replica.port);
      await cluster.killNode(down);

      for (let i = 0; i < 60; i++) {
        const body = randomBytes(i * 53 + 1);
        const r = await put(s3, 'lst', `during/${i}`, body);
        t.true(r.ok, r.error);
        model.set('lst', `during/${i}`, 0, body);
      }
      for (let i = 0; i < 15; i++) {
        t.true((await del(s3, 'lst', `before/${i}`)).ok);
        model.set('lst', `before/${i}`, 0, undefined);
      }
      for (let i = 15; i < 25; i++) {
        const body = randomBytes(99);
        t.true((await put(s3, 'lst', `before/${i}`, body)).ok);
        model.set('lst', `before/${i}`, 0, body);
      }
      const meanwhile = await listingReplicaRows(cluster, 'lst').catch(() => undefined);
      t.is(meanwhile, undefined, 'the downed replica does not answer');
      await checkListings(t, s3, model, ['lst'], 'with a listing replica down');

      await cluster.startNode(down);
      const stale = (await listingReplicaRows(cluster, 'lst')).get(replica.device);
      t.notDeepEqual(stale, model.live('lst'), 'the returning replica is behind');
      await cluster.runEverywhere('updater');
      await cluster.runEverywhere('listingReplicator');
      await cluster.runEverywhere('replicator');
      await cluster.runEverywhere('listingReplicator');

      for (const [device, rows] of await listingReplicaRows(cluster, 'lst')) t.deepEqual(rows, model.live('lst'), `replica on ${device}`);
      const heads = await Promise.all(
        ring.primaries(ring.partition(`/${account}/lst`)).map(async (dev) => {
          const res = await fetch(`http://${dev.ip}:${dev.port}/l/${dev.device}/${ring.partition(`/${account}/lst`)}/${account}/lst`, { method: 'HEAD' });
          const info = JSON.parse(Buffer.from(res.headers.get('x-backend-listing-info') ?? '', 'base64url').toString());
          return { objectCount: info.objectCount, bytesUsed: info.bytesUsed };
        }),
      );
      const live = [...model.objects.values()].filter((w) => w.body);
      for (const h of heads) t.deepEqual(h, { objectCount: live.length, bytesUsed: live.reduce((n, w) => n + w.body!.length, 0) }, 'the same counts on every replica');
      await checkListings(t, s3, model, ['lst'], 'after repair');
      await checkObjects(t, s3, model, 'after repair');
      checkPlacement(t, cluster, model, 'after repair');
    });
  } finally {
    s3.destroy();
    await cluster.close();
  }
});
