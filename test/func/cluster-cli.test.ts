/**
 * `arca cluster` as real processes (the topology docker-compose.yml describes, on one host): it starts,
 * serves the aws CLI, stops every child on SIGTERM, keeps data across restarts, and refuses a busy port with
 * a one-line error. The compose file itself is validated with Debian's docker-compose.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseNodeConfig, parseProxyConfig } from '../../src/common/config.js';
import { runCommand } from '../helpers/clients.js';
import { consecutiveFreePorts } from '../helpers/cluster.js';

const main = join(process.cwd(), 'dist/src/cli/main.js');

function startArcaCluster(dataDir: string, port: number): { child: ChildProcess; ready: Promise<string>; output: () => string } {
  const child = spawn(process.execPath, [main, 'cluster', '--data', dataDir, '--port', String(port), '--nodes', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready: /m.test(out)) resolve(out);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`arca cluster exited ${code}: ${out}`)));
  });
  return { child, ready, output: () => out };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function pidsUnder(dataDir: string): Promise<string> {
  return runCommand('/usr/bin/pgrep', ['-f', dataDir], {}).then((r) => r.stdout.trim());
}

test.serial('arca cluster runs 1 proxy + 4 nodes, serves the aws CLI, stops cleanly and keeps data', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'arca-cluster-'));
  const port = await consecutiveFreePorts(5);
  const first = startArcaCluster(dataDir, port);
  const banner = await first.ready;
  t.regex(banner, new RegExp(`S3 endpoint: +http://127\\.0\\.0\\.1:${port}`));
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
  t.true(banner.includes(creds.accessKey) && banner.includes(creds.secretKey));
  // Each child got the environment its role needs before it started (src/cli/process-env.ts).
  const children = (await pidsUnder(dataDir)).split('\n').map((pid) => ({
    args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
    env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
  }));
  const role = (name: string) => children.filter((c) => c.args.includes(name));
  t.is(role('proxy').length, 1);
  t.is(role('node').length, 4);
  t.true(role('proxy')[0].env.includes('MALLOC_TRIM_THRESHOLD_=67108864'));
  t.true(role('proxy')[0].env.some((v) => v.startsWith('NODE_OPTIONS=') && v.includes('--max-semi-space-size=8')));
  for (const node of role('node')) {
    t.true(node.env.includes('UV_THREADPOOL_SIZE=32'));
    t.true(node.env.some((v) => v.startsWith('NODE_OPTIONS=') && v.includes('--max-semi-space-size=')));
  }
  // Its nodes share this host: reads ask node1 first, then node2, … (docs/proxy.md, "Read affinity").
  const proxyConfig = parseProxyConfig(JSON.parse(readFileSync(join(dataDir, 'etc/proxy.json'), 'utf8')), 'proxy.json');
  t.deepEqual(proxyConfig.readAffinity, [1, 2, 3, 4].map((i) => `127.0.0.1:${port + i}`));
  const env = { HOME: dataDir, AWS_ACCESS_KEY_ID: creds.accessKey, AWS_SECRET_ACCESS_KEY: creds.secretKey, AWS_DEFAULT_REGION: 'us-east-1' };
  const aws = (...args: string[]) => runCommand('/usr/bin/aws', ['--endpoint-url', `http://127.0.0.1:${port}`, ...args], env);
  const file = join(dataDir, 'hello.txt');
  writeFileSync(file, 'kept across restarts\n');
  t.is((await aws('s3', 'mb', 's3://persist')).code, 0);
  t.is((await aws('s3', 'cp', file, 's3://persist/hello.txt')).code, 0);
  t.is(await stop(first.child), 0);
  t.is(await pidsUnder(dataDir), '', 'no process of the cluster is left');

  const second = startArcaCluster(dataDir, port);
  await second.ready;
  const r = await aws('s3', 'cp', 's3://persist/hello.txt', '-');
  t.is(r.stdout, 'kept across restarts\n', r.stderr);
  t.is(await stop(second.child), 0);
});

test.serial('a port in use is refused with a one-line error naming it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'arca-cluster-'));
  const port = await consecutiveFreePorts(5);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(port + 2, '127.0.0.1', resolve));
  const run = await runCommand(process.execPath, [main, 'cluster', '--data', dataDir, '--port', String(port)], {});
  blocker.close();
  t.is(run.code, 1);
  t.is(run.stderr.trim().split('\n').length, 1, run.stderr);
  t.regex(run.stderr, new RegExp(`port ${port + 2}`));
});

/** Resolves once no process names `dataDir` any more; rejects after `ms`. */
async function allGone(dataDir: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while ((await pidsUnder(dataDir)) !== '') {
    if (Date.now() > until) throw new Error(`still running after ${ms} ms: ${await pidsUnder(dataDir)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test.serial('a script that started a cluster with the bench helper and then threw leaves no process behind', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'arca-cluster-'));
  const script = join(dataDir, 'throws.mjs');
  const helper = join(process.cwd(), 'dist/bench/lib/arca-cluster.js');
  const basePort = await consecutiveFreePorts(5);
  writeFileSync(script, `const { startArcaCluster } = await import(${JSON.stringify(helper)});\nawait startArcaCluster({ dataDir: ${JSON.stringify(join(dataDir, 'arca'))}, basePort: ${basePort} });\nthrow new Error('the script failed');\n`);
  const run = await runCommand(process.execPath, [script], {});
  t.not(run.code, 0);
  t.regex(run.stderr, /the script failed/);
  // The helper told the cluster to stop as the script exited; the cluster stopped its nodes and proxy.
  await allGone(dataDir, 20_000);
  t.pass();
});

test.serial('a cluster whose output reader went away stops its nodes and proxy at its next line of output', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'arca-cluster-'));
  const port = await consecutiveFreePorts(5);
  const c = startArcaCluster(dataDir, port);
  await c.ready;
  const exited = new Promise<number | null>((resolve) => c.child.once('exit', (code) => resolve(code)));
  // The reader goes. A request for a device node1 does not have makes it log a line (507), which the
  // cluster passes on to its own closed stderr.
  c.child.stdout!.destroy();
  c.child.stderr!.destroy();
  const { nodePorts } = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as { nodePorts: number[] };
  const res = await fetch(`http://127.0.0.1:${nodePorts[0]}/o/no-such-device/0/a/b/c`, { method: 'HEAD' });
  t.is(res.status, 507);
  t.is(await exited, 0, 'the cluster stopped as on a hang-up');
  await allGone(dataDir, 20_000);
});

test('docker-compose.yml validates, and its process configs parse', async (t) => {
  const r = await runCommand('/usr/bin/docker-compose', ['-f', 'docker-compose.yml', 'config', '--quiet'], { HOME: tmpdir() });
  t.is(r.code, 0, r.stderr);
  for (let i = 1; i <= 4; i++) {
    const file = `deploy/compose/node${i}.json`;
    t.notThrows(() => parseNodeConfig(JSON.parse(readFileSync(file, 'utf8')), file));
  }
  const proxy = JSON.parse(readFileSync('deploy/compose/proxy.json', 'utf8'));
  t.notThrows(() => parseProxyConfig({ ...proxy, rootAccessKey: 'a', rootSecretKey: 'b' }, 'proxy.json'));
});
