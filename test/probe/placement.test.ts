/**
 * Probe tests of the replicated write path: each object's replicas sit on exactly the devices the ring
 * names; with a primary down, a handoff takes its replica and reads see the newest write — once it is back
 * with an older version, reads that ask for the newest (`x-arca-newest`) and, after replication, all reads.
 * With a read affinity, plain reads ask the listed node first. A node that hangs is error-limited, for reads
 * and for writes (replicated and EC).
 */
import { join } from 'node:path';
import { RingSet } from '../../src/common/ring-files.js';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { hangOn, type TestCluster, withCluster } from '../helpers/cluster.js';
import { devicesHolding, placementOf } from '../helpers/placement.js';
import { archiveFiles, archivePlacement } from './ec-cluster.js';

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
    const read = async (newest = false) => {
      const cmd = new GetObjectCommand({ Bucket: 'down', Key: key });
      if (newest) cmd.middlewareStack.add((next) => (args) => next(withHeader(args, 'x-arca-newest', 'true')), { step: 'build' });
      return (await s3.send(cmd)).Body!.transformToString();
    };
    t.is(await read(), 'v2');
    await cluster.startNode(downIndex);
    // The returned first primary still has v1. A plain read asks it alone and serves v1 (the documented
    // trade-off, as Swift's); a read that asks for the newest asks a read quorum and sees v2 (R + W > N).
    t.is(await read(), 'v1');
    for (let i = 0; i < 3; i++) t.is(await read(true), 'v2');
    // Once the replicator has run, plain reads see v2 too.
    for (const node of cluster.nodes) await node?.workers.replicator.runOnce();
    t.is(await read(), 'v2');
  }),
);

test(
  'read affinity: a plain read asks the listed node first among the primaries, and the next when it is down',
  withCluster({ nodes: 4, readAffinity: true }, async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'affinity' }));
    // A key whose first primary in ring order is not the earliest-listed node among its primaries: ring order
    // and affinity pick different devices for it.
    const nodeOf = (device: string) => cluster.nodeConfigs.findIndex((c) => c.devices.includes(device));
    let key = '';
    let preferred = -1;
    for (let i = 0; preferred < 0; i++) {
      const { primaries } = placementOf(cluster, `/root/affinity/k${i}`);
      const nodes = primaries.map(nodeOf);
      if (nodes[0] !== Math.min(...nodes)) [key, preferred] = [`k${i}`, Math.min(...nodes)];
    }
    const read = async () => (await s3.send(new GetObjectCommand({ Bucket: 'affinity', Key: key }))).Body!.transformToString();
    await s3.send(new PutObjectCommand({ Bucket: 'affinity', Key: key, Body: 'v1' }));
    await cluster.stopNode(preferred);
    await s3.send(new PutObjectCommand({ Bucket: 'affinity', Key: key, Body: 'v2' }));
    // Down: the next primary in the affinity's order stands in.
    t.is(await read(), 'v2');
    await cluster.startNode(preferred);
    // Back with v1: a plain read asks it, and only it (the ring's first primary holds v2).
    t.is(await read(), 'v1');
    t.is(await read(), 'v1');
  }),
);

/** Adds a header to an AWS SDK request (a build-step middleware's argument). */
function withHeader<T>(args: T, name: string, value: string): T {
  (args as { request: { headers: Record<string, string> } }).request.headers[name] = value;
  return args;
}

/** The error-limiting interval of the read test below (its wait for the interval to pass follows it). */
const readLimitSec = 8;

