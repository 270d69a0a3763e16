/**
 * An in-process cluster for functional and probe tests: real storage-node servers and a real proxy on
 * loopback ports, real disks in a temp directory — the same layout `arca cluster` uses. `withCluster`
 * hands a ready cluster to a test and tears it down afterwards.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { ExecutionContext } from 'ava';
import { prepareLocalCluster } from '../../src/cli/local-cluster.js';
import { type RunningProxy, startProxy } from '../../src/cli/proxy-root.js';
import { type ImagesConfig, loadNodeConfig, loadProxyConfig, type NodeConfig, type PolicyConfig, type ProxyConfig } from '../../src/common/config.js';
import { startStorageNode } from '../../storage-nodes/server.js';

type RunningNode = Awaited<ReturnType<typeof startStorageNode>>;

export interface ClusterOptions {
  nodes?: number;
  policies?: PolicyConfig[];
  defaultPolicy?: string;
  partPower?: number;
  /** Serve the image API (Glance v2) on a free port too, with these image settings over the defaults. */
  glance?: Partial<ImagesConfig>;
  /** Domains under which `bucket.<domain>` addresses a bucket (virtual-host-style); none by default. */
  virtualHostDomains?: string[];
  /** Reads ask node1 first, then node2, … (the proxy's `readAffinity`, as `arca cluster` writes it). */
  readAffinity?: boolean;
  /** Any other proxy settings over the generated ones (e.g. `clientIdleTimeoutMs`). */
  proxy?: Partial<ProxyConfig>;
  /** Any other storage node settings over the generated ones, for every node. */
  node?: Partial<NodeConfig>;
}

export interface TestCluster {
  dir: string;
  endpoint: string;
  accessKey: string;
  secretKey: string;
  nodeConfigs: NodeConfig[];
  nodes: Array<RunningNode | undefined>;
  proxy: RunningProxy;
  /** An AWS SDK client for this cluster (path-style, static root credentials). */
  s3(opts?: Partial<ConstructorParameters<typeof S3Client>[0]>): S3Client;
  stopNode(i: number): Promise<void>;
  startNode(i: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Ports the tests may listen on later: picked at random below the kernel's ephemeral range (32768–60999 here) and
 * checked free. Ports from `listen(0)` come from that range, which every outgoing connection of every process on
 * the machine also draws from; between the check and the real listen (a node restarted on its port, a proxy
 * started after its rings were built) such a connection could take the port. Never the same port twice in one
 * run (see `claim`).
 */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = randomPort();
    if (!(await canListen(port)) || !claim(port)) continue;
    ports.push(port);
  }
  return ports;
}

/** The first of `n` consecutive free ports, all claimed: `arca cluster --port P` puts its nodes on P+1…P+n-1. */
export async function consecutiveFreePorts(n: number): Promise<number> {
  for (;;) {
    const base = randomPort();
    if (base + n > 32768) continue;
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => canListen(base + i)));
    if (!ok.every(Boolean)) continue;
    // Claimed one by one: a port another worker claimed since the check ends the attempt (the ports claimed
    // before it stay claimed, unused).
    if (Array.from({ length: n }, (_, i) => base + i).every(claim)) return base;
  }
}

function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 12000);
}

const handedOut = new Set<number>();
const claims = join(tmpdir(), 'arca-test-ports');

/**
 * Takes `port` for this process, or says another took it first. ava runs test files in parallel workers, each
 * with its own copy of this module, and a port free at the check may be listened on by another worker's cluster
 * a moment later; so a claim is also a file created exclusively under `<tmpdir>/arca-test-ports/` (under
 * `npm test`, the run's scratch dir). A claim file whose process is gone (an earlier run) is taken over.
 */
function claim(port: number): boolean {
  if (handedOut.has(port)) return false;
  mkdirSync(claims, { recursive: true });
  const file = join(claims, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || processAlive(Number(readFileSync(file, 'utf8')))) return false;
    writeFileSync(file, String(process.pid));
  }
  handedOut.add(port);
  return true;
}

