/**
 * Probe tests of metadata updates (`.meta` files) under replication: a primary that missed a POST gets the
 * `.meta` from the others, and a handoff holding data and `.meta` hands both over before it lets go.
 */
import test from 'ava';
import { decodeHeaderJson, type ObjectMeta, objectPath } from '../../src/common/wire.js';
import { request } from '../unit/storage-nodes/node-fixture.js';
import { tsAgo, withRepairCluster } from './repair-cluster.js';

const name = (k: string) => `/AUTH_probe/bucket/${k}`;

test(
  'a primary that missed a metadata update gets the .meta from the others; the data is not pushed again',
  withRepairCluster({}, async (t, c) => {
    const obj = name('tagged');
    const { primaries, partition } = c.placement(obj);
    const [t1, t2, t3] = [tsAgo(30), tsAgo(20), tsAgo(10)];
    for (const dev of primaries) t.is((await c.put(dev, obj, Buffer.from('body'), t1)).status, 201);
    for (const dev of primaries.slice(0, 2)) t.is((await c.post(dev, obj, { tags: { a: '1' } }, t2)).status, 202);
    // The first primary also got a later patch the second missed.
    t.is((await c.post(primaries[0], obj, { acl: 'public' }, t3)).status, 202);

    const stats = await c.replicateAll();
    t.like(stats, { dataPushed: 0, failures: 0 });
    t.true(stats.metasPushed >= 2);
    for (const dev of primaries) t.deepEqual(await c.files(dev, obj), [`${t1}.data`, `${t3}.meta`], dev.device);
    for (const dev of primaries) {
      const head = await request(dev.port, 'HEAD', objectPath(dev.device, partition, 'AUTH_probe', 'bucket', 'tagged'));
      t.like(decodeHeaderJson<ObjectMeta>(head.headers['x-backend-meta']), { ts: t1, tags: { a: '1' }, acl: 'public' }, dev.device);
      t.is(head.headers['x-backend-meta-timestamp'], t3);
    }
    t.like(await c.replicateAll(), { dataPushed: 0, metasPushed: 0, suffixesSynced: 0 });
  }),
);

test(
  'a handoff holding data and a .meta pushes both to every primary before removing them',
  withRepairCluster({ nodes: 5 }, async (t, c) => {
    const obj = name('parked-meta');
    const { primaries, handoffs } = c.placement(obj);
    const [t1, t2] = [tsAgo(20), tsAgo(10)];
    t.is((await c.put(handoffs[0], obj, Buffer.from('parked'), t1)).status, 201);
    t.is((await c.post(handoffs[0], obj, { tags: { k: 'v' } }, t2)).status, 202);
    const stats = await c.nodeOf(handoffs[0]).node!.workers.replicator.runOnce();
    t.like(stats, { dataPushed: 3, metasPushed: 3, reverted: 1 });
    for (const dev of primaries) t.deepEqual(await c.files(dev, obj), [`${t1}.data`, `${t2}.meta`]);
    t.deepEqual(await c.files(handoffs[0], obj), []);
  }),
);
