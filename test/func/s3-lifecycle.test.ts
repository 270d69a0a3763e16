/**
 * Lifecycle configuration through the AWS SDK (and its bad input), and the lifecycle worker run directly
 * with a clock moved forward: expiration of current versions, noncurrent versions, expired delete markers,
 * incomplete uploads, transitions between storage policies (replica ↔ EC) in place, and locked versions
 * left alone. The tests run one at a time: every pass sweeps every bucket.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type LifecycleRule,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { LifecycleWorker } from '../../src/s3/lifecycle-worker.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { devicesHolding } from '../helpers/placement.js';

let cluster: TestCluster;
let s3: S3Client;
const day = 24 * 3600 * 1000;

test.before(async () => {
  cluster = await startCluster({ nodes: 6, policies: [{ index: 0, name: 'replica-3' }, { index: 1, name: 'ec-4+2' }] });
  s3 = cluster.s3();
});
test.after.always(async () => cluster?.close());

async function failure(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected a failure');
}

/** One lifecycle pass as if it ran `ahead` ms from now. */
function pass(ahead: number) {
  return new LifecycleWorker({ store: cluster.proxy.store, opsPerSec: 0, log: () => {}, now: () => Date.now() + ahead }).runOnce();
}

async function setRules(Bucket: string, Rules: LifecycleRule[]): Promise<void> {
  await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
}

test.serial('configuration round trip, and bad input refused with nothing changed', async (t) => {
  const Bucket = 'lc-config';
  await s3.send(new CreateBucketCommand({ Bucket }));
  t.is((await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })))).name, 'NoSuchLifecycleConfiguration');
  const rules: LifecycleRule[] = [
    { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
    { ID: 'old', Status: 'Enabled', Filter: { And: { Prefix: 'v/', Tags: [{ Key: 'k', Value: 'v' }] } }, NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 } },
    { ID: 'mpu', Status: 'Disabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
    { ID: 'cold', Status: 'Enabled', Filter: { Prefix: 'cold/' }, Transitions: [{ Days: 10, StorageClass: 'ec-4+2' as never }] },
  ];
  await setRules(Bucket, rules);
  const got = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules!;
  t.deepEqual(got.map((r) => [r.ID, r.Status]), [['logs', 'Enabled'], ['old', 'Enabled'], ['mpu', 'Disabled'], ['cold', 'Enabled']]);
  t.is(got[0].Expiration?.Days, 30);
  t.deepEqual(got[1].Filter?.And?.Tags, [{ Key: 'k', Value: 'v' }]);
  t.is(got[1].NoncurrentVersionExpiration?.NewerNoncurrentVersions, 2);
  t.is(got[3].Transitions?.[0]?.StorageClass as string, 'ec-4+2');

  const bad: Array<[LifecycleRule[], string]> = [
    [[], 'MalformedXML'],
    [[{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 0 } }], 'InvalidArgument'],
    [[{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Date: new Date('2030-01-01T12:00:00Z') } }], 'InvalidArgument'],
    [[{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }, { ID: 'x', Status: 'Enabled', Filter: { Prefix: 'a' }, Expiration: { Days: 2 } }], 'InvalidArgument'],
    [[{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' } }], 'InvalidRequest'],
    [[{ ID: 'x', Status: 'On' as 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }], 'MalformedXML'],
    [[{ ID: 'x', Status: 'Enabled', Filter: { Prefix: '' }, Transitions: [{ Days: 1, StorageClass: 'DEEP_FREEZE' as never }] }], 'InvalidStorageClass'],
  ];
  for (const [Rules, code] of bad) {
    t.is((await failure(setRules(Bucket, Rules))).name, code, JSON.stringify(Rules));
  }
  t.is((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules?.length, 4);
  await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
  t.is((await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })))).name, 'NoSuchLifecycleConfiguration');
});

test.serial('expiration by prefix and tag, incomplete uploads aborted', async (t) => {
  const Bucket = 'lc-expire';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'logs/a', Body: 'a' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'tmp/b', Body: 'b', Tagging: 'kind=scratch' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'tmp/c', Body: 'c' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'keep', Body: 'k' }));
  await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big' }));
  await setRules(Bucket, [
    { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 1 } },
    { ID: 'scratch', Status: 'Enabled', Filter: { Tag: { Key: 'kind', Value: 'scratch' } }, Expiration: { Days: 1 } },
    { ID: 'mpu', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
  ]);
  const early = await pass(0);
  t.is(early.expired, 0);
  const done = await pass(2 * day);
  t.is(done.expired, 2);
  t.is(done.uploadsAborted, 1);
  t.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((c) => c.Key), ['keep', 'tmp/c']);
  t.is((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads, undefined);
});

