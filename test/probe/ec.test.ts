/**
 * Probe tests of erasure coding through the AWS SDK against an in-process cluster: objects of every shape,
 * ranges across segments, reads with nodes down and with a corrupt archive, writes with nodes down, writes
 * that never committed, and the reconstructor rebuilding a wiped device and handing back parked archives.
 * Each checks placement: which device holds which fragment archive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { CODEC_SCHEME, fragmentArchiveSize } from '../../src/erasure/index.js';
import { formatTimestamp } from '../../src/common/timestamp.js';
import { type TestCluster, withCluster } from '../helpers/cluster.js';
import { hashDir } from '../helpers/placement.js';
import { archiveFiles, archivePlacement, getArchive, nodeOfDevice, putPendingArchive } from './ec-cluster.js';

const policies = [
  { index: 0, name: 'replica-3' },
  { index: 1, name: 'ec-4+2' },
];
const EC = 1;
const MiB = 1024 * 1024;
const ecCluster = (nodes: number) => ({ nodes, policies, defaultPolicy: 'ec-4+2' });
const nameOf = (bucket: string, key: string) => `/root/${bucket}/${key}`;

async function getBody(s3: S3Client, bucket: string, key: string, range?: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Archive i of every object sits, durable, on primary i — and nowhere else. */
function assertPlacement(t: import('ava').ExecutionContext, cluster: TestCluster, name: string): string {
  const { primaries } = archivePlacement(cluster, name, EC);
  const files = archiveFiles(cluster, name, EC);
  const ts = files.get(primaries[0])?.[0]?.slice(0, 17) ?? '';
  t.deepEqual(
    [...files.entries()].sort(),
    primaries.map((d, i) => [d, [`${ts}#${i}#d.data`]] as [string, string[]]).sort(),
    `${name} archives on their primaries`,
  );
  return ts;
}

test(
  'objects of 0, 1, < 1 segment, many segments and odd sizes round-trip; archive i lands on primary i',
  withCluster(ecCluster(6), async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'ecb' }));
    for (const size of [0, 1, 1000, MiB - 1, MiB, MiB + 1, 3 * MiB + 12345]) {
      const key = `obj-${size}`;
      const body = randomBytes(size);
      const put = await s3.send(new PutObjectCommand({ Bucket: 'ecb', Key: key, Body: body }));
      t.is(put.ETag, `"${md5(body)}"`);
      t.true((await getBody(s3, 'ecb', key)).equals(body), key);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'ecb', Key: key }));
      t.is(head.ContentLength, size);
      t.is(head.ETag, `"${md5(body)}"`);
      assertPlacement(t, cluster, nameOf('ecb', key));
      const archive = await getArchive(cluster, archivePlacement(cluster, nameOf('ecb', key), EC).primaries[5], nameOf('ecb', key), EC, 5);
      t.is(archive.body.length, fragmentArchiveSize(size, 4, MiB), 'a parity archive has the archive size');
    }
    // Ranges across segment boundaries read only the segments they need.
    const big = randomBytes(3 * MiB + 12345);
    await s3.send(new PutObjectCommand({ Bucket: 'ecb', Key: 'ranged', Body: big }));
    for (const [start, end] of [[0, 0], [MiB - 5, MiB + 5], [MiB, 2 * MiB - 1], [123, 3 * MiB + 100], [3 * MiB, 3 * MiB + 12344]]) {
      t.true((await getBody(s3, 'ecb', 'ranged', `bytes=${start}-${end}`)).equals(big.subarray(start, end + 1)), `${start}-${end}`);
    }
    t.true((await getBody(s3, 'ecb', 'ranged', 'bytes=-7')).equals(big.subarray(big.length - 7)));
    t.true((await getBody(s3, 'ecb', 'ranged', `bytes=${2 * MiB + 3}-`)).equals(big.subarray(2 * MiB + 3)));
    await t.throwsAsync(getBody(s3, 'ecb', 'ranged', `bytes=${big.length}-`), { name: 'InvalidRange' });
  }),
);

