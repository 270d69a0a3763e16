/**
 * SSE-C through the AWS SDK: objects encrypted at rest under the customer's key, which is never stored;
 * reads need the same key (ranges and parts decrypt on their own); copies re-key; multipart parts each bring
 * the key. Also presigned PUT and GET URLs.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test, { type ExecutionContext } from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/raw.js';

let cluster: TestCluster;
let s3: S3Client;
const Bucket = 'secrets';
const MiB = 1024 * 1024;
const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');
const ssec = (k: string) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: k });
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
test.after.always(async () => cluster?.close());

async function errorOf(t: ExecutionContext, p: Promise<unknown>): Promise<S3ServiceException> {
  return (await t.throwsAsync(p)) as S3ServiceException;
}

async function read(Key: string, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** The bytes as the storage nodes hold them (through the store, bypassing S3). */
async function stored(Key: string): Promise<Buffer> {
  const store = cluster.proxy.store;
  const r = await store.getObject((await store.getBucket(Bucket))!, Key);
  const chunks: Buffer[] = [];
  for await (const c of r!.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('PutObject encrypts at rest; GET/HEAD need the key; ranges decrypt', async (t) => {
  const data = randomBytes(100_000);
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'enc', Body: data, ...ssec(key1) }));
  t.is(put.SSECustomerAlgorithm, 'AES256');
  t.not(put.ETag, `"${md5(data)}"`, 'the ETag of an SSE-C object is not the MD5 of its plaintext');
  const atRest = await stored('enc');
  t.is(atRest.length, data.length);
  t.false(atRest.equals(data));
  t.false(atRest.includes(data.subarray(0, 64)));
  t.true((await read('enc', ssec(key1))).equals(data));
  for (const [a, b] of [[0, 0], [1, 16], [15, 17], [12345, 54321], [99_990, 99_999]]) {
    t.true((await read('enc', { ...ssec(key1), Range: `bytes=${a}-${b}` })).equals(data.subarray(a, b + 1)), `${a}-${b}`);
  }
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'enc', ...ssec(key1) }));
  t.is(head.ContentLength, data.length);
  t.is(head.SSECustomerKeyMD5, createHash('md5').update(Buffer.from(key1, 'base64')).digest('base64'));

  let err = await errorOf(t, s3.send(new GetObjectCommand({ Bucket, Key: 'enc' })));
  t.is(err.name, 'InvalidRequest');
  t.is(err.message, 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  err = await errorOf(t, s3.send(new GetObjectCommand({ Bucket, Key: 'enc', ...ssec(key2) })));
  t.is(err.name, 'AccessDenied');
  t.is(err.$metadata.httpStatusCode, 403);
  err = await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'enc' })));
  t.is(err.$metadata.httpStatusCode, 400);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'plain' }));
  err = await errorOf(t, s3.send(new GetObjectCommand({ Bucket, Key: 'plain', ...ssec(key1) })));
  t.is(err.name, 'InvalidRequest');
});

test('bad SSE-C headers: key MD5 mismatch, short key, wrong algorithm, missing key; nothing stored', async (t) => {
  const k = Buffer.from(key1, 'base64');
  const base = {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': key1,
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(k).digest('base64'),
    'content-length': '4',
  };
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ 'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update('other').digest('base64') }, 'InvalidArgument', /calculated MD5 hash of the key did not match/],
    [{ 'x-amz-server-side-encryption-customer-key': randomBytes(16).toString('base64') }, 'InvalidArgument', /secret key was invalid/],
    [{ 'x-amz-server-side-encryption-customer-algorithm': 'AES128' }, 'InvalidEncryptionAlgorithmError', /valid value is AES256/],
  ];
  for (const [over, code, message] of cases) {
    const r = await rawRequest(cluster, 'PUT', `/${Bucket}/bad-sse`, { ...base, ...over }, 'data');
    t.is(r.status, 400);
    t.regex(r.body, new RegExp(`<Code>${code}</Code>`));
    t.regex(r.body, message);
  }
  const { 'x-amz-server-side-encryption-customer-key': _, ...noKey } = base;
  const r = await rawRequest(cluster, 'PUT', `/${Bucket}/bad-sse`, noKey, 'data');
  t.regex(r.body, /must provide an appropriate secret key/);
  t.is((await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'bad-sse' })))).name, 'NotFound');
  const sse = await errorOf(t, s3.send(new PutObjectCommand({ Bucket, Key: 'sse-s3', Body: 'x', ServerSideEncryption: 'AES256' })));
  t.is(sse.name, 'NotImplemented');
});

