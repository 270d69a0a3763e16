/**
 * Swift-style expiry through S3 (`X-Delete-After` / `X-Delete-At` on PutObject): past its time the object is
 * no longer served, and the storage nodes' expirer removes it and its listing row. Not in versioned buckets.
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { devicesHolding } from '../helpers/placement.js';
import { rawRequest } from '../helpers/raw.js';

let cluster: TestCluster;
let s3: S3Client;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
});
test.after.always(async () => cluster?.close());

test('X-Delete-After: not served once due, then removed by the expirer with its listing row', async (t) => {
  const Bucket = 'expiring';
  await s3.send(new CreateBucketCommand({ Bucket }));
  const put = await rawRequest(cluster, 'PUT', `/${Bucket}/soon`, { 'x-delete-after': '1' }, 'short-lived');
  t.is(put.status, 200);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'stays', Body: 'x' }));
  t.is(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'soon' }))).Body?.transformToString(), 'short-lived');
  await new Promise((r) => setTimeout(r, 1100));
  const gone = await rawRequest(cluster, 'GET', `/${Bucket}/soon`);
  t.is(gone.status, 404);
  let expired = 0;
  for (const node of cluster.nodes) expired += (await node!.workers.expirer.runOnce()).expired;
  t.is(expired, 3);
  const account = (await cluster.proxy.store.getBucket(Bucket))!.account;
  t.deepEqual(devicesHolding(cluster, `/${account}/${Bucket}/soon`), []);
  t.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((c) => c.Key), ['stays']);
});

test('expiry headers: bad values and versioned buckets are refused, nothing stored', async (t) => {
  const Bucket = 'expiring-bad';
  await s3.send(new CreateBucketCommand({ Bucket }));
  t.is((await rawRequest(cluster, 'PUT', `/${Bucket}/a`, { 'x-delete-at': 'soon' }, 'x')).status, 400);
  t.is((await rawRequest(cluster, 'PUT', `/${Bucket}/a`, { 'x-delete-at': '1000' }, 'x')).status, 400);
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const refused = await rawRequest(cluster, 'PUT', `/${Bucket}/a`, { 'x-delete-after': '60' }, 'x');
  t.is(refused.status, 400);
  t.regex(refused.body, /<Code>InvalidRequest<\/Code>/);
  t.is((await rawRequest(cluster, 'GET', `/${Bucket}/a`)).status, 404);
});
