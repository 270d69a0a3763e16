/**
 * @aws-sdk/client-s3 for what s3-basic, s3-multipart and s3-sse-c do not cover: every checksum algorithm
 * (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) on PutObject with buffer bodies (header) and stream bodies
 * (aws-chunked trailer), read back with ChecksumMode ENABLED (the SDK validates what it gets), never sent on
 * ranges; presigned GET/HEAD/PUT/DELETE URLs and their expiry; lib-storage for a stream of unknown length,
 * a body under one part, SHA256 composite parts, and an abort that leaves nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;
const Bucket = 'sdk-clients';
const MiB = 1024 * 1024;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
test.after.always(async () => cluster?.close());

/** A reflected CRC over a BigInt table: the test's own oracle, independent of the server's libraries. */
function reflectedCrc(poly: bigint, width: number): (data: Buffer) => Buffer {
  const mask = (1n << BigInt(width)) - 1n;
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    return c;
  });
  return (data) => {
    let crc = mask;
    for (const byte of data) crc = table[Number((crc ^ BigInt(byte)) & 0xffn)] ^ (crc >> 8n);
    crc ^= mask;
    const out = Buffer.alloc(width / 8);
    for (let i = out.length - 1; i >= 0; i--, crc >>= 8n) out[i] = Number(crc & 0xffn);
    return out;
  };
}
const crc32c = reflectedCrc(0x82f63b78n, 32);
const crc64nvme = reflectedCrc(0x9a6c9329ac4bc9b5n, 64);

type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
const oracle: Record<ChecksumAlgorithm, (b: Buffer) => string> = {
  CRC32: (b) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(b));
    return out.toString('base64');
  },
  CRC32C: (b) => crc32c(b).toString('base64'),
  CRC64NVME: (b) => crc64nvme(b).toString('base64'),
  SHA1: (b) => createHash('sha1').update(b).digest('base64'),
  SHA256: (b) => createHash('sha256').update(b).digest('base64'),
};
const algorithms = Object.keys(oracle) as ChecksumAlgorithm[];
type ChecksumFields = Partial<Record<`Checksum${ChecksumAlgorithm}`, string>>;

test('the test oracle agrees with CLIENTS.md: CRC64NVME("crc64 body")', (t) => {
  t.is(oracle.CRC64NVME(Buffer.from('crc64 body')), '1RoKisXqtfQ=');
});

for (const algo of algorithms) {
  test(`${algo}: buffer (header) and stream (aws-chunked trailer) PUTs, validated GET and HEAD, none on a range`, async (t) => {
    const data = randomBytes(200_000 + algorithms.indexOf(algo));
    const expected = oracle[algo](data);
    const field = `Checksum${algo}` as const;
    for (const [Key, Body] of [
      [`sum/${algo}/buffer`, data],
      [`sum/${algo}/stream`, Readable.from([data.subarray(0, 70_000), data.subarray(70_000)])],
    ] as const) {
      const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: data.length, ChecksumAlgorithm: algo }));
      t.is((put as ChecksumFields)[field], expected, `${Key}: PutObject answers the checksum`);
      const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      t.is((got as ChecksumFields)[field], expected, `${Key}: GetObject returns it (and the SDK validated the body)`);
      t.is(got.ChecksumType, 'FULL_OBJECT');
      t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      t.is((head as ChecksumFields)[field], expected);
      const plain = await s3.send(new HeadObjectCommand({ Bucket, Key }));
      t.is((plain as ChecksumFields)[field], undefined, 'only with x-amz-checksum-mode: ENABLED');
      const ranged = await s3.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=10-19', ChecksumMode: 'ENABLED' }));
      t.is((ranged as ChecksumFields)[field], undefined, 'never on a partial body');
      t.true(Buffer.from(await ranged.Body!.transformToByteArray()).equals(data.subarray(10, 20)));
    }
    // A checksum the SDK is told (not one it computes) that does not match is BadDigest; nothing is stored.
    const wrong = oracle[algo](Buffer.from('something else'));
    const err = await t.throwsAsync(s3.send(new PutObjectCommand({ Bucket, Key: `sum/${algo}/wrong`, Body: data, [field]: wrong })));
    t.is(err?.name, 'BadDigest');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `sum/${algo}/` }));
    t.deepEqual(listed.Contents?.map((c) => c.Key), [`sum/${algo}/buffer`, `sum/${algo}/stream`]);
  });
}