test('multipart SSE-C: every part brings the key; parts, ranges across parts and partNumber decrypt', async (t) => {
  const Key = 'enc-mp';
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 7), randomBytes(1000)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ...ssec(key1) }));
  let err = await errorOf(t, s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: parts[0] })));
  t.is(err.name, 'InvalidRequest');
  err = await errorOf(t, s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: parts[0], ...ssec(key2) })));
  t.is(err.name, 'InvalidRequest');
  const etags = await Promise.all(parts.map(async (Body, i) => (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ...ssec(key1) }))).ETag));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  const whole = Buffer.concat(parts);
  t.true((await read(Key, ssec(key1))).equals(whole));
  const a = 5 * MiB - 5;
  const b = 10 * MiB + 20;
  t.true((await read(Key, { ...ssec(key1), Range: `bytes=${a}-${b}` })).equals(whole.subarray(a, b + 1)));
  t.true((await read(Key, { ...ssec(key1), PartNumber: 2 })).equals(parts[1]));
  err = await errorOf(t, s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 2 })));
  t.is(err.name, 'InvalidRequest');
});

test('copies: encrypted source to plaintext, to another key, onto itself with a new key; part copy from an encrypted source', async (t) => {
  const data = randomBytes(300_000);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: data, ...ssec(key1) }));
  const copySource = { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key1 };
  let err = await errorOf(t, s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src` })));
  t.is(err.name, 'InvalidRequest');
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'dst-plain', CopySource: `${Bucket}/src`, ...copySource }));
  t.true((await read('dst-plain')).equals(data));
  t.true((await stored('dst-plain')).equals(data));
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'dst-rekeyed', CopySource: `${Bucket}/src`, ...copySource, ...ssec(key2) }));
  t.true((await read('dst-rekeyed', ssec(key2))).equals(data));
  err = await errorOf(t, s3.send(new GetObjectCommand({ Bucket, Key: 'dst-rekeyed', ...ssec(key1) })));
  t.is(err.name, 'AccessDenied');
  await s3.send(new CopyObjectCommand({ Bucket, Key: 'src', CopySource: `${Bucket}/src`, ...copySource, ...ssec(key2) }));
  t.true((await read('src', ssec(key2))).equals(data));
  err = await errorOf(t, s3.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: `${Bucket}/src`, CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key1 })));
  t.is(err.name, 'AccessDenied');

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'from-enc' }));
  const part = await s3.send(
    new UploadPartCopyCommand({ Bucket, Key: 'from-enc', UploadId, PartNumber: 1, CopySource: `${Bucket}/src`, CopySourceRange: 'bytes=100-199', CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key2 }),
  );
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'from-enc', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] } }));
  t.true((await read('from-enc')).equals(data.subarray(100, 200)));
});

test('presigned PUT and GET URLs', async (t) => {
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: 'presigned.txt' }), { expiresIn: 300 });
  const put = await fetch(putUrl, { method: 'PUT', body: 'via a presigned url' });
  t.is(put.status, 200, await put.text());
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'presigned.txt', ResponseContentType: 'text/plain' }), { expiresIn: 300 });
  const got = await fetch(getUrl);
  t.is(got.status, 200);
  t.is(got.headers.get('content-type'), 'text/plain');
  t.is(await got.text(), 'via a presigned url');
  const ranged = await fetch(getUrl, { headers: { range: 'bytes=4-8' } });
  t.is(ranged.status, 206);
  t.is(await ranged.text(), 'a pre');
});
