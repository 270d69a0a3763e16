/**
 * Debian's aws CLI (2.9) for what aws-cli.test.ts and aws-cli-objects.test.ts do not cover: ls at every
 * level, a sync that has nothing to do in either direction, s3api put-object with metadata, head-object,
 * list-objects-v2 paging, get-object --range, multipart completed with unquoted ETags, and `aws s3 presign`
 * fetched with curl (and refused once expired).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { aws, runCommand } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let dir: string;
const MiB = 1024 * 1024;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  dir = mkdtempSync(join(tmpdir(), 'arca-cli-more-'));
  await ok(['s3', 'mb', 's3://cli-more']);
});
test.after.always(async () => cluster?.close());

async function ok(args: string[]): Promise<string> {
  const r = await aws(cluster, args);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test.serial('ls: buckets, a bucket root, a prefix, --recursive; sync both ways, then again with nothing to do', async (t) => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(tree, 'top.txt'), 'top');
  writeFileSync(join(tree, 'sub', 'mid.txt'), 'middle');
  writeFileSync(join(tree, 'sub', 'deeper', 'low +.txt'), 'low');
  const up = await ok(['s3', 'sync', tree, 's3://cli-more/tree']);
  t.is(up.match(/^upload: /gm)?.length, 3);
  t.is(await ok(['s3', 'sync', tree, 's3://cli-more/tree']), '', 'a second sync uploads nothing');

  t.regex(await ok(['s3', 'ls']), /\scli-more$/m);
  t.regex(await ok(['s3', 'ls', 's3://cli-more']), /^\s+PRE tree\/$/m);
  const level = await ok(['s3', 'ls', 's3://cli-more/tree/']);
  t.regex(level, /^\s+PRE sub\/$/m);
  t.regex(level, /\s3 top\.txt$/m);
  t.notRegex(level, /mid\.txt/, 'without --recursive only one level');
  const all = await ok(['s3', 'ls', '--recursive', 's3://cli-more/tree/']);
  t.deepEqual(
    all.trim().split('\n').map((l) => l.split(/\s+/).slice(3).join(' ')),
    ['tree/sub/deeper/low +.txt', 'tree/sub/mid.txt', 'tree/top.txt'],
  );

  const down = join(dir, 'down');
  const got = await ok(['s3', 'sync', 's3://cli-more/tree', down]);
  t.is(got.match(/^download: /gm)?.length, 3);
  t.is(readFileSync(join(down, 'sub', 'deeper', 'low +.txt'), 'utf8'), 'low');
  t.is(await ok(['s3', 'sync', 's3://cli-more/tree', down]), '', 'a second sync down downloads nothing');

  await ok(['s3', 'rm', '--recursive', 's3://cli-more/tree/sub/']);
  t.deepEqual((await ok(['s3', 'ls', '--recursive', 's3://cli-more/'])).trim().split(/\s+/).slice(3), ['tree/top.txt']);
});

test.serial('s3api: put-object with metadata, head-object, list-objects-v2 paging, get-object --range', async (t) => {
  const body = join(dir, 'body.bin');
  const data = randomBytes(1000);
  writeFileSync(body, data);
  const put = JSON.parse(
    await ok(['s3api', 'put-object', '--bucket', 'cli-more', '--key', 'api/obj.bin', '--body', body, '--metadata', 'color=blue,size=large', '--content-type', 'application/x-test', '--cache-control', 'max-age=60']),
  );
  t.is(put.ETag, `"${md5(data)}"`);
  const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', 'cli-more', '--key', 'api/obj.bin']));
  t.like(head, { ContentLength: 1000, ContentType: 'application/x-test', CacheControl: 'max-age=60', ETag: put.ETag, AcceptRanges: 'bytes', Metadata: { color: 'blue', size: 'large' } });
  const missing = await aws(cluster, ['s3api', 'head-object', '--bucket', 'cli-more', '--key', 'api/none']);
  t.not(missing.code, 0);
  t.regex(missing.stderr, /\(404\)/);

  mkdirSync(join(dir, 'page'));
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'page', `k${i}`), `${i}`);
  await ok(['s3', 'cp', '--recursive', join(dir, 'page'), 's3://cli-more/page/']);
  // One page of two by hand, then the CLI's own paging with --page-size (MaxKeys per request).
  const first = JSON.parse(await ok(['s3api', 'list-objects-v2', '--bucket', 'cli-more', '--prefix', 'page/', '--max-keys', '2', '--no-paginate']));
  t.deepEqual(first.Contents.map((c: { Key: string }) => c.Key), ['page/k0', 'page/k1']);
  t.true(first.IsTruncated);
  t.is(first.KeyCount, 2);
  const rest = JSON.parse(
    await ok(['s3api', 'list-objects-v2', '--bucket', 'cli-more', '--prefix', 'page/', '--max-keys', '2', '--no-paginate', '--continuation-token', first.NextContinuationToken]),
  );
  t.deepEqual(rest.Contents.map((c: { Key: string }) => c.Key), ['page/k2', 'page/k3']);
  const paged = JSON.parse(await ok(['s3api', 'list-objects-v2', '--bucket', 'cli-more', '--prefix', 'page/', '--page-size', '2']));
  t.deepEqual(paged.Contents.map((c: { Key: string }) => c.Key), ['page/k0', 'page/k1', 'page/k2', 'page/k3', 'page/k4']);
  const limited = JSON.parse(await ok(['s3api', 'list-objects-v2', '--bucket', 'cli-more', '--prefix', 'page/', '--page-size', '2', '--max-items', '3']));
  t.is(limited.Contents.length, 3);
  t.truthy(limited.NextToken);

  const ranged = join(dir, 'ranged.out');
  const r = JSON.parse(await ok(['s3api', 'get-object', '--bucket', 'cli-more', '--key', 'api/obj.bin', '--range', 'bytes=100-199', ranged]));
  t.is(r.ContentRange, 'bytes 100-199/1000');
  t.is(r.ContentLength, 100);
  t.true(readFileSync(ranged).equals(data.subarray(100, 200)));
  const bad = await aws(cluster, ['s3api', 'get-object', '--bucket', 'cli-more', '--key', 'api/obj.bin', '--range', 'bytes=1000-', ranged]);
  t.regex(bad.stderr, /InvalidRange/);
});

test.serial('s3api multipart completed with unquoted ETags', async (t) => {
  const bucket = ['--bucket', 'cli-more', '--key', 'mp/unquoted'];
  const id = JSON.parse(await ok(['s3api', 'create-multipart-upload', ...bucket])).UploadId;
  const parts = [randomBytes(5 * MiB), randomBytes(1234)];
  const etags: string[] = [];
  for (const [i, p] of parts.entries()) {
    const f = join(dir, `part${i}`);
    writeFileSync(f, p);
    etags.push(JSON.parse(await ok(['s3api', 'upload-part', ...bucket, '--upload-id', id, '--part-number', String(i + 1), '--body', f])).ETag);
  }
  t.deepEqual(etags, parts.map((p) => `"${md5(p)}"`));
  const list = join(dir, 'parts.json');
  writeFileSync(list, JSON.stringify({ Parts: etags.map((e, i) => ({ ETag: e.replaceAll('"', ''), PartNumber: i + 1 })) }));
  const done = JSON.parse(await ok(['s3api', 'complete-multipart-upload', ...bucket, '--upload-id', id, '--multipart-upload', `file://${list}`]));
  const combined = createHash('md5');
  for (const p of parts) combined.update(createHash('md5').update(p).digest());
  t.is(done.ETag, `"${combined.digest('hex')}-2"`);
  const out = join(dir, 'mp.out');
  await ok(['s3', 'cp', 's3://cli-more/mp/unquoted', out]);
  t.true(readFileSync(out).equals(Buffer.concat(parts)));
});

test.serial('aws s3 presign, fetched with curl; an expired URL is AccessDenied "Request has expired"', async (t) => {
  writeFileSync(join(dir, 'shared.txt'), 'shared by url\n');
  await ok(['s3', 'cp', join(dir, 'shared.txt'), 's3://cli-more/shared/a file+.txt']);
  const url = (await ok(['s3', 'presign', 's3://cli-more/shared/a file+.txt', '--expires-in', '300'])).trim();
  t.regex(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256.*X-Amz-Expires=300/);
  const got = await runCommand('/usr/bin/curl', ['-sS', '-w', '\n%{http_code}', url], {});
  t.is(got.stdout, 'shared by url\n\n200');
  const headers = await runCommand('/usr/bin/curl', ['-sS', '-I', url], {});
  t.regex(headers.stdout, /^HTTP\/1\.1 403/, 'a URL presigned for GET does not sign HEAD');
  const short = (await ok(['s3', 'presign', 's3://cli-more/shared/a file+.txt', '--expires-in', '1'])).trim();
  await new Promise((r) => setTimeout(r, 2100));
  const expired = await runCommand('/usr/bin/curl', ['-sS', '-w', '\n%{http_code}', short], {});
  t.regex(expired.stdout, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  t.regex(expired.stdout, /403$/);
});
