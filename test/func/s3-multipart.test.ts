/**
 * Multipart uploads through the AWS SDK against an in-process cluster: parts out of order and concurrently,
 * Complete with every ETag spelling, partNumber reads, listings, checksums (COMPOSITE and FULL_OBJECT),
 * lib-storage's Upload, and the errors: part too small, bogus upload id, wrong ETag, bad order, malformed XML.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import test, { type ExecutionContext } from 'ava';
import { computeChecksum, combineCrcChecksums, compositeChecksum, multipartEtag } from '../../src/common/checksums.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/raw.js';

let cluster: TestCluster;
let s3: S3Client;
const MiB = 1024 * 1024;
const Bucket = 'mpu';

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
test.after.always(async () => cluster?.close());

/** A signed POST with a whole XML body. */
function post(path: string, xml: string) {
  return rawRequest(cluster, 'POST', path, { 'content-length': String(Buffer.byteLength(xml)) }, xml);
}

async function errorOf(t: ExecutionContext, p: Promise<unknown>): Promise<S3ServiceException> {
  return (await t.throwsAsync(p)) as S3ServiceException;
}

async function getBody(Key: string, extra: { PartNumber?: number; Range?: string } = {}): Promise<{ body: Buffer; res: Awaited<ReturnType<S3Client['send']>> & Record<string, unknown> }> {
  const res = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return { body: Buffer.from(await res.Body!.transformToByteArray()), res: res as never };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function create(Key: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ...extra }));
  return r.UploadId!;
}

async function uploadPart(Key: string, UploadId: string, PartNumber: number, Body: Buffer): Promise<string> {
  const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body }));
  return r.ETag!;
}