test.serial('noncurrent versions expire keeping the newest; lone delete markers go; locked versions stay', async (t) => {
  const Bucket = 'lc-versions';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await s3.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: `v${i}` }))).VersionId!);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'gone', Body: 'x' }));
  const gone = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'gone' }));
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone', VersionId: gone.Versions![0].VersionId }));
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone' })); // a marker with no version left
  await setRules(Bucket, [
    { ID: 'nc', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
    { ID: 'dm', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true } },
  ]);
  const done = await pass(2 * day);
  t.is(done.noncurrentRemoved, 2);
  t.is(done.markersRemoved, 1);
  const left = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  t.deepEqual(left.Versions?.map((v) => v.VersionId), [ids[3], ids[2]]);
  t.is(left.DeleteMarkers, undefined);

  // In an object lock bucket the same rule skips versions still under retention.
  const Locked = 'lc-locked';
  await s3.send(new CreateBucketCommand({ Bucket: Locked, ObjectLockEnabledForBucket: true }));
  const until = new Date(Date.now() + day);
  for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({ Bucket: Locked, Key: 'doc', Body: `v${i}`, ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
  await setRules(Locked, [{ ID: 'nc', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Expiration: { Days: 1 } }]);
  const locked = await pass(3 * day);
  // The expiration made a delete marker first, so all three versions were noncurrent, and all are locked.
  t.is(locked.lockedSkipped, 3);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: Locked }));
  t.is(versions.Versions?.length, 3);
  // Expiration of the current version only hid it behind a delete marker.
  t.is(versions.DeleteMarkers?.length, 1);
});

test.serial('a transition moves the bytes to the EC policy in place: same ETag, same Last-Modified, reads and deletes follow', async (t) => {
  const Bucket = 'lc-transition';
  await s3.send(new CreateBucketCommand({ Bucket }));
  const body = randomBytes(300_000);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/blob', Body: body }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'hot/blob', Body: 'hot' }));
  const before = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/blob' }));
  const listedBefore = (await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.[0]?.LastModified?.getTime();
  await setRules(Bucket, [{ ID: 'cold', Status: 'Enabled', Filter: { Prefix: 'cold/' }, Transitions: [{ Days: 1, StorageClass: 'ec-4+2' as never }] }]);
  const done = await pass(2 * day);
  t.is(done.transitioned, 1);
  const account = (await cluster.proxy.store.getBucket(Bucket))!.account;
  // The bytes are fragment archives under policy 1 now; under policy 0 only the small mark is left.
  t.is(devicesHolding(cluster, `/${account}/${Bucket}/cold/blob`, 1).length, 6);
  const after = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/blob' }));
  t.is(after.ETag, before.ETag);
  t.is(after.LastModified?.getTime(), before.LastModified?.getTime());
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'cold/blob', Range: 'bytes=1000-1999' }));
  t.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body.subarray(1000, 2000));
  const whole = await s3.send(new GetObjectCommand({ Bucket, Key: 'cold/blob' }));
  t.deepEqual(Buffer.from(await whole.Body!.transformToByteArray()), body);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
  t.deepEqual(listed.Contents?.map((c) => [c.Key, c.StorageClass, c.Size, c.LastModified?.getTime()]), [
    ['cold/blob', 'ec-4+2', body.length, listedBefore],
    ['hot/blob', 'STANDARD', 3, listed.Contents?.[1]?.LastModified?.getTime()],
  ]);
  // A second pass has nothing to move; deleting the object removes the fragment archives too.
  t.is((await pass(2 * day)).transitioned, 0);
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'cold/blob' }));
  t.is(devicesHolding(cluster, `/${account}/${Bucket}/cold/blob`, 1).length, 0);
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'cold/blob' })))).$metadata.httpStatusCode, 404);
});

test.serial('a moved null version survives versioning: copied home as the null version, its moved copy dropped', async (t) => {
  const Bucket = 'lc-transition-versioned';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/x', Body: 'first' }));
  await setRules(Bucket, [{ ID: 'cold', Status: 'Enabled', Filter: { Prefix: 'cold/' }, Transitions: [{ Days: 1, StorageClass: 'ec-4+2' as never }] }]);
  t.is((await pass(2 * day)).transitioned, 1);
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'cold/x', Body: 'second' }));
  const account = (await cluster.proxy.store.getBucket(Bucket))!.account;
  t.is(devicesHolding(cluster, `/${account}/${Bucket}/cold/x`, 1).length, 0);
  t.is(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'cold/x', VersionId: 'null' }))).Body?.transformToString(), 'first');
  t.is(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'cold/x' }))).Body?.transformToString(), 'second');
});
