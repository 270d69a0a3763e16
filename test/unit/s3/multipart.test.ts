/**
 * Multipart helpers without a cluster: names of records and parts, part numbers, the Complete list parser,
 * and the limits no functional test can reach (5 TiB objects, 5 GiB copy sources) against a stub store.
 */
import { Readable } from 'node:stream';
import test from 'ava';
import type { BucketInfo, ObjectInfo, ObjectStore } from '../../../src/proxy/object-store.js';
import { openCopySource, parseCopySource } from '../../../src/s3/copy-source.js';
import type { S3Deps, S3Request } from '../../../src/s3/context.js';
import type { S3Error } from '../../../src/s3/errors.js';
import {
  findUpload,
  isUploadId,
  maxObjectBytes,
  maxPartBytes,
  newUploadId,
  parsePartName,
  parsePartNumber,
  parseRecordName,
  partName,
  recordName,
  type UploadRecord,
  uploadIdMillis,
} from '../../../src/s3/multipart.js';
import { assembleParts, parseCompleteXml } from '../../../src/s3/multipart-complete.js';

const bucket: BucketInfo = { name: 'b', account: 'acct', policy: 'replica-3', createdTs: '0000000001.000000', meta: {} };

function info(key: string, size: number, etag = 'd41d8cd98f00b204e9800998ecf8427e'): ObjectInfo {
  return { bucket: 'b', key, ts: '0000000002.000000', size, etag, contentType: 'binary/octet-stream', meta: {} };
}

/** A store that answers every HEAD with an object of `size` bytes (and GET with an empty body). */
function stubStore(size: number): ObjectStore {
  const stub: Partial<ObjectStore> = {
    getBucket: async () => bucket,
    internalBucket: async (b, purpose) => ({ ...b, name: `${b.name}+${purpose}` }),
    headObject: async (_b, key) => info(key, size),
    getObject: async (_b, key) => ({ info: info(key, size), body: Readable.from([]) }),
  };
  return stub as ObjectStore;
}

test('upload ids sort by creation time; record and part names split back whatever the key holds', (t) => {
  const a = newUploadId(1_000);
  const b = newUploadId(2_000);
  t.true(isUploadId(a) && a < b);
  t.is(uploadIdMillis(b), 2_000);
  t.false(isUploadId('../../etc'));
  for (const key of ['plain', 'a/b/c', 'nul\0inside', 'ends/', '']) {
    t.deepEqual(parseRecordName(recordName(key, a)), { key, uploadId: a });
    t.deepEqual(parsePartName(partName(key, a, 42)), { key, uploadId: a, partNumber: 42 });
  }
  t.is(partName('k', a, 7), `k/${a}/00007`);
});

test('part numbers 1–10,000; the Complete list: order, duplicates, ETag spellings, missing fields', (t) => {
  t.is(parsePartNumber('1'), 1);
  t.is(parsePartNumber('10000'), 10000);
  for (const bad of ['0', '10001', '-1', 'x', '', '1.5', null]) t.is((t.throws(() => parsePartNumber(bad)) as S3Error).code, 'InvalidArgument');
  const parts = parseCompleteXml(
    Buffer.from('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>b</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>'),
  );
  t.deepEqual(parts, [
    { partNumber: 1, etag: 'a', checksums: {} },
    { partNumber: 3, etag: 'b', checksums: { CRC32: 'AAAAAA==' } },
  ]);
  const code = (xml: string) => (t.throws(() => parseCompleteXml(Buffer.from(xml))) as S3Error).code;
  t.is(code('<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>'), 'InvalidPartOrder');
  t.is(code('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>'), 'MalformedXML');
  t.is(code('<CompleteMultipartUpload/>'), 'MalformedXML');
  const many = `<CompleteMultipartUpload>${Array.from({ length: 10_001 }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>e</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  t.is(code(many), 'MalformedXML');
});

test('5 TiB: an upload whose parts add up to more is EntityTooLarge, exactly 5 TiB is fine', async (t) => {
  const record: UploadRecord = { key: 'k', uploadId: newUploadId(), contentType: 'x', objectMeta: {}, initiator: { account: 'a', user: 'u' } };
  const list = (n: number) => Array.from({ length: n }, (_, i) => ({ partNumber: i + 1, etag: 'd41d8cd98f00b204e9800998ecf8427e', checksums: {} }));
  const ok = await assembleParts(stubStore(maxPartBytes), bucket, record, list(maxObjectBytes / maxPartBytes), {});
  t.is(ok.size, maxObjectBytes);
  t.regex(ok.etag, /-1024$/);
  const err = (await t.throwsAsync(assembleParts(stubStore(maxPartBytes), bucket, record, list(maxObjectBytes / maxPartBytes + 1), {}))) as S3Error;
  t.is(err.code, 'EntityTooLarge');
});

test('copy sources over 5 GiB are refused as AWS words it; the header parses in its spellings', async (t) => {
  t.deepEqual(parseCopySource('/b/a%20key%2Fwith?versionId=v1'), { bucket: 'b', key: 'a key/with', versionId: 'v1' });
  t.deepEqual(parseCopySource('b/k'), { bucket: 'b', key: 'k', versionId: undefined });
  for (const bad of ['b', '/b/', '', '%zz/k']) t.is((t.throws(() => parseCopySource(bad)) as S3Error).code, 'InvalidArgument', bad);
  const deps = { store: stubStore(5 * 1024 ** 3 + 1), identity: {}, region: 'us-east-1', virtualHostDomains: [], log: () => {} } as unknown as S3Deps;
  const req = { headers: { 'x-amz-copy-source': 'b/big' }, principal: { accessKeyId: 'k', user: 'root', account: 'acct', isRoot: true } } as unknown as S3Request;
  const err = (await t.throwsAsync(openCopySource(req, deps))) as S3Error;
  t.is(err.code, 'InvalidRequest');
  t.is(err.message, 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120');
  const exact = { ...deps, store: stubStore(5 * 1024 ** 3) };
  const opened = await openCopySource(req, exact);
  t.is(opened.length, 5 * 1024 ** 3);
  opened.read.body.destroy();
});

test('an upload record older than its bucket belongs to a deleted bucket of the same name: not found', async (t) => {
  const uploadId = newUploadId();
  const record: UploadRecord = { key: 'k', uploadId, contentType: 'x', objectMeta: {}, initiator: { account: 'a', user: 'u' } };
  const store = (ts: string) =>
    ({
      findInternalBucket: async (b: BucketInfo) => ({ ...b, name: `${b.name}+uploads` }),
      headObject: async () => ({ ...info(recordName('k', uploadId), 0), ts, meta: { upload: record } }),
    }) as unknown as ObjectStore;
  const recreated = { ...bucket, createdTs: '0000000005.000000' };
  t.truthy(await findUpload(store('0000000006.000000'), recreated, 'k', uploadId));
  t.is(await findUpload(store('0000000004.000000'), recreated, 'k', uploadId), undefined);
});