test(
  'GET with m nodes stopped decodes; a corrupt data archive is detected by its node and another archive used',
  withCluster(ecCluster(6), async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'ecb' }));
    const body = randomBytes(2 * MiB + 777);
    await s3.send(new PutObjectCommand({ Bucket: 'ecb', Key: 'k', Body: body }));
    const name = nameOf('ecb', 'k');
    const { primaries, partition } = archivePlacement(cluster, name, EC);

    // Flip one byte in the middle of archive 1 (a data fragment of segment 1).
    const dir = hashDir(cluster, primaries[1], EC, partition, name);
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('#1#d.data'))!);
    const raw = readFileSync(file);
    raw[262144 + 1000] ^= 0x40;
    writeFileSync(file, raw);
    t.true((await getBody(s3, 'ecb', 'k')).equals(body), 'right bytes despite the corrupt archive');
    t.true((await getBody(s3, 'ecb', 'k', `bytes=${MiB}-${MiB + 99}`)).equals(body.subarray(MiB, MiB + 100)));

    // The auditor quarantines the corrupt archive, the reconstructor rebuilds it.
    const node = cluster.nodes[nodeOfDevice(cluster, primaries[1]).index]!;
    t.like(await node.workers.auditor.runOnce(), { quarantined: 1 });
    t.false(archiveFiles(cluster, name, EC).has(primaries[1]));
    t.like(await node.workers.reconstructor.runOnce(), { rebuilt: 1, failures: 0 });
    assertPlacement(t, cluster, name);
    const rebuilt = await getArchive(cluster, primaries[1], name, EC, 1);
    t.is(rebuilt.status, 200);
    const original = raw.subarray(0, fragmentArchiveSize(body.length, 4, MiB));
    original[262144 + 1000] ^= 0x40;
    t.true(rebuilt.body.equals(original), 'the rebuilt archive is the original one, byte for byte');

    // Two data primaries down: decode from parity.
    const down = [nodeOfDevice(cluster, primaries[0]).index, nodeOfDevice(cluster, primaries[2]).index];
    for (const i of down) await cluster.stopNode(i);
    t.true((await getBody(s3, 'ecb', 'k')).equals(body), 'decoded with m nodes down');
    t.true((await getBody(s3, 'ecb', 'k', `bytes=${MiB - 10}-${2 * MiB + 10}`)).equals(body.subarray(MiB - 10, 2 * MiB + 11)));
    for (const i of down) await cluster.startNode(i);
  }),
);

test(
  'PUT with m nodes down succeeds on handoffs (k+1 durable); the handoffs revert their archives to the primaries',
  withCluster(ecCluster(8), async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'ecb' }));
    const name = nameOf('ecb', 'parked');
    const { primaries, handoffs } = archivePlacement(cluster, name, EC);
    const down = [nodeOfDevice(cluster, primaries[1]).index, nodeOfDevice(cluster, primaries[4]).index];
    for (const i of down) await cluster.stopNode(i);
    const body = randomBytes(MiB + 4321);
    await s3.send(new PutObjectCommand({ Bucket: 'ecb', Key: 'parked', Body: body }));
    const files = archiveFiles(cluster, name, EC);
    const parked = handoffs.filter((d) => files.has(d));
    t.is(parked.length, 2, 'two handoffs stand in');
    t.deepEqual(parked.map((d) => files.get(d)![0].replace(/^\d+\.\d+/, '')).sort(), ['#1#d.data', '#4#d.data']);
    t.true((await getBody(s3, 'ecb', 'parked')).equals(body));

    for (const i of down) await cluster.startNode(i);
    for (const device of parked) t.like(await cluster.nodes[nodeOfDevice(cluster, device).index]!.workers.reconstructor.runOnce(), { reverted: 1, failures: 0 });
    assertPlacement(t, cluster, name);
    t.true((await getBody(s3, 'ecb', 'parked')).equals(body));
  }),
);