test(
  'error limiting: a node that takes connections and answers nothing costs the first reads a timeout each, then none until the interval has passed',
  withCluster(
    // An interval of 8 s, not shorter: failures further apart than the interval start the count again, and CI
    // once saw 4 connections here with 3 s, as a stall of the loaded machine between two of the first reads
    // would give (fail, stall, fail, fail, fail).
    { nodes: 4, readAffinity: true, proxy: { connTimeoutMs: 200, nodeTimeoutMs: 400, errorSuppressionLimit: 2, errorSuppressionIntervalSec: readLimitSec } },
    async (t, cluster) => {
      const s3 = cluster.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'limit' }));
      // Keys with a replica on node 0, which the read affinity asks first.
      const devices = cluster.nodeConfigs[0].devices;
      const keys = keysOn('limit', 16, (name) => placementOf(cluster, name).primaries.some((d) => devices.includes(d)));
      for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'limit', Key: key, Body: `body ${key}` }));
      const read = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: 'limit', Key: key }))).Body!.transformToString();

      await cluster.stopNode(0);
      const hung = await hangOn(cluster.nodeConfigs[0].port);
      try {
        for (const key of keys) t.is(await read(key), `body ${key}`);
        // Each of node 0's devices fails limit + 1 reads, then goes after the other primaries: not asked.
        t.true(hung.connections <= 3 * devices.length, `${hung.connections} connections for ${keys.length} reads: ${hung.seen.join('; ')}`);
        const limited = hung.connections;
        for (const key of keys.slice(0, 4)) t.is(await read(key), `body ${key}`);
        t.is(hung.connections, limited, 'no read asks it while it is limited');
        await new Promise((resolve) => setTimeout(resolve, readLimitSec * 1000 + 100));
        for (const key of keys.slice(0, 4)) t.is(await read(key), `body ${key}`);
        t.true(hung.connections > limited, 'after the interval it is asked again');
      } finally {
        await hung.close();
      }
    },
  ),
);

test(
  'error limiting: writes give the share of a hung primary to a handoff, after the first few at once',
  withCluster(
    { nodes: 5, proxy: { connTimeoutMs: 200, nodeTimeoutMs: 400, errorSuppressionLimit: 2, errorSuppressionIntervalSec: 30 } },
    async (t, cluster) => {
      const s3 = cluster.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'wlimit' }));
      const devices = cluster.nodeConfigs[0].devices;
      const keys = keysOn('wlimit', 20, (name) => placementOf(cluster, name).primaries.some((d) => devices.includes(d)));

      await cluster.stopNode(0);
      const hung = await hangOn(cluster.nodeConfigs[0].port);
      try {
        for (const key of keys.slice(0, 16)) await s3.send(new PutObjectCommand({ Bucket: 'wlimit', Key: key, Body: `body ${key}` }));
        // Each of node 0's devices fails limit + 1 writes, then its share goes to a handoff without asking it.
        t.true(hung.connections <= 3 * devices.length, `${hung.connections} connections for 16 writes: ${hung.seen.join('; ')}`);
        const limited = hung.connections;
        for (const key of keys.slice(16)) await s3.send(new PutObjectCommand({ Bucket: 'wlimit', Key: key, Body: `body ${key}` }));
        await s3.send(new DeleteObjectCommand({ Bucket: 'wlimit', Key: keys[0] }));
        t.is(hung.connections, limited, 'no write asks it while it is limited');
        for (const key of keys.slice(16)) {
          const held = devicesHolding(cluster, `/root/wlimit/${key}`);
          t.is(held.length, 3, `${key}: three replicas`);
          t.false(held.some((d) => devices.includes(d)), `${key}: none on node 0`);
        }
        for (const key of keys.slice(1)) t.is(await (await s3.send(new GetObjectCommand({ Bucket: 'wlimit', Key: key }))).Body!.transformToString(), `body ${key}`);
      } finally {
        await hung.close();
      }
    },
  ),
);

