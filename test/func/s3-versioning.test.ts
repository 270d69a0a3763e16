/**
 * Versioning through the AWS SDK: every write a version, delete markers, reads, copies and deletes by
 * version id, the null version of objects older than versioning and of a suspended bucket, multipart
 * versions, ListObjectVersions paging with prefix and delimiter, and a current listing that shows no old
 * versions.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
});
test.after.always(async () => cluster?.close());

async function text(out: { Body?: unknown }): Promise<string> {
  return (out.Body as { transformToString(): Promise<string> }).transformToString();
}

async function failure(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected a failure');
}

async function newBucket(name: string, versioning?: 'Enabled' | 'Suspended'): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (versioning) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: versioning } }));
}

test('every write is a version; reads, delete markers and deletes by version id', async (t) => {
  const Bucket = 'ver-basic';
  await newBucket(Bucket, 'Enabled');
  t.is((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, 'Enabled');
  const v1 = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one' }))).VersionId!;
  const v2 = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two!' }))).VersionId!;
  t.truthy(v1);
  t.not(v1, v2);
  t.is(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }))), 'two!');
  const old = await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: v1 }));
  t.is(old.VersionId, v1);
  t.is(await text(old), 'one');
  t.is((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: v2 }))).ContentLength, 4);
  t.is((await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: v1, Range: 'bytes=1-2' })).then(text)), 'ne');

  // The current listing shows one row, with the newest version's size.
  const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
  t.deepEqual(listed.Contents?.map((c) => [c.Key, c.Size]), [['k', 4]]);

  // A delete without a version id is a delete marker: the key is gone from GET and the listing, versions stay.
  const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
  t.true(del.DeleteMarker);
  t.truthy(del.VersionId);
  const hidden = await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'k' })));
  t.is(hidden.name, 'NoSuchKey');
  t.is(hidden.$response?.headers['x-amz-delete-marker'], 'true');
  t.is(hidden.$response?.headers['x-amz-version-id'], del.VersionId);
  t.is((await s3.send(new ListObjectsV2Command({ Bucket }))).KeyCount, 0);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  t.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]), [
    [v2, false, 4],
    [v1, false, 3],
  ]);
  t.deepEqual(versions.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [[del.VersionId, true]]);
  // A delete marker read by version id is 405 MethodNotAllowed.
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: del.VersionId })))).$metadata.httpStatusCode, 405);

  // Deleting the marker brings v2 back; deleting v2 for good makes v1 current.
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: del.VersionId }));
  t.is(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }))), 'two!');
  const gone = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v2 }));
  t.is(gone.VersionId, v2);
  t.is(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }))), 'one');
  t.is((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.[0]?.Size, 3);

  // Bad and unknown version ids.
  t.is((await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: 'not-a-version' })))).name, 'InvalidArgument');
  t.is((await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: v2 })))).name, 'NoSuchVersion');

  // A bucket with versions left is not empty.
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
  t.is((await failure(s3.send(new DeleteBucketCommand({ Bucket })))).name, 'BucketNotEmpty');
});

test('objects older than versioning are the null version; a suspended bucket rewrites the null version', async (t) => {
  const Bucket = 'ver-null';
  await newBucket(Bucket);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'old', Body: 'before' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  t.is((await s3.send(new HeadObjectCommand({ Bucket, Key: 'old' }))).VersionId, 'null');
  const v1 = (await s3.send(new PutObjectCommand({ Bucket, Key: 'old', Body: 'after' }))).VersionId!;
  t.is(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'old', VersionId: 'null' }))), 'before');
  let versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  t.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest]), [
    [v1, true],
    ['null', false],
  ]);

  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }));
  t.is((await s3.send(new PutObjectCommand({ Bucket, Key: 'old', Body: 'suspended' }))).VersionId, 'null');
  versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  // The older null version was replaced; v1 stays.
  t.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]), [
    ['null', true, 9],
    [v1, false, 5],
  ]);
  t.is(await text(await s3.send(new GetObjectCommand({ Bucket, Key: 'old', VersionId: 'null' }))), 'suspended');
  // A suspended delete makes a null delete marker, replacing the null version.
  const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'old' }));
  t.is(del.VersionId, 'null');
  versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  t.deepEqual(versions.Versions?.map((v) => v.VersionId), [v1]);
  t.deepEqual(versions.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]), [['null', true]]);
});

test('multipart uploads and copies make versions; copies read a source version', async (t) => {
  const Bucket = 'ver-mp';
  await newBucket(Bucket, 'Enabled');
  const part = Buffer.alloc(5 * 1024 * 1024, 'a');
  const mk = async (fill: string) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: 1, Body: part }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: 2, Body: fill }));
    return s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
    );
  };
  const first = await mk('first');
  const second = await mk('second');
  t.truthy(first.VersionId);
  t.not(first.VersionId, second.VersionId);
  // The older version's segments were not dropped when the newer one came.
  const old = await s3.send(new GetObjectCommand({ Bucket, Key: 'big', VersionId: first.VersionId, Range: `bytes=${part.length}-` }));
  t.is(await text(old), 'first');
  const copy = await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/big?versionId=${first.VersionId}` }));
  t.is(copy.CopySourceVersionId, first.VersionId);
  t.truthy(copy.VersionId);
  t.is((await s3.send(new HeadObjectCommand({ Bucket, Key: 'copy' }))).ContentLength, part.length + 5);
});

test('ListObjectVersions pages by key and version id markers, with prefix and delimiter', async (t) => {
  const Bucket = 'ver-list';
  await newBucket(Bucket, 'Enabled');
  const written: Array<[string, string]> = [];
  for (const key of ['a/1', 'a/2', 'b', 'c/d/e']) {
    for (let i = 0; i < 3; i++) written.push([key, (await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: `${key}${i}` }))).VersionId!]);
  }
  await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'b' }] } }));
  const seen: Array<[string, string]> = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) seen.push([v.Key!, v.VersionId!]);
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  // Every version once, by key, newest first.
  const expected = [...written].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : written.indexOf(y) - written.indexOf(x)));
  t.deepEqual(seen, expected);
  const rolled = await s3.send(new ListObjectVersionsCommand({ Bucket, Delimiter: '/' }));
  t.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'c/']);
  t.deepEqual(rolled.Versions?.map((v) => v.Key), ['b', 'b', 'b']);
  t.deepEqual(rolled.DeleteMarkers?.map((d) => d.Key), ['b']);
  const prefixed = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'a/2' }));
  t.is(prefixed.Versions?.length, 3);
  t.true(prefixed.Versions?.[0]?.IsLatest);
  // The current listing shows the keys only.
  t.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((c) => c.Key), ['a/1', 'a/2', 'c/d/e']);
});

test('bad versioning configuration is MalformedXML and changes nothing', async (t) => {
  const Bucket = 'ver-bad';
  await newBucket(Bucket);
  const err = await failure(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'On' as 'Enabled' } })));
  t.is(err.name, 'MalformedXML');
  t.is((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, undefined);
});
