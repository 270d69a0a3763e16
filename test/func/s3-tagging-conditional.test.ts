/**
 * Object and bucket tagging, and conditional writes (If-None-Match: *, If-Match), through the AWS SDK.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;
const Bucket = 'tags';

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
test.after.always(async () => cluster?.close());

async function errorOf(t: ExecutionContext, p: Promise<unknown>): Promise<S3ServiceException> {
  return (await t.throwsAsync(p)) as S3ServiceException;
}

const tagsOf = async (Key: string) => (await s3.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet?.map((t) => [t.Key, t.Value]);

test('x-amz-tagging on PutObject, CreateMultipartUpload and CopyObject; x-amz-tagging-count on GET/HEAD', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'tagged', Body: 'x', Tagging: 'project=arca&team=storage%20nodes' }));
  t.deepEqual(await tagsOf('tagged'), [['project', 'arca'], ['team', 'storage nodes']]);
  t.is((await s3.send(new HeadObjectCommand({ Bucket, Key: 'tagged' }))).TagCount, 2);
  t.is((await s3.send(new GetObjectCommand({ Bucket, Key: 'tagged' }))).TagCount, 2);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'untagged', Body: 'x' }));
  t.is((await s3.send(new HeadObjectCommand({ Bucket, Key: 'untagged' }))).TagCount, undefined);
  t.deepEqual(await tagsOf('untagged'), []);

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp-tagged', Tagging: 'k=v' }));
  const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp-tagged', UploadId, PartNumber: 1, Body: 'part' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp-tagged', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
  t.deepEqual(await tagsOf('mp-tagged'), [['k', 'v']]);

  await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-keeps', CopySource: `${Bucket}/tagged` }));
  t.deepEqual(await tagsOf('copy-keeps'), [['project', 'arca'], ['team', 'storage nodes']]);
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy-replaces', CopySource: `${Bucket}/tagged`, TaggingDirective: 'REPLACE', Tagging: 'only=this' }));
  t.deepEqual(await tagsOf('copy-replaces'), [['only', 'this']]);

  let err = await errorOf(t, s3.send(new PutObjectCommand({ Bucket, Key: 'bad-tags', Body: 'x', Tagging: 'a=1&a=2' })));
  t.is(err.name, 'InvalidArgument');
  err = await errorOf(t, s3.send(new PutObjectCommand({ Bucket, Key: 'bad-tags', Body: 'x', Tagging: `${'k'.repeat(129)}=v` })));
  t.is(err.name, 'InvalidTag');
  t.is((await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'bad-tags' })))).name, 'NotFound');
});

test('Put/Get/DeleteObjectTagging keep the object version; limits answer InvalidTag and BadRequest', async (t) => {
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'retag', Body: 'body' }));
  const before = await s3.send(new HeadObjectCommand({ Bucket, Key: 'retag' }));
  await s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'retag', Tagging: { TagSet: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '' }] } }));
  t.deepEqual(await tagsOf('retag'), [['a', '1'], ['b', '']]);
  const after = await s3.send(new HeadObjectCommand({ Bucket, Key: 'retag' }));
  t.is(after.ETag, put.ETag);
  t.deepEqual(after.LastModified, before.LastModified);
  t.is(after.TagCount, 2);
  await s3.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'retag' }));
  t.deepEqual(await tagsOf('retag'), []);
  t.is((await s3.send(new GetObjectCommand({ Bucket, Key: 'retag' }))).Body?.transformToString !== undefined, true);

  const tooMany = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  let err = await errorOf(t, s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'retag', Tagging: { TagSet: tooMany } })));
  t.is(err.name, 'BadRequest');
  t.is(err.message, 'Object tags cannot be greater than 10');
  for (const TagSet of [[{ Key: 'k'.repeat(129), Value: 'v' }], [{ Key: 'k', Value: 'v'.repeat(257) }], [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }], [{ Key: 'bad<>', Value: 'v' }]]) {
    err = await errorOf(t, s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'retag', Tagging: { TagSet } })));
    t.is(err.name, 'InvalidTag', JSON.stringify(TagSet));
  }
  await s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'retag', Tagging: { TagSet: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] } }));
  err = await errorOf(t, s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'no-such-object', Tagging: { TagSet: [] } })));
  t.is(err.name, 'NoSuchKey');
  err = await errorOf(t, s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'no-such-object' })));
  t.is(err.name, 'NoSuchKey');
});

test('bucket tagging: NoSuchTagSet, put, get, 50 tags, delete', async (t) => {
  let err = await errorOf(t, s3.send(new GetBucketTaggingCommand({ Bucket })));
  t.is(err.name, 'NoSuchTagSet');
  t.is(err.$metadata.httpStatusCode, 404);
  const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `key-${i}`, Value: `value ${i}` }));
  await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: fifty } }));
  t.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, fifty);
  err = await errorOf(t, s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [...fifty, { Key: 'one-more', Value: '' }] } })));
  t.is(err.name, 'BadRequest');
  await s3.send(new DeleteBucketTaggingCommand({ Bucket }));
  err = await errorOf(t, s3.send(new GetBucketTaggingCommand({ Bucket })));
  t.is(err.name, 'NoSuchTagSet');
});

test('conditional writes: If-None-Match * and If-Match on PutObject and CompleteMultipartUpload', async (t) => {
  const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
  let err = await errorOf(t, s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })));
  t.is(err.name, 'PreconditionFailed');
  t.is(err.$metadata.httpStatusCode, 412);
  t.is(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'once' }))).Body!.transformToString(), 'first');
  err = await errorOf(t, s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'third', IfMatch: '"0123"' })));
  t.is(err.name, 'PreconditionFailed');
  const swapped = await s3.send(new PutObjectCommand({ Bucket, Key: 'once', Body: 'fourth', IfMatch: first.ETag }));
  t.not(swapped.ETag, first.ETag);
  t.is(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'once' }))).Body!.transformToString(), 'fourth');
  err = await errorOf(t, s3.send(new PutObjectCommand({ Bucket, Key: 'never-there', Body: 'x', IfMatch: first.ETag })));
  t.is(err.name, 'NoSuchKey');

  // Two racing creators: exactly one wins when the second starts after the first has committed.
  const results = await Promise.allSettled([0, 1].map((i) => s3.send(new PutObjectCommand({ Bucket, Key: `race-${i % 1}`, Body: `racer ${i}`, IfNoneMatch: '*' }))));
  t.true(results.some((r) => r.status === 'fulfilled'));

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'once' }));
  const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'once', UploadId, PartNumber: 1, Body: 'mp' }));
  const complete = (extra: Record<string, string>) =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'once', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] }, ...extra }));
  err = await errorOf(t, complete({ IfNoneMatch: '*' }));
  t.is(err.name, 'PreconditionFailed');
  await complete({ IfMatch: swapped.ETag! });
  t.is(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'once' }))).Body!.transformToString(), 'mp');
});
