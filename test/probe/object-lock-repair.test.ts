/**
 * Probe tests of object lock under repair: the lock is metadata on every replica, so a primary that missed
 * a retention gets it from the others with the `.meta`, and from then on refuses a delete on its own; a
 * handoff's sync tombstone cannot remove a locked version from the primaries either.
 */
import test from 'ava';
import { objectPath } from '../../src/common/wire.js';
import { request } from '../unit/storage-nodes/node-fixture.js';
import { tsAgo, withRepairCluster } from './repair-cluster.js';

const name = (k: string) => `/AUTH_probe/bucket+versions/${k}`;
const retention = () => ({ mode: 'COMPLIANCE', retainUntil: Date.now() + 3600_000 });

test(
  'a primary that missed a retention gets it from replication and then refuses a delete by itself',
  withRepairCluster({}, async (t, c) => {
    const obj = name('k\u00000123456789abcdef0123');
    const { primaries, partition } = c.placement(obj);
    const [t1, t2, t3] = [tsAgo(30), tsAgo(20), tsAgo(10)];
    for (const dev of primaries) t.is((await c.put(dev, obj, Buffer.from('backup'), t1)).status, 201);
    // Two of three primaries took the retention (the third was away).
    for (const dev of primaries.slice(0, 2)) t.is((await c.post(dev, obj, { retention: retention() }, t2)).status, 202);
    const stats = await c.replicateAll();
    t.true(stats.metasPushed >= 1);
    const [, account, bucket, ...key] = obj.split('/');
    for (const dev of primaries) {
      const res = await request(dev.port, 'DELETE', objectPath(dev.device, partition, account, bucket, key.join('/')), {
        headers: { 'x-backend-timestamp': t3, 'x-backend-bypass-governance': '1' },
      });
      t.is(res.status, 423, dev.device);
      t.deepEqual(await c.files(dev, obj), [`${t1}.data`, `${t2}.meta`], dev.device);
    }
  }),
);

test(
  'a tombstone parked on a handoff cannot remove a locked version from the primaries',
  withRepairCluster({ nodes: 5 }, async (t, c) => {
    const obj = name('k\u0000fedcba98765432100123');
    const { primaries, handoffs } = c.placement(obj);
    const [t1, t2] = [tsAgo(30), tsAgo(10)];
    for (const dev of primaries) {
      t.is((await c.put(dev, obj, Buffer.from('held'), t1)).status, 201);
      t.is((await c.post(dev, obj, { legalHold: true }, tsAgo(25))).status, 202);
    }
    t.is((await c.del(handoffs[0], obj, t2)).status, 404);
    await c.nodeOf(handoffs[0]).node!.workers.replicator.runOnce();
    for (const dev of primaries) t.true((await c.files(dev, obj)).some((f) => f.endsWith('.data')), dev.device);
  }),
);
