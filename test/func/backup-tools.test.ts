/**
 * Real backup tools against a versioned, object-locked cluster (Debian's packages): restic (init, two
 * backups, check --read-data, restore compared byte for byte, forget --prune), rclone listing versions with
 * --s3-versions, duplicity to an s3 URL (boto3), and an attacker holding the bucket owner's keys who cannot
 * destroy a locked backup.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { rclone, type RunResult, runCommand } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
});
test.after.always(async () => cluster?.close());

/** A tree of files (some large enough for multipart uploads by the tools), returned as path → sha256. */
function makeTree(dir: string, files: Record<string, Buffer>): void {
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
}

function digestTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function resticEnv(bucket: string): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'arca-restic-'));
  return {
    HOME: home,
    RESTIC_REPOSITORY: `s3:${cluster.endpoint}/${bucket}`,
    RESTIC_PASSWORD: 'correct horse battery staple',
    RESTIC_CACHE_DIR: join(home, 'cache'),
    AWS_ACCESS_KEY_ID: cluster.accessKey,
    AWS_SECRET_ACCESS_KEY: cluster.secretKey,
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

function restic(bucket: string, args: string[]): Promise<RunResult> {
  return runCommand('/usr/bin/restic', args, resticEnv(bucket), { timeoutMs: 300_000 });
}

function ok(t: { is(a: unknown, b: unknown, m?: string): void }, r: RunResult, what: string): void {
  t.is(r.code, 0, `${what}: ${r.stderr.slice(-2000)}`);
}

test('restic: init, two backups, check --read-data, restore byte for byte, forget --prune (versioned bucket)', async (t) => {
  const Bucket = 'restic-repo';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const src = mkdtempSync(join(tmpdir(), 'arca-restic-src-'));
  makeTree(src, { 'a.txt': Buffer.from('hello restic\n'), 'dir/big.bin': randomBytes(6 * 1024 * 1024), 'dir/small.bin': randomBytes(1000) });
  ok(t, await restic(Bucket, ['init']), 'init');
  ok(t, await restic(Bucket, ['backup', src]), 'first backup');
  // A second, incremental backup: one file changed, one added.
  makeTree(src, { 'a.txt': Buffer.from('hello again\n'), 'dir/new.bin': randomBytes(3 * 1024 * 1024) });
  const second = await restic(Bucket, ['backup', src]);
  ok(t, second, 'second backup');
  const snapshots = await restic(Bucket, ['snapshots', '--json']);
  ok(t, snapshots, 'snapshots');
  t.is((JSON.parse(snapshots.stdout) as unknown[]).length, 2);
  ok(t, await restic(Bucket, ['check', '--read-data']), 'check --read-data');
  const target = mkdtempSync(join(tmpdir(), 'arca-restic-dst-'));
  ok(t, await restic(Bucket, ['restore', 'latest', '--target', target]), 'restore');
  t.deepEqual(digestTree(join(target, src)), digestTree(src));
  ok(t, await restic(Bucket, ['forget', '--keep-last', '1', '--prune']), 'forget --prune');
  ok(t, await restic(Bucket, ['check']), 'check after prune');
  // Pruned packs are delete markers over their versions: the current listing lost them, the versions did not.
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'data/' }));
  t.true((versions.DeleteMarkers?.length ?? 0) > 0);
});

test('rclone lists versions with --s3-versions', async (t) => {
  const Bucket = 'rclone-versions';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'doc.txt', Body: 'one' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'doc.txt', Body: 'two!' }));
  const plain = await rclone(cluster, ['lsf', `arca:${Bucket}`]);
  ok(t, plain, 'lsf');
  t.deepEqual(plain.stdout.trim().split('\n'), ['doc.txt']);
  const all = await rclone(cluster, ['lsl', '--s3-versions', `arca:${Bucket}`]);
  ok(t, all, 'lsl --s3-versions');
  const lines = all.stdout.trim().split('\n');
  t.is(lines.length, 2, all.stdout);
  t.true(lines.some((l) => /^\s*4 .* doc\.txt$/.test(l)), all.stdout);
  t.true(lines.some((l) => /^\s*3 .* doc-v\d{4}-\d\d-\d\d-\d{6}-\d{3}\.txt$/.test(l)), all.stdout);
  // The old version reads back through its versioned name.
  const name = lines.map((l) => l.trim().split(/\s+/).pop()!).find((n) => n.startsWith('doc-v'))!;
  const old = await rclone(cluster, ['cat', '--s3-versions', `arca:${Bucket}/${name}`]);
  ok(t, old, 'cat old version');
  t.is(old.stdout, 'one');
});

