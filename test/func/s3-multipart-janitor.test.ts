/**
 * The multipart janitor against an in-process cluster: expired uploads are aborted, parts without an upload
 * are collected after their grace period, and the parts of live uploads and of completed objects stay.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import type { BucketInfo } from '../../src/proxy/object-store.js';
import { partName, recordName } from '../../src/s3/multipart.js';
import { MultipartJanitor } from '../../src/s3/multipart-janitor.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;
const Bucket = 'janitor';
const MiB = 1024 * 1024;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
test.after.always(async () => cluster?.close());

async function bucket(): Promise<BucketInfo> {
  return (await cluster.proxy.store.getBucket(Bucket))!;
}

async function partsUnder(prefix: string): Promise<string[]> {
  const store = cluster.proxy.store;
  const segments = await store.internalBucket(await bucket(), 'segments');
  return (await store.listObjects(segments, { prefix, limit: 1000 })).entries.flatMap((e) => ('key' in e ? [e.key] : []));
}

async function upload(Key: string, parts: Buffer[]): Promise<{ UploadId: string; etags: string[] }> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const etags: string[] = [];
  for (let i = 0; i < parts.length; i++) etags.push((await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i] }))).ETag!);
  return { UploadId: UploadId!, etags };
}

test.serial('expired uploads are aborted with their parts; younger ones stay', async (t) => {
  const old = await upload('exp/old', [Buffer.from('a'), Buffer.from('b')]);
  await sleep(30);
  const middle = Date.now();
  await sleep(30);
  const young = await upload('exp/young', [Buffer.from('c')]);
  const abortAfterMs = 7 * 24 * 3600 * 1000;
  const janitor = new MultipartJanitor({ store: cluster.proxy.store, abortAfterMs, orphanGraceMs: 3600_000, log: () => {}, now: () => middle + abortAfterMs });
  const pass = await janitor.runOnce();
  t.is(pass.abortedUploads, 1);
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'exp/' }));
  t.deepEqual(listed.Uploads?.map((u) => u.UploadId), [young.UploadId]);
  t.deepEqual(await partsUnder(`exp/old/${old.UploadId}/`), []);
  t.is((await partsUnder(`exp/young/${young.UploadId}/`)).length, 1);
  // abortAfterMs 0 keeps every upload.
  const keepAll = new MultipartJanitor({ store: cluster.proxy.store, abortAfterMs: 0, orphanGraceMs: 3600_000, log: () => {}, now: () => Date.now() + 10 * abortAfterMs });
  t.is((await keepAll.runOnce()).abortedUploads, 0);
});

test.serial('parts without an upload go after the grace period; a completed object keeps exactly its parts', async (t) => {
  const store = cluster.proxy.store;
  const b = await bucket();
  // An abort that stopped after deleting the record.
  const crashed = await upload('orphan/crashed', [Buffer.from('x'), Buffer.from('y')]);
  await store.deleteObject(await store.internalBucket(b, 'uploads'), recordName('orphan/crashed', crashed.UploadId));
  // A completed object, plus a part that landed after its Complete (an UploadPart racing it).
  const data = [randomBytes(5 * MiB), Buffer.from('tail')];
  const done = await upload('orphan/done', data);
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'orphan/done', UploadId: done.UploadId, MultipartUpload: { Parts: done.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  const { Readable } = await import('node:stream');
  await store.putObject(await store.internalBucket(b, 'segments'), partName('orphan/done', done.UploadId, 7), {
    body: Readable.from([Buffer.from('late')]),
    contentType: 'application/octet-stream',
    finish: () => ({ etag: 'late' }),
  });
  const live = await upload('orphan/live', [Buffer.from('live')]);

  const careful = new MultipartJanitor({ store, abortAfterMs: 0, orphanGraceMs: 3600_000, log: () => {} });
  t.is((await careful.runOnce()).deletedParts, 0, 'nothing younger than the grace period goes');

  const janitor = new MultipartJanitor({ store, abortAfterMs: 0, orphanGraceMs: 0, log: () => {}, now: () => Date.now() + 1000 });
  const pass = await janitor.runOnce();
  t.is(pass.deletedParts, 3);
  t.deepEqual(await partsUnder(`orphan/crashed/${crashed.UploadId}/`), []);
  t.deepEqual(await partsUnder(`orphan/done/${done.UploadId}/`), [partName('orphan/done', done.UploadId, 1), partName('orphan/done', done.UploadId, 2)]);
  t.is((await partsUnder(`orphan/live/${live.UploadId}/`)).length, 1);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'orphan/done' }));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(data)));
  t.is((await janitor.runOnce()).deletedParts, 0, 'a second pass finds nothing more');
});
