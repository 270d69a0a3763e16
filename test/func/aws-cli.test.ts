/** The quick start through Debian's aws CLI: make a bucket, copy files in and out, list, remove. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { aws } from '../helpers/clients.js';

let cluster: TestCluster;
test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
});
test.after.always(async () => cluster?.close());

test('aws s3 mb, cp in and out, ls, rm, rb', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-cli-'));
  const small = join(dir, 'small.txt');
  const medium = join(dir, 'medium.bin');
  writeFileSync(small, 'hello from the aws cli\n');
  writeFileSync(medium, randomBytes(5 * 1024 * 1024 + 17));
  let r = await aws(cluster, ['s3', 'mb', 's3://cli-bucket']);
  t.is(r.code, 0, r.stderr);
  for (const f of [small, medium]) {
    r = await aws(cluster, ['s3', 'cp', f, 's3://cli-bucket/dir/']);
    t.is(r.code, 0, r.stderr);
  }
  r = await aws(cluster, ['s3', 'ls', 's3://cli-bucket/dir/']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /small\.txt/);
  t.regex(r.stdout, /5242897 medium\.bin/);
  for (const name of ['small.txt', 'medium.bin']) {
    const out = join(dir, `back-${name}`);
    r = await aws(cluster, ['s3', 'cp', `s3://cli-bucket/dir/${name}`, out]);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(readFileSync(out), readFileSync(join(dir, name)));
  }
  r = await aws(cluster, ['s3', 'rb', 's3://cli-bucket']);
  t.not(r.code, 0, 'a bucket with objects is not removed');
  r = await aws(cluster, ['s3', 'rm', '--recursive', 's3://cli-bucket/']);
  t.is(r.code, 0, r.stderr);
  r = await aws(cluster, ['s3', 'rb', 's3://cli-bucket']);
  t.is(r.code, 0, r.stderr);
  r = await aws(cluster, ['s3api', 'head-bucket', '--bucket', 'cli-bucket']);
  t.not(r.code, 0);
});
