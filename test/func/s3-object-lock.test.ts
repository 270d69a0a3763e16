/**
 * Object lock through the AWS SDK: a bucket created with object lock, default retention, COMPLIANCE and
 * GOVERNANCE retention (with and without the bypass), legal holds, and the bad input AWS refuses — and the
 * storage nodes themselves refusing to delete a locked version when asked directly.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
  type S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { RingSet } from '../../src/common/ring-files.js';
import { BackendHeader, objectPath } from '../../src/common/wire.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { sendRequest } from '../helpers/raw.js';

let cluster: TestCluster;
let s3: S3Client;
const inADay = () => new Date(Date.now() + 24 * 3600 * 1000);

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
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

test('a COMPLIANCE version cannot be deleted, overwritten or shortened, even by the root user', async (t) => {
  const Bucket = 'lock-compliance';
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  t.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
  const until = inADay();
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'precious', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
  t.is(head.ObjectLockMode, 'COMPLIANCE');
  t.is(head.ObjectLockRetainUntilDate?.getTime(), until.getTime());
  t.is((await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId })))).name, 'AccessDenied');
  const bypass = await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId, BypassGovernanceRetention: true })));
  t.is(bypass.name, 'AccessDenied');
  const shorter = new Date(until.getTime() - 3600 * 1000);
  t.is((await failure(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: shorter } })))).name, 'AccessDenied');
  t.is((await failure(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inADay() } })))).name, 'AccessDenied');
  // Nothing changed; extending is allowed.
  t.is((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' }))).Retention?.RetainUntilDate?.getTime(), until.getTime());
  const later = new Date(until.getTime() + 3600 * 1000);
  await s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: later } }));
  t.is((await s3.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' }))).Retention?.RetainUntilDate?.getTime(), later.getTime());
  // A delete without a version id only adds a delete marker; the version stays readable.
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
  const back = await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId }));
  t.is(await back.Body?.transformToString(), 'precious');
  // Versioning cannot be suspended on an object lock bucket.
  t.is((await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } })))).name, 'InvalidBucketState');
});

test('the storage nodes refuse to delete a locked version, whoever asks', async (t) => {
  const Bucket = 'lock-nodes';
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }));
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
  t.is((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).ObjectLockMode, 'COMPLIANCE');
  // Straight to every primary of the version's partition, as a buggy or hostile proxy would.
  const account = cluster.proxy.store ? (await cluster.proxy.store.getBucket(Bucket))!.account : '';
  const name = `${Bucket}+versions`;
  const key = `k\0${put.VersionId}`;
  const ring = new RingSet(join(cluster.dir, 'rings'), [0]).object(0);
  const part = ring.partition(`/${account}/${name}/${key}`);
  for (const dev of ring.primaries(part)) {
    const res = await sendRequest({
      host: dev.ip,
      port: dev.port,
      method: 'DELETE',
      path: objectPath(dev.device, part, account, name, key),
      headers: { [BackendHeader.timestamp]: '9999999999.000000', [BackendHeader.bypassGovernance]: '1', [BackendHeader.containerUpdates]: '[]' },
    });
    t.is(res.status, 423);
    t.is(res.headers[BackendHeader.locked], 'compliance');
  }
  t.is(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: put.VersionId }))).Body?.transformToString(), 'x');
});

test('GOVERNANCE yields to the bypass; a legal hold to nothing', async (t) => {
  const Bucket = 'lock-governance';
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'g', Body: 'g', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inADay(), ObjectLockLegalHoldStatus: 'ON' }));
  t.is((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'g' }))).LegalHold?.Status, 'ON');
  t.is((await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: put.VersionId, BypassGovernanceRetention: true })))).name, 'AccessDenied');
  await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'g', LegalHold: { Status: 'OFF' } }));
  t.is((await failure(s3.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: put.VersionId })))).name, 'AccessDenied');
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId: put.VersionId, BypassGovernanceRetention: true }));
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'g', VersionId: put.VersionId })))).$metadata.httpStatusCode, 404);
});

test('a locked multipart version keeps its parts', async (t) => {
  const Bucket = 'lock-multipart';
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: inADay() }));
  const body = randomBytes(1000);
  const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: body }));
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }));
  const store = cluster.proxy.store;
  const bucket = (await store.getBucket(Bucket))!;
  const segments = (await store.findInternalBucket(bucket, 'segments'))!;
  const parts = await store.listObjects(segments, { limit: 10 });
  t.is(parts.entries.length, 1);
  const partKey = (parts.entries[0] as { key: string }).key;
  // Even through the store, bypassing everything the S3 layer checks, the part cannot go.
  const err = await t.throwsAsync(store.deleteObject(segments, partKey, { bypassGovernance: true }));
  t.is((err as { code?: string }).code, 'Locked');
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'mp', VersionId: done.VersionId }));
  t.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
});

test('bad lock input: the exact S3 error, nothing changed', async (t) => {
  const Bucket = 'lock-bad';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
  // Lock requested on a bucket without object lock.
  t.is((await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'k2', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inADay() })))).name, 'InvalidRequest');
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'k2' })))).$metadata.httpStatusCode, 404);
  t.is((await failure(s3.send(new PutObjectRetentionCommand({ Bucket, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inADay() } })))).name, 'InvalidRequest');
  t.is((await failure(s3.send(new GetObjectLockConfigurationCommand({ Bucket })))).name, 'ObjectLockConfigurationNotFoundError');
  t.is(
    (await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } })))).name,
    'InvalidBucketState',
  );
  const Locked = 'lock-bad-locked';
  await s3.send(new CreateBucketCommand({ Bucket: Locked, ObjectLockEnabledForBucket: true }));
  // Days and Years together, a zero period, an unknown mode.
  t.is((await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: Locked, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } } })))).name, 'MalformedXML');
  t.is((await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: Locked, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } } } })))).name, 'InvalidArgument');
  t.is((await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: Locked, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'FOREVER' as 'GOVERNANCE', Days: 1 } } } })))).name, 'MalformedXML');
  t.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: Locked }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
  // A retention date in the past; a mode without a date.
  t.is((await failure(s3.send(new PutObjectCommand({ Bucket: Locked, Key: 'p', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 1000) })))).name, 'InvalidArgument');
  t.is((await s3.send(new ListObjectVersionsCommand({ Bucket: Locked }))).Versions, undefined);
  // A version id that does not exist.
  t.is((await failure(s3.send(new GetObjectRetentionCommand({ Bucket: Locked, Key: 'p', VersionId: '0000000000000000000a' })))).name, 'NoSuchVersion');
});