test('parts out of order and concurrently; ETag md5(part md5s)-N; the object streams back; partNumber reads', async (t) => {
  const Key = 'big/object.bin';
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 123), randomBytes(777)];
  const UploadId = await create(Key, { ContentType: 'application/x-test', Metadata: { color: 'green' }, CacheControl: 'max-age=60' });
  const etags: string[] = [];
  await Promise.all([2, 0, 1].map(async (i) => (etags[i] = await uploadPart(Key, UploadId, i + 1, parts[i]))));
  t.deepEqual(etags, parts.map((p) => `"${md5(p)}"`));
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
  );
  t.is(done.ETag, `"${multipartEtag(parts.map(md5))}"`);
  const whole = Buffer.concat(parts);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
  t.is(head.ContentLength, whole.length);
  t.is(head.ContentType, 'application/x-test');
  t.is(head.Metadata?.color, 'green');
  t.is(head.CacheControl, 'max-age=60');
  t.is(head.ETag, done.ETag);
  const { body } = await getBody(Key);
  t.true(body.equals(whole));
  const ranged = await getBody(Key, { Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` });
  t.true(ranged.body.equals(whole.subarray(5 * MiB - 10, 5 * MiB + 10)));
  for (let n = 1; n <= 3; n++) {
    const part = await s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: n }));
    t.is(part.PartsCount, 3);
    t.true(Buffer.from(await part.Body!.transformToByteArray()).equals(parts[n - 1]));
    const h = await s3.send(new HeadObjectCommand({ Bucket, Key, PartNumber: n }));
    t.is(h.ContentLength, parts[n - 1].length);
    t.is(h.PartsCount, 3);
  }
  t.is((await errorOf(t, s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 4 })))).name, 'InvalidPartNumber');
  // The listing shows the object at its full size; the parts are not visible anywhere.
  const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'big/' }));
  t.deepEqual(
    list.Contents?.map((c) => [c.Key, c.Size, c.ETag]),
    [[Key, whole.length, done.ETag]],
  );
  // The upload is gone; a retried Complete answers the same.
  const again = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
  );
  t.is(again.ETag, done.ETag);
  t.is((await errorOf(t, s3.send(new ListPartsCommand({ Bucket, Key, UploadId })))).name, 'NoSuchUpload');
});

test('partNumber 1 of a plain object is the whole object; 2 is InvalidPartNumber', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'plain body' }));
  const r = await s3.send(new GetObjectCommand({ Bucket, Key: 'plain', PartNumber: 1 }));
  t.is(await r.Body!.transformToString(), 'plain body');
  t.is(r.ContentRange, 'bytes 0-9/10');
  t.is((await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'plain', PartNumber: 2 })))).$metadata.httpStatusCode, 416);
});

test('ListParts and ListMultipartUploads with markers, prefix and delimiter; Abort drops the parts', async (t) => {
  const a1 = await create('list/a');
  const a2 = await create('list/a');
  const b = await create('list/dir/b');
  const c = await create('list/dir/c');
  for (let n = 1; n <= 5; n++) await uploadPart('list/a', a1, n, Buffer.from(`part ${n}`));
  const page1 = await s3.send(new ListPartsCommand({ Bucket, Key: 'list/a', UploadId: a1, MaxParts: 2 }));
  t.deepEqual(page1.Parts?.map((p) => p.PartNumber), [1, 2]);
  t.true(page1.IsTruncated);
  t.is(page1.NextPartNumberMarker, '2');
  t.is(page1.Parts?.[0].Size, 6);
  const page2 = await s3.send(new ListPartsCommand({ Bucket, Key: 'list/a', UploadId: a1, PartNumberMarker: '2' }));
  t.deepEqual(page2.Parts?.map((p) => p.PartNumber), [3, 4, 5]);
  t.false(page2.IsTruncated);

  const all = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'list/' }));
  t.deepEqual(all.Uploads?.map((u) => [u.Key, u.UploadId]), [['list/a', a1], ['list/a', a2], ['list/dir/b', b], ['list/dir/c', c]]);
  t.truthy(all.Uploads?.[0].Initiated);
  const rolled = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'list/', Delimiter: '/' }));
  t.deepEqual(rolled.Uploads?.map((u) => u.Key), ['list/a', 'list/a']);
  t.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['list/dir/']);
  const first = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'list/', MaxUploads: 1 }));
  t.true(first.IsTruncated);
  t.is(first.NextKeyMarker, 'list/a');
  t.is(first.NextUploadIdMarker, a1);
  const rest = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'list/', KeyMarker: first.NextKeyMarker, UploadIdMarker: first.NextUploadIdMarker }));
  t.deepEqual(rest.Uploads?.map((u) => u.UploadId), [a2, b, c]);
  const afterKey = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'list/', KeyMarker: 'list/a' }));
  t.deepEqual(afterKey.Uploads?.map((u) => u.UploadId), [b, c]);

  for (const [Key, UploadId] of [['list/a', a1], ['list/a', a2], ['list/dir/b', b], ['list/dir/c', c]]) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  }
  t.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'list/' }))).Uploads ?? [], []);
  t.is((await errorOf(t, s3.send(new ListPartsCommand({ Bucket, Key: 'list/a', UploadId: a1 })))).name, 'NoSuchUpload');
  t.is((await errorOf(t, s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'list/a', UploadId: a1 })))).name, 'NoSuchUpload');
  // The parts went with the upload.
  const segments = await cluster.proxy.store.internalBucket((await cluster.proxy.store.getBucket(Bucket))!, 'segments');
  const left = await cluster.proxy.store.listObjects(segments, { prefix: `list/a/${a1}/`, limit: 10 });
  t.is(left.entries.length, 0);
});

test('Complete accepts quoted, entity-quoted and bare ETags, no namespace', async (t) => {
  const Key = 'etag-forms';
  const UploadId = await create(Key);
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), Buffer.from('tail')];
  for (let i = 0; i < parts.length; i++) await uploadPart(Key, UploadId, i + 1, parts[i]);
  const [e1, e2, e3] = parts.map(md5);
  const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;${e1}&quot;</ETag></Part><Part><ETag>"${e2}"</ETag><PartNumber> 2 </PartNumber></Part><Part><PartNumber>3</PartNumber><ETag>&#34;${e3}&#34;</ETag></Part></CompleteMultipartUpload>`;
  const res = await post(`/${Bucket}/${Key}?uploadId=${UploadId}`, xml);
  t.is(res.status, 200, res.body);
  t.regex(res.body, new RegExp(`<ETag>&quot;${multipartEtag([e1, e2, e3])}&quot;</ETag>`));
  t.true((await getBody(Key)).body.equals(Buffer.concat(parts)));
  const bare = await create('bare');
  await uploadPart('bare', bare, 1, Buffer.from('only'));
  const res2 = await post(`/${Bucket}/bare?uploadId=${bare}`, `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>${md5(Buffer.from('only'))}</ETag></Part></CompleteMultipartUpload>`);
  t.is(res2.status, 200, res2.body);
});