test(
  'a PUT interrupted before its commit is never served, and the reconstructor removes it after the reclaim age',
  withCluster(ecCluster(6), async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'ecb' }));
    const v1 = randomBytes(5000);
    await s3.send(new PutObjectCommand({ Bucket: 'ecb', Key: 'k', Body: v1 }));
    const name = nameOf('ecb', 'k');
    const { primaries } = archivePlacement(cluster, name, EC);
    const ec = { scheme: CODEC_SCHEME, k: 4, m: 2, segmentSize: MiB, size: 5000 };
    const archive = randomBytes(fragmentArchiveSize(5000, 4, MiB));
    // A newer write reached phase 1 on every node but no commit came.
    const newer = formatTimestamp(BigInt(Date.now() + 60_000) * 1000n);
    for (const [i, d] of primaries.entries()) t.is((await putPendingArchive(cluster, d, name, EC, i, newer, archive, ec)).status, 201);
    t.true((await getBody(s3, 'ecb', 'k')).equals(v1), 'the committed version is served');
    // Another object's write that never committed, older than the reclaim age (7 days).
    const gone = nameOf('ecb', 'never');
    const old = formatTimestamp(BigInt(Date.now() - 8 * 24 * 3600 * 1000) * 1000n);
    for (const [i, d] of archivePlacement(cluster, gone, EC).primaries.entries()) await putPendingArchive(cluster, d, gone, EC, i, old, archive, ec);
    await t.throwsAsync(s3.send(new GetObjectCommand({ Bucket: 'ecb', Key: 'never' })), { name: 'NoSuchKey' });
    let reclaimed = 0;
    for (const node of cluster.nodes) reclaimed += (await node!.workers.reconstructor.runOnce()).pendingReclaimed;
    t.is(reclaimed, 6);
    t.is(archiveFiles(cluster, gone, EC).size, 0);
    t.is(archiveFiles(cluster, name, EC).size, 6, 'the young pending archives stay');
  }),
);

test(
  'the reconstructor rebuilds a wiped device: every archive back on its device with its fragment index',
  withCluster(ecCluster(6), async (t, cluster) => {
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'ecb' }));
    const bodies = new Map<string, Buffer>();
    for (let i = 0; i < 12; i++) {
      const body = randomBytes(i * 150_000 + 1);
      bodies.set(`o${i}`, body);
      await s3.send(new PutObjectCommand({ Bucket: 'ecb', Key: `o${i}`, Body: body }));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: 'ecb', Key: 'o0' }));
    bodies.delete('o0');
    const victim = 2;
    const device = cluster.nodeConfigs[victim].devices[0];
    const before = new Map([...bodies.keys()].map((k) => [k, archiveFiles(cluster, nameOf('ecb', k), EC).get(device)]));
    await cluster.stopNode(victim);
    rmSync(join(cluster.nodeConfigs[victim].devicesDir, device), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(cluster.nodeConfigs[victim].devicesDir, device));
    await cluster.startNode(victim);
    for (const [key, body] of bodies) t.true((await getBody(s3, 'ecb', key)).equals(body), `${key} readable while the device is empty`);

    const stats = await cluster.nodes[victim]!.workers.reconstructor.runOnce();
    t.is(stats.failures, 0);
    t.is(stats.rebuilt, [...before.values()].filter((f) => f !== undefined).length);
    for (const [key, files] of before) {
      const name = nameOf('ecb', key);
      t.deepEqual(archiveFiles(cluster, name, EC).get(device), files, `${key}: the same archive file again`);
      assertPlacement(t, cluster, name);
    }
    t.is(archiveFiles(cluster, nameOf('ecb', 'o0'), EC).get(device)?.[0]?.endsWith('.ts'), true, 'the tombstone came back too');
    t.like(await cluster.nodes[victim]!.workers.reconstructor.runOnce(), { rebuilt: 0, tombstonesPulled: 0, failures: 0 });
  }),
);

test(
  'arca cluster layout: ec-4+2 on the default 4 nodes gets 2 devices per node, archives on 6 distinct devices',
  withCluster({ nodes: 4, policies: [{ index: 0, name: 'ec-4+2' }] }, async (t, cluster) => {
    t.deepEqual(cluster.nodeConfigs.map((c) => c.devices), [['d1', 'd1-2'], ['d2', 'd2-2'], ['d3', 'd3-2'], ['d4', 'd4-2']]);
    const s3 = cluster.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'ecb' }));
    const body = randomBytes(MiB * 2 + 5);
    await s3.send(new PutObjectCommand({ Bucket: 'ecb', Key: 'k', Body: body }));
    t.true((await getBody(s3, 'ecb', 'k')).equals(body));
    const { primaries } = archivePlacement(cluster, nameOf('ecb', 'k'), 0);
    t.is(new Set(primaries).size, 6);
  }),
);
