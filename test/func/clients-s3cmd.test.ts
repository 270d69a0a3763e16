/**
 * Debian's s3cmd (2.3) against the cluster: mb, put/get/ls/del, --recursive, a 12 MiB multipart upload in
 * 5 MiB chunks (s3cmd compares every part's ETag with its MD5), info, cp, del --recursive (POST ?delete
 * with Content-MD5), rb; and the same basics signed with SigV2 (`--signature-v2`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { s3cmd, s3cmdHome } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;
let dir: string;
let home: string;
const MiB = 1024 * 1024;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  dir = mkdtempSync(join(tmpdir(), 'arca-s3cmd-files-'));
  home = s3cmdHome(cluster);
});
test.after.always(async () => cluster?.close());

async function ok(args: string[]): Promise<string> {
  const r = await s3cmd(cluster, args, home);
  if (r.code !== 0) throw new Error(`s3cmd ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function keys(Bucket: string, Prefix?: string): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket, Prefix }));
  return (r.Contents ?? []).map((c) => c.Key!);
}

test.serial('mb, put, ls, info, get, cp, del; --recursive up and down; multipart in 5 MiB chunks; rb', async (t) => {
  await ok(['mb', 's3://s3cmd-b']);
  const small = join(dir, 'small.txt');
  writeFileSync(small, 'hello from s3cmd\n');
  await ok(['put', small, 's3://s3cmd-b/small.txt']);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 's3cmd-b', Key: 'small.txt' }));
  t.is(head.ETag, `"${md5('hello from s3cmd\n')}"`);
  t.regex(head.Metadata?.['s3cmd-attrs'] ?? '', /md5:[0-9a-f]{32}/, 's3cmd keeps its attributes in x-amz-meta');
  t.regex(await ok(['ls', 's3://s3cmd-b']), /\s17\s+s3:\/\/s3cmd-b\/small\.txt/);
  const info = await ok(['info', 's3://s3cmd-b/small.txt']);
  t.regex(info, /File size:\s+17/);
  t.regex(info, new RegExp(`MD5 sum:\\s+${md5('hello from s3cmd\n')}`));
  const back = join(dir, 'small.back');
  await ok(['get', 's3://s3cmd-b/small.txt', back]);
  t.is(readFileSync(back, 'utf8'), 'hello from s3cmd\n');
  await ok(['cp', 's3://s3cmd-b/small.txt', 's3://s3cmd-b/copy/small.txt']);
  t.deepEqual(await keys('s3cmd-b'), ['copy/small.txt', 'small.txt']);

  const big = randomBytes(12 * MiB + 7);
  writeFileSync(join(dir, 'big.bin'), big);
  await ok(['put', '--multipart-chunk-size-mb=5', join(dir, 'big.bin'), 's3://s3cmd-b/big.bin']);
  const bigHead = await s3.send(new HeadObjectCommand({ Bucket: 's3cmd-b', Key: 'big.bin' }));
  t.regex(bigHead.ETag!, /-3"$/);
  await ok(['get', 's3://s3cmd-b/big.bin', join(dir, 'big.back')]);
  t.true(readFileSync(join(dir, 'big.back')).equals(big));

  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'one.txt'), '1');
  writeFileSync(join(tree, 'sub', 'two.txt'), '22');
  writeFileSync(join(tree, 'sub', 'three four.txt'), '333');
  await ok(['put', '--recursive', tree + '/', 's3://s3cmd-b/tree/']);
  t.deepEqual(await keys('s3cmd-b', 'tree/'), ['tree/one.txt', 'tree/sub/three four.txt', 'tree/sub/two.txt']);
  const lsr = await ok(['ls', '--recursive', 's3://s3cmd-b/tree/']);
  t.regex(lsr, /s3:\/\/s3cmd-b\/tree\/sub\/three four\.txt/);
  t.regex(await ok(['ls', 's3://s3cmd-b/tree/']), /DIR\s+s3:\/\/s3cmd-b\/tree\/sub\//);
  const down = join(dir, 'down');
  mkdirSync(down);
  await ok(['get', '--recursive', 's3://s3cmd-b/tree/', down + '/']);
  t.is(readFileSync(join(down, 'sub', 'three four.txt'), 'utf8'), '333');

  // del --recursive sends POST ?delete with Content-MD5.
  const del = await ok(['del', '--recursive', '--force', 's3://s3cmd-b/tree/']);
  t.regex(del, /delete: 's3:\/\/s3cmd-b\/tree\/sub\/two\.txt'/);
  t.deepEqual(await keys('s3cmd-b', 'tree/'), []);
  await ok(['del', 's3://s3cmd-b/small.txt']);
  t.deepEqual(await keys('s3cmd-b'), ['big.bin', 'copy/small.txt']);

  const notEmpty = await s3cmd(cluster, ['rb', 's3://s3cmd-b'], home);
  t.not(notEmpty.code, 0);
  t.regex(notEmpty.stderr, /BucketNotEmpty/);
  await ok(['del', '--recursive', '--force', 's3://s3cmd-b']);
  await ok(['rb', 's3://s3cmd-b']);
  t.notRegex(await ok(['ls']), /s3cmd-b/);
});

test.serial('--signature-v2: mb, put, ls, get, cp, del, rb', async (t) => {
  const v2 = (args: string[]) => ok(['--signature-v2', ...args]);
  await v2(['mb', 's3://s3cmd-v2']);
  const file = join(dir, 'v2 file+plus.txt');
  writeFileSync(file, 'signed with v2\n');
  await v2(['put', file, 's3://s3cmd-v2/dir/v2 file+plus.txt']);
  t.regex(await v2(['ls', 's3://s3cmd-v2/dir/']), /s3:\/\/s3cmd-v2\/dir\/v2 file\+plus\.txt/);
  const back = join(dir, 'v2.back');
  await v2(['get', 's3://s3cmd-v2/dir/v2 file+plus.txt', back]);
  t.is(readFileSync(back, 'utf8'), 'signed with v2\n');
  await v2(['cp', 's3://s3cmd-v2/dir/v2 file+plus.txt', 's3://s3cmd-v2/copy.txt']);
  const big = randomBytes(11 * MiB);
  writeFileSync(join(dir, 'v2.bin'), big);
  await v2(['put', '--multipart-chunk-size-mb=5', join(dir, 'v2.bin'), 's3://s3cmd-v2/v2.bin']);
  await v2(['get', 's3://s3cmd-v2/v2.bin', join(dir, 'v2.bin.back')]);
  t.true(readFileSync(join(dir, 'v2.bin.back')).equals(big));
  await v2(['del', 's3://s3cmd-v2/copy.txt']);
  t.deepEqual(await keys('s3cmd-v2'), ['dir/v2 file+plus.txt', 'v2.bin']);
  await v2(['del', '--recursive', '--force', 's3://s3cmd-v2']);
  await v2(['rb', 's3://s3cmd-v2']);
  t.notRegex(await v2(['ls']), /s3cmd-v2/);
});
