/**
 * CopyObject, UploadPartCopy and DeleteObjects through the AWS SDK (and raw signed requests where the SDK
 * would not send the bad input): directives, conditional copy headers, self-copies, ranges, quiet mode,
 * the digest DeleteObjects requires, 1,001 keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { multipartEtag } from '../../src/common/checksums.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/raw.js';

let cluster: TestCluster;
let s3: S3Client;
const Bucket = 'copies';
const MiB = 1024 * 1024;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const md5b64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: 'copies-other' }));
});
test.after.always(async () => cluster?.close());

async function errorOf(t: ExecutionContext, p: Promise<unknown>): Promise<S3ServiceException> {
  return (await t.throwsAsync(p)) as S3ServiceException;
}

async function text(Key: string, b = Bucket): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: b, Key }));
  return r.Body!.transformToString();
}

test('CopyObject keeps metadata with COPY, replaces it with REPLACE, across buckets, with encoded keys', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'src one/ü+.txt', Body: 'copy me', ContentType: 'text/x-src', Metadata: { a: '1' }, ContentDisposition: 'inline' }));
  const copied = await s3.send(new CopyObjectCommand({ Bucket: 'copies-other', Key: 'dst', CopySource: `${Bucket}/${encodeURIComponent('src one/ü+.txt')}` }));
  t.is(copied.CopyObjectResult?.ETag, `"${md5('copy me')}"`);
  t.truthy(copied.CopyObjectResult?.LastModified);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'copies-other', Key: 'dst' }));
  t.is(head.ContentType, 'text/x-src');
  t.is(head.ContentDisposition, 'inline');
  t.deepEqual(head.Metadata, { a: '1' });
  t.is(await text('dst', 'copies-other'), 'copy me');

  await s3.send(
    new CopyObjectCommand({ Bucket, Key: 'replaced', CopySource: `/${Bucket}/${encodeURIComponent('src one/ü+.txt')}?versionId=null`, MetadataDirective: 'REPLACE', ContentType: 'text/x-new', Metadata: { b: '2' } }),
  );
  const h2 = await s3.send(new HeadObjectCommand({ Bucket, Key: 'replaced' }));
  t.is(h2.ContentType, 'text/x-new');
  t.deepEqual(h2.Metadata, { b: '2' });
  t.is(h2.ContentDisposition, undefined);
});

test('copying onto itself needs REPLACE; conditional copy headers answer 412', async (t) => {
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'self', Body: 'self body', Metadata: { v: '1' } }));
  let err = await errorOf(t, s3.send(new CopyObjectCommand({ Bucket, Key: 'self', CopySource: `${Bucket}/self` })));
  t.is(err.name, 'InvalidRequest');
  t.regex(err.message, /copy an object to itself without changing/);
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'self', CopySource: `${Bucket}/self`, MetadataDirective: 'REPLACE', Metadata: { v: '2' } }));
  t.deepEqual((await s3.send(new HeadObjectCommand({ Bucket, Key: 'self' }))).Metadata, { v: '2' });
  t.is(await text('self'), 'self body');

  const past = new Date(Date.now() - 3600_000);
  const future = new Date(Date.now() + 3600_000);
  const copy = (extra: Record<string, unknown>) => s3.send(new CopyObjectCommand({ Bucket, Key: 'cond', CopySource: `${Bucket}/self`, ...extra }));
  for (const extra of [{ CopySourceIfMatch: '"nope"' }, { CopySourceIfNoneMatch: put.ETag }, { CopySourceIfModifiedSince: future }, { CopySourceIfUnmodifiedSince: past }]) {
    err = await errorOf(t, copy(extra));
    t.is(err.name, 'PreconditionFailed', JSON.stringify(extra));
    t.is(err.$metadata.httpStatusCode, 412);
  }
  // If-Match true decides over If-Unmodified-Since false, as AWS documents.
  await copy({ CopySourceIfMatch: put.ETag, CopySourceIfUnmodifiedSince: past });
  await copy({ CopySourceIfNoneMatch: '"other"', CopySourceIfModifiedSince: past });
  t.is((await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'never-copied' })))).name, 'NotFound');
});

test('copy source missing, bucket missing, malformed header', async (t) => {
  let err = await errorOf(t, s3.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: `${Bucket}/does-not-exist` })));
  t.is(err.name, 'NoSuchKey');
  err = await errorOf(t, s3.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: 'no-such-bucket-here/key' })));
  t.is(err.name, 'NoSuchBucket');
  const r = await rawRequest(cluster, 'PUT', `/${Bucket}/x`, { 'x-amz-copy-source': 'just-a-bucket' });
  t.is(r.status, 400);
  t.regex(r.body, /<Code>InvalidArgument<\/Code>/);
  const d = await rawRequest(cluster, 'PUT', `/${Bucket}/x`, { 'x-amz-copy-source': `${Bucket}/self`, 'x-amz-metadata-directive': 'MERGE' });
  t.regex(d.body, /<Code>InvalidArgument<\/Code>/);
  t.is((await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'x' })))).name, 'NotFound');
});

test('a multipart object copies whole; UploadPartCopy builds a new one from ranges of it', async (t) => {
  const data = randomBytes(11 * MiB);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp-src' }));
  const { UploadPartCommand } = await import('@aws-sdk/client-s3');
  const e1 = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp-src', UploadId, PartNumber: 1, Body: data.subarray(0, 6 * MiB) }));
  const e2 = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp-src', UploadId, PartNumber: 2, Body: data.subarray(6 * MiB) }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp-src', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
  const whole = await s3.send(new CopyObjectCommand({ Bucket, Key: 'mp-copy', CopySource: `${Bucket}/mp-src` }));
  t.is(whole.CopyObjectResult?.ETag, `"${md5(data)}"`);
  const back = await s3.send(new GetObjectCommand({ Bucket, Key: 'mp-copy' }));
  t.true(Buffer.from(await back.Body!.transformToByteArray()).equals(data));

  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'from-ranges' }));
  const ranges = [
    [5 * MiB, 10 * MiB - 1],
    [0, 5 * MiB - 1],
    [10 * MiB, 11 * MiB - 1],
  ];
  const etags: string[] = [];
  for (let i = 0; i < ranges.length; i++) {
    const [a, b] = ranges[i];
    const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'from-ranges', UploadId: up.UploadId, PartNumber: i + 1, CopySource: `${Bucket}/mp-src`, CopySourceRange: `bytes=${a}-${b}` }));
    t.is(r.CopyPartResult?.ETag, `"${md5(data.subarray(a, b + 1))}"`);
    etags.push(r.CopyPartResult!.ETag!);
  }
  let err = await errorOf(
    t,
    s3.send(new UploadPartCopyCommand({ Bucket, Key: 'from-ranges', UploadId: up.UploadId, PartNumber: 9, CopySource: `${Bucket}/mp-src`, CopySourceRange: `bytes=0-${11 * MiB}` })),
  );
  t.is(err.name, 'InvalidArgument');
  err = await errorOf(
    t,
    s3.send(new UploadPartCopyCommand({ Bucket, Key: 'from-ranges', UploadId: up.UploadId, PartNumber: 9, CopySource: `${Bucket}/mp-src`, CopySourceRange: 'bytes=5-' })),
  );
  t.is(err.name, 'InvalidArgument');
  err = await errorOf(t, s3.send(new UploadPartCopyCommand({ Bucket, Key: 'from-ranges', UploadId: 'nope', PartNumber: 1, CopySource: `${Bucket}/mp-src` })));
  t.is(err.name, 'NoSuchUpload');
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket, Key: 'from-ranges', UploadId: up.UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
  );
  t.is(done.ETag, `"${multipartEtag(ranges.map(([a, b]) => md5(data.subarray(a, b + 1))))}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'from-ranges' }));
  const expected = Buffer.concat(ranges.map(([a, b]) => data.subarray(a, b + 1)));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(expected));
});

test('DeleteObjects: verbose and quiet, missing keys succeed, per-key errors', async (t) => {
  const keys = ['del/a', 'del/b', 'del/c'];
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
  const r = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [...keys, 'del/never'].map((Key) => ({ Key })) } }));
  t.deepEqual(r.Deleted?.map((d) => d.Key), [...keys, 'del/never']);
  t.is(r.Errors, undefined);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'del/' }));
  t.is(listed.KeyCount, 0);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'del/q', Body: 'q' }));
  const quiet = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Quiet: true, Objects: [{ Key: 'del/q' }, { Key: 'k'.repeat(1025) }] } }));
  t.is(quiet.Deleted, undefined);
  t.deepEqual(quiet.Errors?.map((e) => [e.Key?.length, e.Code]), [[1025, 'KeyTooLongError']]);
  t.is((await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'del/q' })))).name, 'NotFound');
});

test('DeleteObjects bad input: 1,001 keys, no digest, wrong digest, malformed XML, no bucket', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'keep', Body: 'keep' }));
  const send = (xml: string, headers: Record<string, string> = { 'content-md5': md5b64(xml) }) =>
    rawRequest(cluster, 'POST', `/${Bucket}?delete`, { 'content-length': String(Buffer.byteLength(xml)), ...headers }, xml);
  const many = `<Delete>${Array.from({ length: 1001 }, (_, i) => `<Object><Key>keep${i === 0 ? '' : i}</Key></Object>`).join('')}</Delete>`;
  let r = await send(many);
  t.is(r.status, 400);
  t.regex(r.body, /<Code>MalformedXML<\/Code>/);
  const one = '<Delete><Object><Key>keep</Key></Object></Delete>';
  r = await send(one, {});
  t.is(r.status, 400);
  t.regex(r.body, /<Code>InvalidRequest<\/Code><Message>Missing required header for this request: Content-MD5<\/Message>/);
  r = await send(one, { 'content-md5': md5b64('something else') });
  t.regex(r.body, /<Code>BadDigest<\/Code>/);
  r = await send(one, { 'x-amz-checksum-crc32': 'AAAAAA==' });
  t.regex(r.body, /<Code>BadDigest<\/Code>/);
  for (const bad of ['<Delete>', '<Delete></Delete>', '<Remove><Object><Key>keep</Key></Object></Remove>', '<Delete><Object/></Delete>']) {
    r = await send(bad);
    t.is(r.status, 400, bad);
    t.regex(r.body, /<Code>MalformedXML<\/Code>/, bad);
  }
  t.is(await text('keep'), 'keep');
  r = await rawRequest(cluster, 'POST', '/no-such-bucket-x?delete', { 'content-md5': md5b64(one), 'content-length': String(one.length) }, one);
  t.regex(r.body, /<Code>NoSuchBucket<\/Code>/);
  // Without a namespace, with one, with a Quiet element: all accepted.
  r = await send(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>false</Quiet>${'<Object><Key>keep</Key></Object>'}</Delete>`);
  t.is(r.status, 200, r.body);
  t.regex(r.body, /<Deleted><Key>keep<\/Key><\/Deleted>/);
});

test('ACL headers of CreateMultipartUpload and CopyObject reach the new object; the copy never inherits the source ACL', async (t) => {
  const { CreateMultipartUploadCommand: Create, UploadPartCommand, GetObjectAclCommand } = await import('@aws-sdk/client-s3');
  const { UploadId } = await s3.send(new Create({ Bucket, Key: 'acl/mp', ACL: 'public-read' }));
  const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'acl/mp', UploadId, PartNumber: 1, Body: 'public' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'acl/mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
  const grants = async (Key: string) => (await s3.send(new GetObjectAclCommand({ Bucket, Key }))).Grants?.map((g) => `${g.Grantee?.URI ?? g.Grantee?.ID}:${g.Permission}`);
  t.true((await grants('acl/mp'))?.includes('http://acs.amazonaws.com/groups/global/AllUsers:READ'));
  const anonymous = await fetch(`${cluster.endpoint}/${Bucket}/acl/mp`);
  t.is(anonymous.status, 200);
  t.is(await anonymous.text(), 'public');
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'acl/copy', CopySource: `${Bucket}/acl/mp` }));
  t.false((await grants('acl/copy'))?.some((g) => g.includes('AllUsers')));
  t.is((await fetch(`${cluster.endpoint}/${Bucket}/acl/copy`)).status, 403);
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'acl/copy-public', CopySource: `${Bucket}/acl/mp`, ACL: 'public-read' }));
  t.is((await fetch(`${cluster.endpoint}/${Bucket}/acl/copy-public`)).status, 200);
});