test('bad input: part too small, wrong ETag, bad order, bogus upload id, malformed XML, part numbers', async (t) => {
  const Key = 'bad';
  const UploadId = await create(Key);
  const small = Buffer.from('tiny');
  const e1 = await uploadPart(Key, UploadId, 1, small);
  const e2 = await uploadPart(Key, UploadId, 2, small);
  const complete = (Parts: { ETag: string; PartNumber: number }[]) => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
  let err = await errorOf(t, complete([{ ETag: e1, PartNumber: 1 }, { ETag: e2, PartNumber: 2 }]));
  t.is(err.name, 'EntityTooSmall');
  t.is(err.$metadata.httpStatusCode, 400);
  err = await errorOf(t, complete([{ ETag: '"00000000000000000000000000000000"', PartNumber: 1 }]));
  t.is(err.name, 'InvalidPart');
  err = await errorOf(t, complete([{ ETag: e1, PartNumber: 3 }]));
  t.is(err.name, 'InvalidPart');
  err = await errorOf(t, complete([{ ETag: e2, PartNumber: 2 }, { ETag: e1, PartNumber: 1 }]));
  t.is(err.name, 'InvalidPartOrder');
  err = await errorOf(t, complete([{ ETag: e1, PartNumber: 1 }, { ETag: e1, PartNumber: 1 }]));
  t.is(err.name, 'InvalidPartOrder');
  for (const body of ['<CompleteMultipartUpload>', 'not xml', '<CompleteMultipartUpload></CompleteMultipartUpload>', '<Other/>']) {
    const r = await post(`/${Bucket}/${Key}?uploadId=${UploadId}`, body);
    t.is(r.status, 400);
    t.regex(r.body, /<Code>MalformedXML<\/Code>/);
  }
  // Nothing was written by any of these; the upload still stands.
  t.is((await errorOf(t, s3.send(new HeadObjectCommand({ Bucket, Key })))).name, 'NotFound');
  t.is((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }))).Parts?.length, 2);
  // A single small part is a fine object.
  const one = await complete([{ ETag: e1, PartNumber: 1 }]);
  t.is(one.ETag, `"${multipartEtag([md5(small)])}"`);

  for (const id of ['bogus', '0123456789abcdef0123456789abcdef', UploadId]) {
    err = await errorOf(t, s3.send(new UploadPartCommand({ Bucket, Key, UploadId: id, PartNumber: 1, Body: 'x' })));
    t.is(err.name, 'NoSuchUpload');
    t.is(err.$metadata.httpStatusCode, 404);
  }
  const id = await create(Key);
  for (const PartNumber of [0, 10001]) {
    err = await errorOf(t, s3.send(new UploadPartCommand({ Bucket, Key, UploadId: id, PartNumber, Body: 'x' })));
    t.is(err.name, 'InvalidArgument');
  }
  await s3.send(new UploadPartCommand({ Bucket, Key, UploadId: id, PartNumber: 10000, Body: 'x' }));
  await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: id }));
  err = await errorOf(t, s3.send(new CreateMultipartUploadCommand({ Bucket: 'no-such-bucket', Key })));
  t.is(err.name, 'NoSuchBucket');
});

