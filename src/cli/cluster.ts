/**
 * `arca cluster`: a whole cluster on this machine — builds the rings on first start, then runs one proxy and
 * N storage nodes as child processes on 127.0.0.1, prints the endpoint and credentials and a line with
 * `ready`, and stops every child on SIGINT/SIGTERM, when its output's reader went away, and when it exits
 * otherwise. Restarting on the same data directory keeps all data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { prepareLocalCluster } from './local-cluster.js';
import { proxyEnv, storageNodeEnv } from './process-env.js';

const usage = `usage: arca cluster [--data DIR] [--port 8080] [--nodes 4] [--policy replica-3] [--glance-port 9292]
                    [--webhook NAME=URL]... [--recon-run]

Runs a local cluster: 1 proxy on --port and N storage nodes on the ports after it.
It offers the storage policies replica-3 and ec-4+2 (and --policy when it names another, e.g. ec-8+4); --policy
is the default for new buckets, and a bucket chooses another with x-arca-storage-policy at creation. The image
API (Glance v2) is served when --glance-port is given; its images bucket uses ec-4+2.
Credentials come from ARCA_ACCESS_KEY/ARCA_SECRET_KEY when set, otherwise they are generated once and kept
in the data directory (default ./.arca-data). Each --webhook defines an event notification target whose ARN is
arn:arca:sqs::NAME:webhook; deliveries carry x-arca-signature: sha256=HMAC(secret, body) with a secret kept in
DIR/webhooks.json and printed at start. --recon-run lets POST /recon/run on each node's port run a worker's pass
at once (the node config's reconRun; bench:compare uses it to replicate a write step's objects before the next step).`;

/** Webhooks from `--webhook NAME=URL`, each with a signing secret kept in the data directory. */
function webhooksOf(specs: string[], dataDir: string): Record<string, { url: string; secret: string }> {
  const file = join(dataDir, 'webhooks.json');
  const secrets: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const out: Record<string, { url: string; secret: string }> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z0-9_.-]{1,64})=(https?:\/\/.+)$/.exec(spec);
    if (!m) throw new ArcaError('InvalidConfig', `--webhook ${spec}: want NAME=http://host:port/path`);
    secrets[m[1]] ??= randomBytes(24).toString('base64url');
    out[m[1]] = { url: m[2], secret: secrets[m[1]] };
  }
  if (specs.length) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return out;
}

/** The policies of a new local cluster: replica-3 (index 0), ec-4+2 (1), and `wanted` after them if it is another. */
export function localClusterPolicies(wanted: string): Array<{ index: number; name: string }> {
  const names = ['replica-3', 'ec-4+2'];
  if (!names.includes(wanted)) names.push(wanted);
  return names.map((name, index) => ({ index, name }));
}

/** Fails with a one-line error naming the port when something already listens on it. */
function ensurePortFree(port: number): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ArcaError('InvalidConfig', `port ${port} on 127.0.0.1 is not available (${err.code})`)),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

/** Starts a child `arca` process and resolves once it prints its `ready` line. */
function startChild(name: string, args: string[], children: ChildProcess[], env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  return new Promise((resolveChild, reject) => {
    let buffered = '';
    child.stdout!.on('data', (data: Buffer) => {
      buffered += data.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('ready')) resolveChild(child);
        else process.stdout.write(`[${name}] ${line}\n`);
        nl = buffered.indexOf('\n');
      }
    });
    child.stderr!.on('data', (data: Buffer) => {
      for (const line of data.toString().trimEnd().split('\n')) process.stderr.write(`[${name}] ${line}\n`);
    });
    child.once('exit', (code, signal) => reject(new ArcaError('Internal', `${name} exited (${signal ?? code}) before it was ready`)));
  });
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string', default: '.arca-data' },
      port: { type: 'string', default: '8080' },
      nodes: { type: 'string', default: '4' },
      policy: { type: 'string', default: 'replica-3' },
      'glance-port': { type: 'string' },
      webhook: { type: 'string', multiple: true, default: [] },
      'recon-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const port = Number(values.port);
  const nodes = Number(values.nodes);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ArcaError('InvalidConfig', `--port ${values.port}: not a port number`);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new ArcaError('InvalidConfig', `--nodes ${values.nodes}: must be 1 to 64`);
  const glancePort = values['glance-port'] === undefined ? undefined : Number(values['glance-port']);

  const dataDir = resolve(values.data);
  const hooks = webhooksOf(values.webhook as string[], dataDir);
  const webhooks = Object.keys(hooks).length ? hooks : undefined;
  const layout = prepareLocalCluster(
    dataDir,
    {
      port,
      nodes,
      policies: localClusterPolicies(values.policy),
      defaultPolicy: values.policy,
      glancePort,
      partPower: 10,
      seed: Math.floor(Math.random() * 2 ** 32),
    },
    { accessKey: process.env.ARCA_ACCESS_KEY, secretKey: process.env.ARCA_SECRET_KEY, readAffinity: true, reconRun: values['recon-run'] === true, ...(webhooks ? { events: { webhooks } } : {}) },
  );
  const ports = [port, ...(layout.spec.nodePorts ?? []), ...(glancePort ? [glancePort] : [])];
  for (const p of ports) await ensurePortFree(p);

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((done) => {
            if (c.exitCode !== null || c.signalCode !== null) return done();
            c.once('exit', () => done());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  };
  // However this process ends, its children end with it: they would otherwise go on running, orphaned.
  process.once('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  });
  const exited = new Promise<number>((resolveExit) => {
    const stop = (why: string) => {
      if (stopping) return;
      process.stdout.write(`arca cluster: ${why}, stopping\n`);
      void stopAll().then(() => resolveExit(0));
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop(signal));
    // Output whose reader went away (a script that started the cluster and died) stops the cluster as a
    // hang-up would, instead of an unhandled EPIPE ending this process before its children.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => stop('output closed'));
  });

  try {
    await Promise.all(layout.nodeConfigFiles.map((file, i) => startChild(`node${i + 1}`, ['node', '--config', file], children, storageNodeEnv())));
    await startChild('proxy', ['proxy', '--config', layout.proxyConfigFile], children, proxyEnv());
  } catch (err) {
    await stopAll();
    throw err;
  }
  for (const [i, c] of children.entries()) {
    c.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`arca cluster: ${i < nodes ? `node${i + 1}` : 'proxy'} exited (${signal ?? code}); stopping the cluster\n`);
      void stopAll().then(() => process.exit(1));
    });
  }

  const endpoint = `http://127.0.0.1:${port}`;
  process.stdout.write(
    [
      `Arca cluster: 1 proxy, ${nodes} storage nodes, policy ${layout.spec.defaultPolicy}, data in ${dataDir}`,
      `  S3 endpoint:   ${endpoint}`,
      ...(glancePort ? [`  Image API:     http://127.0.0.1:${glancePort}/v2`] : []),
      ...Object.entries(webhooks ?? {}).map(([name, w]) => `  webhook:       arn:arca:sqs::${name}:webhook → ${w.url} (HMAC secret ${w.secret})`),
      `  access key:    ${layout.accessKey}`,
      `  secret key:    ${layout.secretKey}`,
      '',
      '  export AWS_ACCESS_KEY_ID=' + layout.accessKey,
      '  export AWS_SECRET_ACCESS_KEY=' + layout.secretKey,
      '  export AWS_DEFAULT_REGION=us-east-1',
      `  aws --endpoint-url ${endpoint} s3 mb s3://demo`,
      '',
      `ready: ${endpoint}`,
      '',
    ].join('\n'),
  );
  return exited;
}
