/**
 * Debian's rclone (1.60, aws-sdk-go v1) against the cluster: mkdir, copy (single PUTs with Content-MD5 and a
 * 12 MiB multipart upload forced by a 5 MiB cutoff), check (sizes and MD5s, the multipart one through
 * X-Amz-Meta-Md5chksum), ls/lsl (X-Amz-Meta-Mtime round-trips), cat, sync, server-side copyto, delete, purge.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { rclone } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;
let dir: string;
const MiB = 1024 * 1024;
const multipart = ['--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M'];
// An mtime with sub-second digits, to see that rclone's X-Amz-Meta-Mtime comes back exactly.
const mtime = new Date('2021-03-04T05:06:07.250Z');

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  dir = mkdtempSync(join(tmpdir(), 'arca-rclone-tree-'));
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'src', 'a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'src', 'sub', 'b.txt'), 'bravo\n');
  writeFileSync(join(dir, 'src', 'space and+plus.txt'), 'charlie\n');
  writeFileSync(join(dir, 'src', 'big.bin'), randomBytes(12 * MiB + 333));
  utimesSync(join(dir, 'src', 'a.txt'), mtime, mtime);
});
test.after.always(async () => cluster?.close());

/** Runs rclone, fails on a non-zero exit; stdout, or with `-v` its log (stderr). */
async function ok(args: string[]): Promise<string> {
  const r = await rclone(cluster, args);
  if (r.code !== 0) throw new Error(`rclone ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return args.includes('-v') ? r.stderr : r.stdout;
}

test.serial('mkdir, copy (multipart above the cutoff), check with MD5s, ls/lsl with mtimes, cat', async (t) => {
  await ok(['mkdir', 'arca:rcb']);
  await ok(['copy', ...multipart, join(dir, 'src'), 'arca:rcb/tree']);
  const big = await s3.send(new HeadObjectCommand({ Bucket: 'rcb', Key: 'tree/big.bin' }));
  t.regex(big.ETag!, /-3"$/, '12 MiB in 5 MiB parts');
  const whole = createHash('md5').update(readFileSync(join(dir, 'src', 'big.bin'))).digest('base64');
  t.is(big.Metadata?.md5chksum, whole, 'rclone keeps the whole-file MD5 of a multipart upload in metadata');

  const check = await rclone(cluster, ['check', join(dir, 'src'), 'arca:rcb/tree']);
  t.is(check.code, 0, check.stderr);
  t.regex(check.stderr, /0 differences found/);
  t.regex(check.stderr, /4 matching files/);
  t.notRegex(check.stderr, /hashes could not be checked/, 'every file compared by MD5');

  const ls = await ok(['ls', 'arca:rcb/tree']);
  t.regex(ls, /^\s+6 a\.txt$/m);
  t.regex(ls, /^\s+6 sub\/b\.txt$/m);
  t.regex(ls, /space and\+plus\.txt/);
  t.regex(ls, new RegExp(`^\\s+${12 * MiB + 333} big\\.bin$`, 'm'));
  const lsl = await ok(['lsl', 'arca:rcb/tree/a.txt']);
  t.regex(lsl, /2021-03-04 05:06:07\.250000000 a\.txt/, 'the original mtime comes back from X-Amz-Meta-Mtime');
  t.is(await ok(['cat', 'arca:rcb/tree/sub/b.txt']), 'bravo\n');
  t.is(await ok(['cat', 'arca:rcb/tree/space and+plus.txt']), 'charlie\n');
});

test.serial('sync: changed and deleted files, then nothing to do; a changed remote fails check', async (t) => {
  const src = join(dir, 'sync');
  mkdirSync(src);
  writeFileSync(join(src, 'keep.txt'), 'keep');
  writeFileSync(join(src, 'change.txt'), 'v1');
  writeFileSync(join(src, 'drop.txt'), 'drop');
  await ok(['sync', src, 'arca:rcb/sync']);
  writeFileSync(join(src, 'change.txt'), 'version two');
  unlinkSync(join(src, 'drop.txt'));
  const out = await ok(['sync', '-v', src, 'arca:rcb/sync']);
  t.regex(out, /change\.txt: Copied/);
  t.regex(out, /drop\.txt: Deleted/);
  t.notRegex(out, /keep\.txt: Copied/);
  const again = await ok(['sync', '-v', src, 'arca:rcb/sync']);
  t.notRegex(again, /Copied|Deleted/, 'a second sync transfers nothing');
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'rcb', Prefix: 'sync/' }));
  t.deepEqual(listed.Contents?.map((c) => c.Key), ['sync/change.txt', 'sync/keep.txt']);
  t.is(await ok(['cat', 'arca:rcb/sync/change.txt']), 'version two');

  // Same size, different bytes: only the MD5 tells them apart.
  writeFileSync(join(src, 'keep.txt'), 'KEEP');
  const check = await rclone(cluster, ['check', src, 'arca:rcb/sync']);
  t.not(check.code, 0);
  t.regex(check.stderr, /1 differences found/);
});

test.serial('copyto is a server-side copy; delete with a filter; purge removes the bucket', async (t) => {
  const out = await ok(['copyto', '-v', 'arca:rcb/tree/a.txt', 'arca:rcb/copies/a-copy.txt']);
  t.regex(out, /Copied \(server-side copy\)/);
  const lsl = await ok(['lsl', 'arca:rcb/copies/a-copy.txt']);
  t.regex(lsl, /2021-03-04 05:06:07\.250000000 a-copy\.txt/, 'metadata (the mtime) is copied');
  const bigCopy = await ok(['copyto', '-v', ...multipart, 'arca:rcb/tree/big.bin', 'arca:rcb/copies/big.bin']);
  t.regex(bigCopy, /Copied \(server-side copy\)/);
  t.is((await rclone(cluster, ['check', join(dir, 'src', 'big.bin'), 'arca:rcb/copies/'])).code, 0);

  await ok(['delete', '--include', '*.txt', 'arca:rcb/tree']);
  t.is((await ok(['ls', 'arca:rcb/tree'])).trim(), `${12 * MiB + 333} big.bin`);
  await ok(['purge', 'arca:rcb']);
  const lsd = await ok(['lsd', 'arca:']);
  t.notRegex(lsd, /\brcb\b/);
});
