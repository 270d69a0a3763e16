/**
 * Probe tests of the replicated write path: each object's replicas sit on exactly the devices the ring
 * names; with a primary down, a handoff takes its replica and reads still see the newest write.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { withCluster } from '../helpers/cluster.js';
import { devicesHolding, placementOf } from '../helpers/placement.js';

test(
  'replicas land on the primaries the ring names',
  withCluster({ nodes: 4 }, async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'place' }));
    for (let i = 0; i < 20; i++) {
      const key = `obj-${i}`;
      await s3.send(new PutObjectCommand({ Bucket: 'place', Key: key, Body: `body ${i}` }));
      const name = `/root/place/${key}`;
      t.deepEqual(devicesHolding(cluster, name), [...placementOf(cluster, name).primaries].sort(), key);
    }
  }),
);

test(
  'a primary down: the write goes to a handoff and reads see it, before and after the node returns',
  withCluster({ nodes: 5 }, async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'down' }));
    const key = 'while-down';
    const name = `/root/down/${key}`;
    const { primaries, handoffs } = placementOf(cluster, name);
    const downIndex = cluster.nodeConfigs.findIndex((c) => c.devices.includes(primaries[0]));
    await s3.send(new PutObjectCommand({ Bucket: 'down', Key: key, Body: 'v1' }));
    await cluster.stopNode(downIndex);
    await s3.send(new PutObjectCommand({ Bucket: 'down', Key: key, Body: 'v2' }));
    const holding = devicesHolding(cluster, name);
    t.true(holding.includes(handoffs[0]), `handoff ${handoffs[0]} holds a replica (${holding})`);
    const read = async () => (await (await s3.send(new GetObjectCommand({ Bucket: 'down', Key: key }))).Body!.transformToString());
    t.is(await read(), 'v2');
    await cluster.startNode(downIndex);
    // The returned primary still has v1; a read must still see v2 (R + W > N).
    for (let i = 0; i < 5; i++) t.is(await read(), 'v2');
  }),
);