/** Whether process `pid` exists (a claim file read before its writer wrote a pid counts as alive). */
function processAlive(pid: number): boolean {
  if (!(pid > 0)) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether something could listen on `port` of 127.0.0.1 right now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const nodeCount = opts.nodes ?? 4;
  const dir = await mkdtemp(join(tmpdir(), 'arca-test-'));
  const [port, ...nodePorts] = await freePorts(nodeCount + 1);
  const policies = opts.policies ?? [{ index: 0, name: 'replica-3' }];
  const layout = prepareLocalCluster(
    dir,
    { port, nodes: nodeCount, nodePorts, policies, defaultPolicy: opts.defaultPolicy ?? policies[0].name, partPower: opts.partPower ?? 6, seed: 7 },
    {
      fsync: false,
      workers: { replicatorIntervalSec: 0, listingReplicatorIntervalSec: 0, updaterIntervalSec: 0, reconstructorIntervalSec: 0, auditorIntervalSec: 0, expirerIntervalSec: 0 },
      readAffinity: opts.readAffinity,
    },
  );
  const nodeConfigs = layout.nodeConfigFiles.map((f) => ({ ...loadNodeConfig(f), ...opts.node }));
  const log = () => {};
  const nodes: Array<RunningNode | undefined> = await Promise.all(nodeConfigs.map((c) => startStorageNode(c, { log })));
  const proxyConfig = loadProxyConfig(layout.proxyConfigFile);
  if (opts.virtualHostDomains) proxyConfig.virtualHostDomains = opts.virtualHostDomains;
  // The tests take the large-body path of hashing (the hash worker) whatever this machine's cores.
  proxyConfig.hashOffThread = true;
  Object.assign(proxyConfig, opts.proxy);
  if (opts.glance) {
    proxyConfig.glancePort = 0;
    proxyConfig.images = { ...proxyConfig.images, ...opts.glance };
  }
  const proxy = await startProxy(proxyConfig, { log: (line) => process.stderr.write(`[proxy] ${line}\n`) });
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const clients: S3Client[] = [];
  const cluster: TestCluster = {
    dir,
    endpoint,
    accessKey: layout.accessKey,
    secretKey: layout.secretKey,
    nodeConfigs,
    nodes,
    proxy,
    s3: (extra = {}) => {
      const c = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: layout.accessKey, secretAccessKey: layout.secretKey },
        ...extra,
      });
      clients.push(c);
      return c;
    },
    stopNode: async (i) => {
      await nodes[i]?.close();
      nodes[i] = undefined;
    },
    startNode: async (i) => {
      nodes[i] ??= await startStorageNode(nodeConfigs[i], { log });
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await proxy.close();
      await Promise.all(nodes.map((n) => n?.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** ava macro: runs `fn` with a fresh cluster and always tears it down. */
export function withCluster(opts: ClusterOptions, fn: (t: ExecutionContext, cluster: TestCluster) => Promise<void>) {
  return async (t: ExecutionContext) => {
    const cluster = await startCluster(opts);
    try {
      await fn(t, cluster);
    } finally {
      await cluster.close();
    }
  };
}

/**
 * A server on `port` that takes connections and answers nothing: a hung node, in a stopped node's place.
 * `seen` lists, per connection, when it came (ms after the server started) and its first request line, for a
 * failing test's message.
 */
export async function hangOn(port: number): Promise<{ readonly connections: number; readonly seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const started = performance.now();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const at = `${Math.round(performance.now() - started)} ms`;
    const i = seen.push(`${at}: nothing sent`) - 1;
    socket.once('data', (chunk: Buffer) => (seen[i] = `${at}: ${chunk.toString('latin1').split('\r\n')[0]}`));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    get connections() {
      return seen.length;
    },
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