test('presigned GET, HEAD, PUT and DELETE URLs; response overrides; expiry', async (t) => {
  const Key = 'presigned/a key+ü.txt';
  const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key, ContentType: 'text/plain' }), { expiresIn: 60 });
  t.is((await fetch(put, { method: 'PUT', body: 'presigned', headers: { 'content-type': 'text/plain' } })).status, 200);
  const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key, ResponseContentDisposition: 'attachment; filename="x"', ResponseCacheControl: 'no-store' }), {
    expiresIn: 60,
  });
  const got = await fetch(get);
  t.is(got.status, 200);
  t.is(await got.text(), 'presigned');
  t.is(got.headers.get('content-disposition'), 'attachment; filename="x"');
  t.is(got.headers.get('cache-control'), 'no-store');
  t.is(got.headers.get('content-type'), 'text/plain');
  const head = await getSignedUrl(s3, new HeadObjectCommand({ Bucket, Key }), { expiresIn: 60 });
  const headed = await fetch(head, { method: 'HEAD' });
  t.is(headed.status, 200);
  t.is(headed.headers.get('content-length'), '9');
  t.is((await fetch(get, { method: 'DELETE' })).status, 403, 'a URL signs its method');

  const short = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 1 });
  await new Promise((r) => setTimeout(r, 2100));
  const expired = await fetch(short);
  t.is(expired.status, 403);
  t.regex(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);

  const del = await getSignedUrl(s3, new DeleteObjectCommand({ Bucket, Key }), { expiresIn: 60 });
  t.is((await fetch(del, { method: 'DELETE' })).status, 204);
  t.is((await fetch(get)).status, 404);
});

test('lib-storage: a stream of unknown length in SHA256 parts, a body under one part, an abort leaves nothing', async (t) => {
  const data = randomBytes(11 * MiB + 5);
  // No ContentLength: lib-storage buffers 5 MiB parts from the stream and uploads them concurrently.
  const streamed = new Upload({
    client: s3,
    params: { Bucket, Key: 'lib/unknown-length', Body: Readable.from((function* () {
      for (let i = 0; i < data.length; i += 700_000) yield data.subarray(i, i + 700_000);
    })()), ChecksumAlgorithm: 'SHA256' },
    queueSize: 3,
  });
  const done = await streamed.done();
  t.regex(done.ETag ?? '', /-3"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'lib/unknown-length', ChecksumMode: 'ENABLED' }));
  t.regex(got.ChecksumSHA256 ?? '', /-3$/, 'a composite checksum (the SDK does not validate -N values)');
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(data));

  const small = new Upload({ client: s3, params: { Bucket, Key: 'lib/small', Body: Readable.from([Buffer.from('under one part')]) } });
  const smallDone = await small.done();
  t.is(smallDone.ETag, `"${createHash('md5').update('under one part').digest('hex')}"`, 'a single PutObject');

  // Abort once the upload exists on the server, while the stream still holds its second part back.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const aborted = new Upload({
    client: s3,
    params: { Bucket, Key: 'lib/aborted', Body: Readable.from((async function* () {
      yield randomBytes(6 * MiB);
      await gate;
      yield randomBytes(6 * MiB);
    })()) },
  });
  const finished = aborted.done();
  const uploadsOf = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'lib/aborted' }))).Uploads ?? [];
  const until = async (cond: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 50));
  };
  await until(async () => (await uploadsOf()).length > 0);
  t.is((await uploadsOf()).length, 1);
  await aborted.abort();
  release();
  await t.throwsAsync(finished);
  await until(async () => (await uploadsOf()).length === 0);
  t.deepEqual(await uploadsOf(), [], 'the abort removed the upload');
  t.is((await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket, Key: 'lib/aborted' }))))?.name, 'NotFound');
});
