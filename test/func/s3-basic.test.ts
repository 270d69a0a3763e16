/**
 * The quick-start surface of S3 through the AWS SDK against an in-process cluster: buckets, objects with
 * buffer and stream (aws-chunked) bodies, ranges, listings, and the errors clients rely on.
 */
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket: 'basic' }));
});
test.after.always(async () => cluster?.close());

async function errorCode(t: ExecutionContext, p: Promise<unknown>): Promise<string> {
  const err = await t.throwsAsync(p);
  return (err as S3ServiceException).name;
}

async function body(key: string, range?: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: 'basic', Key: key, Range: range }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

test('put and get a buffer; ETag is the hex MD5', async (t) => {
  const data = Buffer.from('hello arca\n');
  const put = await s3.send(new PutObjectCommand({ Bucket: 'basic', Key: 'hello.txt', Body: data, ContentType: 'text/plain', Metadata: { color: 'blue' } }));
  t.is(put.ETag, '"' + (await import('node:crypto')).createHash('md5').update(data).digest('hex') + '"');
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'basic', Key: 'hello.txt' }));
  t.is(head.ContentLength, data.length);
  t.is(head.ContentType, 'text/plain');
  t.is(head.Metadata?.color, 'blue');
  t.deepEqual(await body('hello.txt'), data);
});

test('a stream body arrives aws-chunked with a CRC32 trailer and is stored decoded', async (t) => {
  const data = Buffer.alloc(300_000, 7);
  await s3.send(new PutObjectCommand({ Bucket: 'basic', Key: 'stream.bin', Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), ContentLength: data.length }));
  t.deepEqual(await body('stream.bin'), data);
});

test('ranges: a-b, a-, -n, end clamped, 416 past the end', async (t) => {
  const data = Buffer.from('0123456789');
  await s3.send(new PutObjectCommand({ Bucket: 'basic', Key: 'digits', Body: data }));
  t.is((await body('digits', 'bytes=2-4')).toString(), '234');
  t.is((await body('digits', 'bytes=7-')).toString(), '789');
  t.is((await body('digits', 'bytes=-3')).toString(), '789');
  t.is((await body('digits', 'bytes=8-100')).toString(), '89');
  t.is(await errorCode(t, body('digits', 'bytes=10-20')), 'InvalidRange');
});

test('keys with .., NUL, //, Unicode and 1,024 bytes are stored and listed verbatim', async (t) => {
  const keys = ['../../etc/passwd', 'a\u0000b', '//double//slash', 'ünï/çødé/🦀', 'k'.repeat(1024), ' lead and trail ', 'plus+and space'];
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'basic', Key: key, Body: key }));
  for (const key of keys) t.is((await body(key)).toString(), key);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'basic' }));
  const names = new Set(listed.Contents?.map((c) => c.Key));
  for (const key of keys) t.true(names.has(key), JSON.stringify(key));
  t.is(await errorCode(t, s3.send(new PutObjectCommand({ Bucket: 'basic', Key: 'k'.repeat(1025), Body: 'x' }))), 'KeyTooLongError');
});

test('listing with prefix, delimiter and pages', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'tree' }));
  const keys = ['a/1', 'a/2', 'b/1', 'b/c/2', 'top1', 'top2', 'top3'];
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'tree', Key: key, Body: key }));
  const root = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Delimiter: '/' }));
  t.deepEqual(root.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/']);
  t.deepEqual(root.Contents?.map((c) => c.Key), ['top1', 'top2', 'top3']);
  const sub = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', Prefix: 'b/', Delimiter: '/' }));
  t.deepEqual(sub.CommonPrefixes?.map((p) => p.Prefix), ['b/c/']);
  t.deepEqual(sub.Contents?.map((c) => c.Key), ['b/1']);
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 2, ContinuationToken: token }));
    seen.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.NextContinuationToken;
  } while (token);
  t.deepEqual(seen, keys);
});

test('buckets: list, head, delete only when empty, errors', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'tmp-bucket' }));
  // Creating one's own bucket again succeeds in us-east-1.
  await s3.send(new CreateBucketCommand({ Bucket: 'tmp-bucket' }));
  const list = await s3.send(new ListBucketsCommand({}));
  t.true(list.Buckets?.some((b) => b.Name === 'tmp-bucket'));
  await s3.send(new HeadBucketCommand({ Bucket: 'tmp-bucket' }));
  await s3.send(new PutObjectCommand({ Bucket: 'tmp-bucket', Key: 'x', Body: 'x' }));
  t.is(await errorCode(t, s3.send(new DeleteBucketCommand({ Bucket: 'tmp-bucket' }))), 'BucketNotEmpty');
  await s3.send(new DeleteObjectCommand({ Bucket: 'tmp-bucket', Key: 'x' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'tmp-bucket' }));
  t.is(await errorCode(t, s3.send(new HeadBucketCommand({ Bucket: 'tmp-bucket' }))), 'NotFound');
  t.is(await errorCode(t, s3.send(new GetObjectCommand({ Bucket: 'tmp-bucket', Key: 'x' }))), 'NoSuchBucket');
  t.is(await errorCode(t, s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))), 'InvalidBucketName');
});

test('missing keys, deleted keys', async (t) => {
  t.is(await errorCode(t, s3.send(new GetObjectCommand({ Bucket: 'basic', Key: 'never' }))), 'NoSuchKey');
  await s3.send(new PutObjectCommand({ Bucket: 'basic', Key: 'gone', Body: 'soon' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'basic', Key: 'gone' }));
  t.is(await errorCode(t, s3.send(new GetObjectCommand({ Bucket: 'basic', Key: 'gone' }))), 'NoSuchKey');
  // Deleting what is not there is still a success.
  await s3.send(new DeleteObjectCommand({ Bucket: 'basic', Key: 'gone' }));
});

test('wrong secret and unknown key are refused as AWS refuses them', async (t) => {
  const bad = cluster.s3({ credentials: { accessKeyId: cluster.accessKey, secretAccessKey: 'wrong' } });
  t.is(await errorCode(t, bad.send(new ListBucketsCommand({}))), 'SignatureDoesNotMatch');
  const unknown = cluster.s3({ credentials: { accessKeyId: 'AKNOBODY', secretAccessKey: 'x' } });
  t.is(await errorCode(t, unknown.send(new ListBucketsCommand({}))), 'InvalidAccessKeyId');
});

test('a wrong Content-MD5 is BadDigest and stores nothing', async (t) => {
  const code = await errorCode(t, s3.send(new PutObjectCommand({ Bucket: 'basic', Key: 'bad-md5', Body: 'data', ContentMD5: '1B2M2Y8AsgTpgAmY7PhCfg==' })));
  t.is(code, 'BadDigest');
  t.is(await errorCode(t, s3.send(new HeadObjectCommand({ Bucket: 'basic', Key: 'bad-md5' }))), 'NotFound');
});