test('duplicity backs up to and restores from an s3 URL (boto3)', async (t) => {
  const Bucket = 'duplicity-repo';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const src = mkdtempSync(join(tmpdir(), 'arca-dup-src-'));
  makeTree(src, { 'notes.txt': Buffer.from('duplicity was here\n'), 'sub/blob.bin': randomBytes(2 * 1024 * 1024) });
  const home = mkdtempSync(join(tmpdir(), 'arca-dup-home-'));
  const env = {
    HOME: home,
    AWS_ACCESS_KEY_ID: cluster.accessKey,
    AWS_SECRET_ACCESS_KEY: cluster.secretKey,
    AWS_DEFAULT_REGION: 'us-east-1',
  };
  const common = ['--no-encryption', '--s3-endpoint-url', cluster.endpoint, '--archive-dir', join(home, 'archive')];
  const url = `boto3+s3://${Bucket}/backups`;
  ok(t, await runCommand('/usr/bin/duplicity', ['full', ...common, src, url], env, { timeoutMs: 300_000 }), 'full');
  writeFileSync(join(src, 'notes.txt'), 'changed\n');
  ok(t, await runCommand('/usr/bin/duplicity', ['incremental', ...common, src, url], env, { timeoutMs: 300_000 }), 'incremental');
  const target = join(mkdtempSync(join(tmpdir(), 'arca-dup-dst-')), 'restored');
  ok(t, await runCommand('/usr/bin/duplicity', ['restore', ...common, url, target], env, { timeoutMs: 300_000 }), 'restore');
  t.deepEqual(digestTree(target), digestTree(src));
  const status = await runCommand('/usr/bin/duplicity', ['collection-status', ...common, url], env, { timeoutMs: 300_000 });
  ok(t, status, 'collection-status');
  t.regex(status.stdout, /Chain start time/);
});

test('a client holding the bucket owner keys cannot destroy a locked restic backup', async (t) => {
  const Bucket = 'restic-locked';
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }),
  );
  const src = mkdtempSync(join(tmpdir(), 'arca-restic-locked-'));
  makeTree(src, { 'ledger.csv': randomBytes(200_000), 'photos/cat.jpg': randomBytes(1_500_000) });
  ok(t, await restic(Bucket, ['init']), 'init');
  ok(t, await restic(Bucket, ['backup', src]), 'backup');
  const before = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  const versions = before.Versions ?? [];
  t.true(versions.length > 3);

  // The attacker (the owner's keys: here the root user's) tries everything restic and S3 allow.
  await restic(Bucket, ['forget', '--keep-last', '0', '--prune']).catch(() => undefined);
  const aws = await runCommand('/usr/bin/aws', ['--endpoint-url', cluster.endpoint, 's3', 'rm', '--recursive', `s3://${Bucket}/`], {
    HOME: mkdtempSync(join(tmpdir(), 'arca-aws-')),
    AWS_ACCESS_KEY_ID: cluster.accessKey,
    AWS_SECRET_ACCESS_KEY: cluster.secretKey,
    AWS_DEFAULT_REGION: 'us-east-1',
  });
  t.is(aws.code, 0, aws.stderr);
  let refused = 0;
  for (const v of versions) {
    try {
      await s3.send(new DeleteObjectCommand({ Bucket, Key: v.Key, VersionId: v.VersionId, BypassGovernanceRetention: true }));
    } catch (err) {
      if ((err as { name?: string }).name === 'AccessDenied') refused++;
    }
  }
  t.is(refused, versions.length);

  // Every version is still there; removing the attacker's delete markers (allowed) brings the repository back whole.
  const after = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  const kept = new Set((after.Versions ?? []).map((v) => v.VersionId));
  t.deepEqual(versions.filter((v) => !kept.has(v.VersionId)), []);
  // Undelete what the backup held (the attacker's own lock files stay deleted).
  const backedUp = new Set(versions.filter((v) => v.IsLatest).map((v) => v.Key));
  for (const m of after.DeleteMarkers ?? []) if (backedUp.has(m.Key)) await s3.send(new DeleteObjectCommand({ Bucket, Key: m.Key, VersionId: m.VersionId }));
  ok(t, await restic(Bucket, ['check', '--read-data']), 'check --read-data after the attack');
  const target = mkdtempSync(join(tmpdir(), 'arca-restic-locked-dst-'));
  ok(t, await restic(Bucket, ['restore', 'latest', '--target', target]), 'restore after the attack');
  t.deepEqual(digestTree(join(target, src)), digestTree(src));
});