test('composite CRC32 checksum: parts verified, Complete checks the list, GET returns checksum-N', async (t) => {
  const Key = 'crc-composite';
  const UploadId = await create(Key, { ChecksumAlgorithm: 'CRC32' });
  const parts = [randomBytes(5 * MiB), randomBytes(1000)];
  const sent = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i], ChecksumAlgorithm: 'CRC32' }));
    t.is(r.ChecksumCRC32, computeChecksum('CRC32', parts[i]));
    sent.push({ ETag: r.ETag, PartNumber: i + 1, ChecksumCRC32: r.ChecksumCRC32 });
  }
  const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
  t.is(listed.Parts?.[0].ChecksumCRC32, sent[0].ChecksumCRC32);
  t.is(listed.ChecksumAlgorithm, 'CRC32');
  let err = await errorOf(t, s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: sent.map((p) => ({ ...p, ChecksumCRC32: 'AAAAAA==' })) } })));
  t.is(err.name, 'InvalidPart');
  err = await errorOf(t, s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: sent.map(({ ETag, PartNumber }) => ({ ETag, PartNumber })) } })));
  t.is(err.name, 'InvalidRequest');
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: sent } }));
  const expected = compositeChecksum('CRC32', parts.map((p) => computeChecksum('CRC32', p)));
  t.is(done.ChecksumCRC32, expected);
  t.is(done.ChecksumType, 'COMPOSITE');
  const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts)));
  t.is(got.ChecksumCRC32, expected);
  // A part with a checksum of another algorithm than the upload's is refused.
  const other = await create('crc-mismatch', { ChecksumAlgorithm: 'CRC32' });
  err = await errorOf(t, s3.send(new UploadPartCommand({ Bucket, Key: 'crc-mismatch', UploadId: other, PartNumber: 1, Body: 'x', ChecksumAlgorithm: 'SHA256' })));
  t.is(err.name, 'InvalidRequest');
});

test('FULL_OBJECT CRC64NVME and CRC32C checksums combine to the whole object checksum', async (t) => {
  for (const algo of ['CRC64NVME', 'CRC32C'] as const) {
    const Key = `full-${algo}`;
    const UploadId = await create(Key, { ChecksumAlgorithm: algo, ChecksumType: 'FULL_OBJECT' });
    const parts = [randomBytes(5 * MiB + 1), randomBytes(4321)];
    const sent = [];
    for (let i = 0; i < parts.length; i++) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i], ChecksumAlgorithm: algo }));
      sent.push({ ETag: r.ETag, PartNumber: i + 1 });
    }
    const whole = Buffer.concat(parts);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: sent } }));
    const field = `Checksum${algo}` as 'ChecksumCRC32C';
    t.is(done[field], computeChecksum(algo, whole));
    t.is(done[field], combineCrcChecksums(algo, parts.map((p) => ({ checksum: computeChecksum(algo, p), size: p.length }))));
    t.is(done.ChecksumType, 'FULL_OBJECT');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
    t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(whole));
  }
  const err = await errorOf(t, s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'x', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })));
  t.is(err.name, 'InvalidRequest');
});

test('lib-storage Upload: 17 MiB in 5 MiB parts with CRC32, from a buffer and from a stream', async (t) => {
  const data = randomBytes(17 * MiB);
  const up = new Upload({ client: s3, params: { Bucket, Key: 'lib/upload.bin', Body: data, ChecksumAlgorithm: 'CRC32' }, queueSize: 4, partSize: 5 * MiB });
  const r = await up.done();
  t.regex(r.ETag ?? '', /-4"$/);
  t.true((await getBody('lib/upload.bin')).body.equals(data));
  const { Readable } = await import('node:stream');
  const streamed = new Upload({ client: s3, params: { Bucket, Key: 'lib/stream.bin', Body: Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]) } });
  await streamed.done();
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'lib/stream.bin', ChecksumMode: 'ENABLED' }));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
});