test(
  'error limiting: EC writes give the fragment archive of a hung primary to a handoff, after the first few at once',
  withCluster(
    {
      nodes: 8,
      policies: [
        { index: 0, name: 'replica-3' },
        { index: 1, name: 'ec-4+2' },
      ],
      defaultPolicy: 'ec-4+2',
      // A node timeout of 1.5 s, not 400 ms as in the replicated case. CI twice failed a PUT here with node 0
      // hung: 503 on all three attempts of the fifth PUT, and once (before the listing-read rule of 28ea693)
      // NoSuchBucket. Not reproduced here; the likely cause is that healthy nodes of the eight, encoding and
      // writing archives on a loaded machine, passed 400 ms. With a limit of 2, a node limited that way stays
      // out for the interval, and every retry finds too few devices.
      proxy: { connTimeoutMs: 200, nodeTimeoutMs: 1500, errorSuppressionLimit: 2, errorSuppressionIntervalSec: 30 },
    },
    async (t, cluster) => {
      const s3 = cluster.s3();
      const devices = cluster.nodeConfigs[0].devices;
      // The bucket's listing has no replica on node 0: the nodes' listing updates to a hung replica (which go
      // to async pending after a timeout) would open connections to it as well.
      const bucket = bucketAwayFrom(cluster, 'eclimit', devices);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const keys = keysOn(bucket, 16, (name) => archivePlacement(cluster, name, 1).primaries.some((d) => devices.includes(d)));

      await cluster.stopNode(0);
      const hung = await hangOn(cluster.nodeConfigs[0].port);
      try {
        for (const key of keys.slice(0, 12)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${key}` }));
        // limit + 1 failures per device, and at most one more request already under way when the last of them
        // was counted (CI once saw 4 here).
        t.true(hung.connections <= 4 * devices.length, `${hung.connections} connections for 12 writes: ${hung.seen.join('; ')}`);
        const limited = hung.connections;
        for (const key of keys.slice(12)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${key}` }));
        t.is(hung.connections, limited, 'no write asks it while it is limited');
        for (const key of keys.slice(12)) {
          const held = [...archiveFiles(cluster, `/root/${bucket}/${key}`, 1).keys()];
          t.is(held.length, 6, `${key}: six fragment archives`);
          t.false(held.some((d) => devices.includes(d)), `${key}: none on node 0`);
        }
        // Reads while it is limited: they do not ask it, and decode from the other archives.
        const once = cluster.s3({ maxAttempts: 1 });
        for (const key of keys) t.is(await (await once.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString(), `body ${key}`);
        const missing = keysOn(bucket, 17, (name) => archivePlacement(cluster, name, 1).primaries.slice(0, 4).some((d) => devices.includes(d)))[16];
        await t.throwsAsync(once.send(new GetObjectCommand({ Bucket: bucket, Key: missing })), { name: 'NoSuchKey' });
        t.is(hung.connections, limited, 'no read asks it while it is limited');
      } finally {
        await hung.close();
      }
      // Read back with node 0 down (refusing connections): every read succeeds.
      for (const key of keys) t.is(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString(), `body ${key}`);
    },
  ),
);

test(
  'error limiting on the nodes: listing updates to a hung listing replica stop after the first few, and the writes go on',
  withCluster({ nodes: 5, node: { listingUpdateTimeoutMs: 300, errorSuppressionLimit: 2, errorSuppressionIntervalSec: 30 } }, async (t, cluster) => {
    const s3 = cluster.s3();
    const devices = cluster.nodeConfigs[0].devices;
    // A bucket with a listing replica on node 0, and objects with no replica there: only listing updates reach it.
    const bucket = bucketAwayFrom(cluster, 'listlimit', devices, true);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const keys = keysOn(bucket, 30, (name) => !placementOf(cluster, name).primaries.some((d) => devices.includes(d)));
    await cluster.stopNode(0);
    const hung = await hangOn(cluster.nodeConfigs[0].port);
    try {
      for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${key}` }));
      // Each write's row for that replica goes from one of the object's nodes (as Swift shares out container
      // updates): each of the four other nodes fails limit + 1 updates to it, a connection each, then sends none.
      t.true(hung.connections <= 4 * 3, `${hung.connections} connections for ${keys.length} writes: ${hung.seen.join('; ')}`);
      for (const key of keys) t.is(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString(), `body ${key}`);
    } finally {
      await hung.close();
    }
  }),
);

/** The first of `<prefix>0`, `<prefix>1`, … whose listing has (`on`) or has not a replica on `devices`. */
function bucketAwayFrom(cluster: TestCluster, prefix: string, devices: readonly string[], on = false): string {
  const ring = new RingSet(join(cluster.dir, 'rings'), [0]).container;
  for (let i = 0; ; i++) {
    const bucket = `${prefix}${i}`;
    if (ring.primaries(ring.partition(`/root/${bucket}`)).some((d) => devices.includes(d.device)) === on) return bucket;
  }
}

/** The first `count` keys `k0`, `k1`, … of `bucket` whose object name `/root/<bucket>/<key>` passes `wanted`. */
function keysOn(bucket: string, count: number, wanted: (name: string) => boolean): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (wanted(`/root/${bucket}/k${i}`)) keys.push(`k${i}`);
  return keys;
}
