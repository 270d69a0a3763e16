/**
 * Signed streaming uploads (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, with and without a signed trailer), as the
 * Java SDK v1 and mc send them, through the real cluster with the test signer (helpers/signed-chunks.ts):
 * PutObject and UploadPart store the decoded bytes; a bad chunk or trailer signature, a short chunk and a
 * trailer checksum that does not match are refused with AWS's error, nothing is stored, and the keep-alive
 * connection serves the next request.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { crc32 } from 'node:zlib';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { devicesHolding } from '../helpers/placement.js';
import { rawRequest, sendRequest, signedOptions } from '../helpers/raw.js';
import { type SignedChunksOptions, signedChunkedRequest } from '../helpers/signed-chunks.js';

let cluster: TestCluster;
let s3: S3Client;
const Bucket = 'signed-chunks';
const KiB = 1024;
const MiB = 1024 * KiB;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
};
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
test.after.always(async () => {
  agent.destroy();
  await cluster?.close();
});

function put(path: string, data: Buffer, opts: SignedChunksOptions) {
  const { options, body } = signedChunkedRequest(cluster, 'PUT', path, data, opts);
  return sendRequest({ ...options, agent }, body);
}

async function read(Key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Nothing visible and no replica on any device; the same keep-alive agent still gets answers. */
async function nothingStored(t: ExecutionContext, Key: string): Promise<void> {
  const head = await sendRequest({ ...signedOptions(cluster, 'HEAD', `/${Bucket}/${Key}`), agent });
  t.is(head.status, 404, `${Key} is not visible`);
  t.deepEqual(devicesHolding(cluster, `/root/${Bucket}/${Key}`), [], `${Key} has no replica on disk`);
}

test('PutObject with signed chunks: 64 KiB chunks and a short last one; an empty body', async (t) => {
  const data = randomBytes(3 * 64 * KiB + 1000);
  const r = await put(`/${Bucket}/plain`, data, { chunkSize: 64 * KiB, headers: { 'content-type': 'text/x-signed', 'x-amz-meta-way': 'signed chunks' } });
  t.is(r.status, 200, r.body);
  t.is(r.headers.etag, `"${md5(data)}"`);
  t.true((await read('plain')).equals(data));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'plain' }));
  t.is(head.ContentLength, data.length);
  t.is(head.ContentType, 'text/x-signed');
  t.is(head.ContentEncoding, undefined, 'aws-chunked is the framing, not the object');
  t.deepEqual(head.Metadata, { way: 'signed chunks' });

  const empty = await put(`/${Bucket}/empty`, Buffer.alloc(0), { chunkSize: 64 * KiB });
  t.is(empty.status, 200, empty.body);
  t.is((await read('empty')).length, 0);
});

test('PutObject with signed chunks and a signed CRC32 trailer: verified and kept', async (t) => {
  const data = randomBytes(100 * KiB + 3);
  const r = await put(`/${Bucket}/trailer`, data, { chunkSize: 16 * KiB, trailer: ['x-amz-checksum-crc32', crc32b64(data)] });
  t.is(r.status, 200, r.body);
  t.is(r.headers['x-amz-checksum-crc32'], crc32b64(data));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'trailer', ChecksumMode: 'ENABLED' }));
  t.is(got.ChecksumCRC32, crc32b64(data));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
});

test('UploadPart with signed chunks, completed with the SDK', async (t) => {
  const Key = 'multipart';
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const parts = [randomBytes(5 * MiB), randomBytes(70 * KiB)];
  const etags: string[] = [];
  for (const [i, part] of parts.entries()) {
    const r = await put(`/${Bucket}/${Key}?partNumber=${i + 1}&uploadId=${UploadId}`, part, { chunkSize: 128 * KiB, trailer: ['x-amz-checksum-crc32', crc32b64(part)] });
    t.is(r.status, 200, r.body);
    etags.push(r.headers.etag as string);
  }
  t.deepEqual(etags, parts.map((p) => `"${md5(p)}"`));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  t.true((await read(Key)).equals(Buffer.concat(parts)));
});

test('a bad chunk signature (first, middle, final chunk) is SignatureDoesNotMatch and stores nothing', async (t) => {
  const data = randomBytes(5 * 16 * KiB);
  for (const corruptChunk of [0, 2, 5]) {
    const Key = `bad-chunk-${corruptChunk}`;
    const r = await put(`/${Bucket}/${Key}`, data, { chunkSize: 16 * KiB, corruptChunk });
    t.is(r.status, 403, Key);
    t.regex(r.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    await nothingStored(t, Key);
  }
});

test('a bad trailer signature is SignatureDoesNotMatch; a trailer checksum that does not match is BadDigest', async (t) => {
  const data = randomBytes(20 * KiB);
  let r = await put(`/${Bucket}/bad-trailer-sig`, data, { chunkSize: 8 * KiB, trailer: ['x-amz-checksum-crc32', crc32b64(data)], corruptTrailer: true });
  t.is(r.status, 403);
  t.regex(r.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  await nothingStored(t, 'bad-trailer-sig');
  r = await put(`/${Bucket}/bad-trailer-sum`, data, { chunkSize: 8 * KiB, trailer: ['x-amz-checksum-crc32', crc32b64(Buffer.from('other'))] });
  t.is(r.status, 400);
  t.regex(r.body, /<Code>BadDigest<\/Code>/);
  await nothingStored(t, 'bad-trailer-sum');
});

test('a chunk under 8 KiB before the last is InvalidChunkSizeError; a wrong decoded length is refused', async (t) => {
  const data = randomBytes(20 * KiB);
  let r = await put(`/${Bucket}/small-chunks`, data, { chunkSize: 4 * KiB });
  t.is(r.status, 400);
  t.regex(r.body, /<Code>InvalidChunkSizeError<\/Code>/);
  await nothingStored(t, 'small-chunks');
  r = await put(`/${Bucket}/declared-more`, data, { chunkSize: 8 * KiB, declaredLength: data.length + 1 });
  t.is(r.status, 400);
  t.regex(r.body, /<Code>IncompleteBody<\/Code>/);
  await nothingStored(t, 'declared-more');
  r = await put(`/${Bucket}/declared-less`, data, { chunkSize: 8 * KiB, declaredLength: data.length - 1 });
  t.is(r.status, 400);
  t.regex(r.body, /<Code>InvalidRequest<\/Code>/);
  await nothingStored(t, 'declared-less');
  // After all of that, the proxy and the connection are fine.
  t.is((await rawRequest(cluster, 'GET', `/${Bucket}?list-type=2`)).status, 200);
});