test('segments go when a multipart object is overwritten (plain or multipart) or deleted', async (t) => {
  const store = cluster.proxy.store;
  const segments = await store.internalBucket((await store.getBucket(Bucket))!, 'segments');
  const segmentsOf = async (Key: string) => (await store.listObjects(segments, { prefix: `${Key}/`, limit: 100 })).entries.length;
  const multipart = async (Key: string) => {
    const UploadId = await create(Key);
    const e1 = await uploadPart(Key, UploadId, 1, randomBytes(5 * MiB));
    const e2 = await uploadPart(Key, UploadId, 2, Buffer.from('end'));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ ETag: e1, PartNumber: 1 }, { ETag: e2, PartNumber: 2 }] } }));
  };
  await multipart('gc/overwritten');
  t.is(await segmentsOf('gc/overwritten'), 2);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'gc/overwritten', Body: 'plain now' }));
  t.is(await segmentsOf('gc/overwritten'), 0);

  await multipart('gc/deleted');
  const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gc/deleted' }));
  t.is(await segmentsOf('gc/deleted'), 0);

  await multipart('gc/again');
  await multipart('gc/again');
  t.is(await segmentsOf('gc/again'), 2, 'only the new upload’s parts remain');
  t.is((await getBody('gc/again')).body.length, 5 * MiB + 3);
});

test('a bucket that never had an upload: empty listing, NoSuchUpload, and no companion created by reading', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'mpu-fresh' }));
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu-fresh' }));
  t.is(listed.Uploads, undefined);
  t.false(listed.IsTruncated);
  const err = await errorOf(t, s3.send(new ListPartsCommand({ Bucket: 'mpu-fresh', Key: 'k', UploadId: '0123456789abcdef0123456789abcdef' })));
  t.is(err.name, 'NoSuchUpload');
  const store = cluster.proxy.store;
  t.is(await store.findInternalBucket((await store.getBucket('mpu-fresh'))!, 'uploads'), undefined);
});

test('UploadPart with a stream body arrives aws-chunked with a CRC32 trailer, verified and kept for Complete', async (t) => {
  const { Readable } = await import('node:stream');
  const Key = 'chunked-part';
  const UploadId = await create(Key, { ChecksumAlgorithm: 'CRC32' });
  const data = randomBytes(300_000);
  const r = await s3.send(
    new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), ContentLength: data.length, ChecksumAlgorithm: 'CRC32' }),
  );
  t.is(r.ETag, `"${md5(data)}"`);
  t.is(r.ChecksumCRC32, computeChecksum('CRC32', data));
  const bad = await errorOf(t, s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: 'abc', ContentMD5: '1B2M2Y8AsgTpgAmY7PhCfg==' })));
  t.is(bad.name, 'BadDigest');
  t.deepEqual((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }))).Parts?.map((p) => p.PartNumber), [1], 'the bad part was not stored');
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 }] } }));
  t.is(done.ChecksumCRC32, compositeChecksum('CRC32', [computeChecksum('CRC32', data)]));
  t.true((await getBody(Key)).body.equals(data));
});

test('deleting a bucket drops its incomplete uploads; a bucket made again under the name starts with none', async (t) => {
  const { DeleteBucketCommand } = await import('@aws-sdk/client-s3');
  await s3.send(new CreateBucketCommand({ Bucket: 'mpu-gone' }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu-gone', Key: 'k' }));
  await s3.send(new UploadPartCommand({ Bucket: 'mpu-gone', Key: 'k', UploadId, PartNumber: 1, Body: 'part' }));
  const store = cluster.proxy.store;
  const old = (await store.getBucket('mpu-gone'))!;
  await s3.send(new DeleteBucketCommand({ Bucket: 'mpu-gone' }));
  for (const purpose of ['uploads', 'segments'] as const) {
    const companion = (await store.findInternalBucket(old, purpose))!;
    t.is((await store.listObjects(companion, { limit: 10 })).entries.length, 0, purpose);
  }
  await s3.send(new CreateBucketCommand({ Bucket: 'mpu-gone' }));
  t.is((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu-gone' }))).Uploads, undefined);
  const err = await errorOf(t, s3.send(new UploadPartCommand({ Bucket: 'mpu-gone', Key: 'k', UploadId, PartNumber: 2, Body: 'late' })));
  t.is(err.name, 'NoSuchUpload');
});
