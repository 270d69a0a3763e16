/**
 * Debian's aws CLI (2.9) against the cluster for the object operations beyond the quick start: multipart
 * uploads above 8 MiB (`aws s3 cp`), ranged multipart downloads, server-side copies (CopyObject and
 * UploadPartCopy), `aws s3 sync`, and the `s3api` multipart, copy, tagging and delete-objects calls.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { aws } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let dir: string;
const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  dir = mkdtempSync(join(tmpdir(), 'arca-cli-objects-'));
  const r = await aws(cluster, ['s3', 'mb', 's3://cli-objects']);
  if (r.code !== 0) throw new Error(r.stderr);
});
test.after.always(async () => cluster?.close());

async function ok(args: string[]): Promise<string> {
  const r = await aws(cluster, args);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test.serial('aws s3 cp of 20 MiB uploads in 8 MiB parts, downloads with ranged GETs, copies server-side', async (t) => {
  const data = randomBytes(20 * MiB + 12345);
  const src = join(dir, 'twenty.bin');
  writeFileSync(src, data);
  await ok(['s3', 'cp', src, 's3://cli-objects/big/twenty.bin']);
  const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', 'cli-objects', '--key', 'big/twenty.bin']));
  t.is(head.ContentLength, data.length);
  const partMd5s = [0, 1, 2].map((i) => md5(data.subarray(i * 8 * MiB, Math.min(data.length, (i + 1) * 8 * MiB))));
  const combined = createHash('md5');
  for (const h of partMd5s) combined.update(Buffer.from(h, 'hex'));
  t.is(head.ETag, `"${combined.digest('hex')}-3"`);
  const part2 = JSON.parse(await ok(['s3api', 'head-object', '--bucket', 'cli-objects', '--key', 'big/twenty.bin', '--part-number', '2']));
  t.is(part2.ContentLength, 8 * MiB);
  t.is(part2.PartsCount, 3);

  const back = join(dir, 'twenty.back');
  await ok(['s3', 'cp', 's3://cli-objects/big/twenty.bin', back]);
  t.true(readFileSync(back).equals(data));

  // Above the multipart threshold the CLI copies with UploadPartCopy, below it with CopyObject.
  await ok(['s3', 'cp', 's3://cli-objects/big/twenty.bin', 's3://cli-objects/copies/twenty.bin']);
  const copyBack = join(dir, 'twenty.copy');
  await ok(['s3', 'cp', 's3://cli-objects/copies/twenty.bin', copyBack]);
  t.true(readFileSync(copyBack).equals(data));
  const small = join(dir, 'small.txt');
  writeFileSync(small, 'small file\n');
  await ok(['s3', 'cp', small, 's3://cli-objects/small.txt', '--metadata', 'k=v']);
  await ok(['s3', 'cp', 's3://cli-objects/small.txt', 's3://cli-objects/copies/small.txt']);
  const copied = JSON.parse(await ok(['s3api', 'head-object', '--bucket', 'cli-objects', '--key', 'copies/small.txt']));
  t.deepEqual(copied.Metadata, { k: 'v' });
  t.is(copied.ETag, `"${md5(Buffer.from('small file\n'))}"`);
  const uploads = JSON.parse((await ok(['s3api', 'list-multipart-uploads', '--bucket', 'cli-objects'])) || '{}');
  t.is(uploads.Uploads, undefined, 'no upload left behind');
});

test.serial('aws s3 sync up, change, sync again, sync --delete, sync down', async (t) => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'a.txt'), 'a');
  writeFileSync(join(tree, 'sub', 'b.txt'), 'b');
  writeFileSync(join(tree, 'sub', 'big.bin'), randomBytes(9 * MiB));
  await ok(['s3', 'sync', tree, 's3://cli-objects/tree']);
  let listing = await ok(['s3', 'ls', '--recursive', 's3://cli-objects/tree/']);
  t.regex(listing, /tree\/a\.txt/);
  t.regex(listing, /tree\/sub\/big\.bin/);
  writeFileSync(join(tree, 'a.txt'), 'a, changed');
  const { unlinkSync } = await import('node:fs');
  unlinkSync(join(tree, 'sub', 'b.txt'));
  const out = await ok(['s3', 'sync', '--delete', tree, 's3://cli-objects/tree']);
  t.regex(out, /upload: .*a\.txt/);
  t.regex(out, /delete: s3:\/\/cli-objects\/tree\/sub\/b\.txt/);
  t.notRegex(out, /big\.bin/, 'unchanged files are not uploaded again');
  listing = await ok(['s3', 'ls', '--recursive', 's3://cli-objects/tree/']);
  t.notRegex(listing, /b\.txt/);
  const down = join(dir, 'down');
  await ok(['s3', 'sync', 's3://cli-objects/tree', down]);
  t.is(readFileSync(join(down, 'a.txt'), 'utf8'), 'a, changed');
  t.true(readFileSync(join(down, 'sub', 'big.bin')).equals(readFileSync(join(tree, 'sub', 'big.bin'))));
});

test.serial('aws s3api: multipart by hand, upload-part-copy, tagging, delete-objects, errors', async (t) => {
  const bucket = ['--bucket', 'cli-objects'];
  const created = JSON.parse(await ok(['s3api', 'create-multipart-upload', ...bucket, '--key', 'api/mp', '--content-type', 'text/x-api']));
  const id = created.UploadId;
  const p1 = join(dir, 'p1');
  const p2 = join(dir, 'p2');
  writeFileSync(p1, randomBytes(5 * MiB));
  writeFileSync(p2, 'last part');
  const e2 = JSON.parse(await ok(['s3api', 'upload-part', ...bucket, '--key', 'api/mp', '--upload-id', id, '--part-number', '2', '--body', p2])).ETag;
  const e1 = JSON.parse(await ok(['s3api', 'upload-part', ...bucket, '--key', 'api/mp', '--upload-id', id, '--part-number', '1', '--body', p1])).ETag;
  const parts = JSON.parse(await ok(['s3api', 'list-parts', ...bucket, '--key', 'api/mp', '--upload-id', id]));
  t.deepEqual(parts.Parts.map((p: { PartNumber: number }) => p.PartNumber), [1, 2]);
  const listed = JSON.parse(await ok(['s3api', 'list-multipart-uploads', ...bucket, '--prefix', 'api/']));
  t.is(listed.Uploads[0].UploadId, id);
  const mpFile = join(dir, 'mp.json');
  writeFileSync(mpFile, JSON.stringify({ Parts: [{ ETag: e1, PartNumber: 1 }, { ETag: e2, PartNumber: 2 }] }));
  const done = JSON.parse(await ok(['s3api', 'complete-multipart-upload', ...bucket, '--key', 'api/mp', '--upload-id', id, '--multipart-upload', `file://${mpFile}`]));
  t.regex(done.ETag, /-2"$/);
  const head = JSON.parse(await ok(['s3api', 'head-object', ...bucket, '--key', 'api/mp']));
  t.is(head.ContentType, 'text/x-api');
  t.is(head.ContentLength, 5 * MiB + 9);

  const copyUp = JSON.parse(await ok(['s3api', 'create-multipart-upload', ...bucket, '--key', 'api/copied']));
  const pc = JSON.parse(await ok(['s3api', 'upload-part-copy', ...bucket, '--key', 'api/copied', '--upload-id', copyUp.UploadId, '--part-number', '1', '--copy-source', 'cli-objects/api/mp', '--copy-source-range', `bytes=${5 * MiB}-${5 * MiB + 8}`]));
  t.truthy(pc.CopyPartResult.ETag);
  writeFileSync(mpFile, JSON.stringify({ Parts: [{ ETag: pc.CopyPartResult.ETag, PartNumber: 1 }] }));
  await ok(['s3api', 'complete-multipart-upload', ...bucket, '--key', 'api/copied', '--upload-id', copyUp.UploadId, '--multipart-upload', `file://${mpFile}`]);
  const out = join(dir, 'copied.out');
  await ok(['s3api', 'get-object', ...bucket, '--key', 'api/copied', out]);
  t.is(readFileSync(out, 'utf8'), 'last part');
  const range = join(dir, 'range.out');
  await ok(['s3api', 'get-object', ...bucket, '--key', 'api/mp', '--part-number', '2', range]);
  t.is(readFileSync(range, 'utf8'), 'last part');

  await ok(['s3api', 'put-object-tagging', ...bucket, '--key', 'api/mp', '--tagging', 'TagSet=[{Key=env,Value=test}]']);
  const tags = JSON.parse(await ok(['s3api', 'get-object-tagging', ...bucket, '--key', 'api/mp']));
  t.deepEqual(tags.TagSet, [{ Key: 'env', Value: 'test' }]);
  await ok(['s3api', 'put-bucket-tagging', ...bucket, '--tagging', 'TagSet=[{Key=team,Value=storage}]']);
  t.deepEqual(JSON.parse(await ok(['s3api', 'get-bucket-tagging', ...bucket])).TagSet, [{ Key: 'team', Value: 'storage' }]);

  const deleted = JSON.parse(await ok(['s3api', 'delete-objects', ...bucket, '--delete', 'Objects=[{Key=api/mp},{Key=api/copied},{Key=api/never}]']));
  t.deepEqual(deleted.Deleted.map((d: { Key: string }) => d.Key).sort(), ['api/copied', 'api/mp', 'api/never']);

  const bogus = await aws(cluster, ['s3api', 'upload-part', ...bucket, '--key', 'api/x', '--upload-id', 'bogus', '--part-number', '1', '--body', p2]);
  t.not(bogus.code, 0);
  t.regex(bogus.stderr, /NoSuchUpload/);
  const noSource = await aws(cluster, ['s3api', 'copy-object', ...bucket, '--key', 'api/x', '--copy-source', 'cli-objects/api/none']);
  t.regex(noSource.stderr, /NoSuchKey/);
  const up = JSON.parse(await ok(['s3api', 'create-multipart-upload', ...bucket, '--key', 'api/abort']));
  await ok(['s3api', 'abort-multipart-upload', ...bucket, '--key', 'api/abort', '--upload-id', up.UploadId]);
  const again = await aws(cluster, ['s3api', 'abort-multipart-upload', ...bucket, '--key', 'api/abort', '--upload-id', up.UploadId]);
  t.regex(again.stderr, /NoSuchUpload/);
});
