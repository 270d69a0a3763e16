/**
 * A cluster of real processes for the fault tests: `arca node --config …` and `arca proxy --config …`
 * children (dist/src/cli/main.js) over a layout made by prepareLocalCluster, which a test kills with SIGKILL
 * by pid, restarts, cuts off (a node may run under a wrapper such as `ip netns exec NS`), and whose workers
 * it runs one pass at a time through each node's `POST /recon/run` (the worker loops are off unless asked
 * for). Helpers read placement from the ring files and the files each device holds on disk.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { nodeDevices, prepareLocalCluster } from '../../src/cli/local-cluster.js';
import { buildClusterRings } from '../../src/cli/ring.js';
import { type NodeConfig, type PolicyConfig, parseNodeConfig, ringFileName, type WorkerConfig } from '../../src/common/config.js';
import { RingSet } from '../../src/common/ring-files.js';
import type { ReconPass, ReconStatus, ReconWorkerName } from '../../src/common/wire.js';
import { freePorts } from '../helpers/cluster.js';

export const arcaMain = join(process.cwd(), 'dist/src/cli/main.js');

export interface ProcessClusterOptions {
  nodes?: number;
  policies?: PolicyConfig[];
  defaultPolicy?: string;
  partPower?: number;
  /** Worker settings of every node (default: every loop off; tests run passes through /recon/run). */
  workers?: Partial<WorkerConfig>;
  /** Address of each node (bind address and ring devices); default 127.0.0.1. */
  nodeIps?: string[];
  /** Address the proxy binds; default 127.0.0.1. */
  proxyIp?: string;
  /** A command a node runs under (e.g. `['ip', 'netns', 'exec', ns]`), or undefined. */
  nodeWrapper?: (i: number) => string[] | undefined;
  /** fsync on the nodes (default off: throwaway test clusters; benchmarks turn it on). */
  fsync?: boolean;
  /** Settings merged into every node config's `writes` (the write queue and journal). */
  writes?: Record<string, unknown>;
  /** Node and proxy timeouts, ms (defaults 3000 and 1000 connect). */
  nodeTimeoutMs?: number;
  connTimeoutMs?: number;
}

const workersOff: WorkerConfig = {
  replicatorIntervalSec: 0,
  replicatorFullPassIntervalSec: 600,
  listingReplicatorIntervalSec: 0,
  replicatorMaxPartitionsPerSec: 0,
  replicatorTranquility: 0,
  replicatorQuietMs: 0,
  replicatorMaxWaitSec: 0,
  updaterIntervalSec: 0,
  reconstructorIntervalSec: 0,
  auditorIntervalSec: 0,
  auditorBytesPerSec: 1024 * 1024 * 1024,
  auditorHashDirsPerSec: 0,
  expirerIntervalSec: 0,
  deviceCheckIntervalSec: 0,
};

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Children of every cluster in this process, killed if the test process exits without closing them. */
const everyChild = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of everyChild) c.kill('SIGKILL');
});

export class ProcessCluster {
  readonly nodeConfigFiles: string[] = [];
  readonly nodeConfigs: NodeConfig[] = [];
  readonly #nodes: Array<Proc | undefined> = [];
  #proxy: Proc | undefined;
  readonly #logs = new Map<string, string[]>();
  readonly #agent = new http.Agent({ keepAlive: false });

  private constructor(
    readonly dir: string,
    readonly ringDir: string,
    readonly proxyConfigFile: string,
    readonly proxyPort: number,
    readonly accessKey: string,
    readonly secretKey: string,
    private readonly opts: ProcessClusterOptions,
  ) {}

  /** Lays out a cluster (rings, configs, devices) in a temp dir; nothing runs yet. */
  static async create(opts: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const nodes = opts.nodes ?? 4;
    const policies = opts.policies ?? [{ index: 0, name: 'replica-3' }];
    const dir = mkdtempSync(join(tmpdir(), 'arca-faults-'));
    const [port, ...nodePorts] = await freePorts(nodes + 1);
    const ringDir = join(dir, 'rings');
    const spec = { port, nodes, nodePorts, policies, defaultPolicy: opts.defaultPolicy ?? policies[0].name, partPower: opts.partPower ?? 6, seed: 11 };
    if (opts.nodeIps) {
      // The rings name each node by its own address (prepareLocalCluster would use 127.0.0.1).
      mkdirSync(ringDir, { recursive: true });
      const devices = nodeDevices(spec);
      buildClusterRings({
        ringDir,
        nodes: nodePorts.flatMap((p, i) => devices[i].map((device) => ({ ip: opts.nodeIps![i], port: p, device, zone: i + 1 }))),
        policies: policies.map((pc) => ({ index: pc.index, replicas: replicasOf(pc.name) })),
        partPower: spec.partPower,
        seed: spec.seed,
      });
    }
    const layout = prepareLocalCluster(dir, spec, { fsync: opts.fsync ?? false, workers: { ...workersOff, ...opts.workers } });
    const proxy = JSON.parse(readFileSync(layout.proxyConfigFile, 'utf8'));
    writeFileSync(
      layout.proxyConfigFile,
      JSON.stringify({ ...proxy, bindIp: opts.proxyIp ?? '127.0.0.1', connTimeoutMs: opts.connTimeoutMs ?? 1000, nodeTimeoutMs: opts.nodeTimeoutMs ?? 3000, bucketCacheTtlMs: 1000 }),
    );
    const c = new ProcessCluster(dir, ringDir, layout.proxyConfigFile, port, layout.accessKey, layout.secretKey, opts);
    for (const [i, file] of layout.nodeConfigFiles.entries()) c.#writeNodeConfig(file, JSON.parse(readFileSync(file, 'utf8')), opts.nodeIps?.[i]);
    return c;
  }

  /** Lays out and starts a cluster: every node, then the proxy. */
  static async start(opts: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const c = await ProcessCluster.create(opts);
    try {
      await Promise.all(c.nodeConfigs.map((_, i) => c.startNode(i)));
      await c.startProxy();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  #writeNodeConfig(file: string, raw: Record<string, unknown>, ip?: string): void {
    const writes = this.opts.writes ? { writes: { ...(raw.writes as object | undefined), ...this.opts.writes } } : {};
    const config = { ...raw, ...writes, bindIp: ip ?? '127.0.0.1', reconRun: true, nodeTimeoutMs: this.opts.nodeTimeoutMs ?? 3000, listingUpdateTimeoutMs: 1000 };
    writeFileSync(file, JSON.stringify(config));
    const i = this.nodeConfigFiles.indexOf(file);
    if (i < 0) {
      this.nodeConfigFiles.push(file);
      this.nodeConfigs.push(parseNodeConfig(config, file));
    } else this.nodeConfigs[i] = parseNodeConfig(config, file);
  }

  /**
   * Adds a node (its config and empty devices; not started, and in no ring until the test adds its devices
   * with `arca ring`); resolves to its index.
   */
  async addNodeConfig(devices: string[], ip = '127.0.0.1'): Promise<number> {
    const [port] = await freePorts(1);
    const base = this.nodeConfigs[0];
    for (const d of devices) mkdirSync(join(base.devicesDir, d), { recursive: true });
    const file = join(this.dir, 'etc', `node${this.nodeConfigs.length + 1}.json`);
    this.#writeNodeConfig(file, { ...JSON.parse(readFileSync(this.nodeConfigFiles[0], 'utf8')), port, devices }, ip);
    return this.nodeConfigs.length - 1;
  }

  get endpoint(): string {
    return `http://${this.opts.proxyIp ?? '127.0.0.1'}:${this.proxyPort}`;
  }

  /** Starts node i and resolves once it is ready. */
  async startNode(i: number): Promise<void> {
    if (this.#nodes[i]) return;
    const wrapper = this.opts.nodeWrapper?.(i) ?? [];
    this.#nodes[i] = await this.#spawn(`node${i + 1}`, [...wrapper, process.execPath, arcaMain, 'node', '--config', this.nodeConfigFiles[i]]);
  }

  async startProxy(): Promise<void> {
    this.#proxy ??= await this.#spawn('proxy', [process.execPath, arcaMain, 'proxy', '--config', this.proxyConfigFile]);
  }

  /** The pid of node i (undefined when it is not running). */
  pid(i: number): number | undefined {
    return this.#nodes[i]?.child.pid;
  }

  /** Sends `signal` (SIGKILL by default) to node i by its pid and waits until it is gone. */
  async killNode(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.#nodes[i];
    if (!p) return;
    process.kill(p.child.pid!, signal);
    await p.exited;
    this.#nodes[i] = undefined;
  }

  isRunning(i: number): boolean {
    return this.#nodes[i] !== undefined;
  }

  /** Log lines (stdout and stderr) of a process (`node1`…, `proxy`). */
  logs(name: string): string {
    return (this.#logs.get(name) ?? []).join('\n');
  }

  s3(extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKey, secretAccessKey: this.secretKey },
      maxAttempts: 1,
      ...extra,
    });
  }

  /** Runs one pass of a worker on node i (POST /recon/run) and answers it. */
  async runWorker(i: number, worker: ReconWorkerName): Promise<ReconPass> {
    const c = this.nodeConfigs[i];
    const reply = await this.#request(c.bindIp, c.port, 'POST', `/recon/run?worker=${worker}`, 600_000);
    if (reply.status !== 200) throw new Error(`node${i + 1} ${worker}: HTTP ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body) as ReconPass;
  }

  /**
   * Runs a worker once on every running node, one node after another (or all at once with `parallel`); the
   * summed stats.
   */
  async runEverywhere(worker: ReconWorkerName, opts: { parallel?: boolean } = {}): Promise<Record<string, number>> {
    const sum: Record<string, number> = {};
    const running = this.nodeConfigs.map((_, i) => i).filter((i) => this.isRunning(i));
    const one = async (i: number) => {
      const pass = await this.runWorker(i, worker);
      if (pass.error) throw new Error(`node${i + 1} ${worker}: ${pass.error}`);
      for (const [k, v] of Object.entries(pass.stats ?? {})) sum[k] = (sum[k] ?? 0) + v;
    };
    if (opts.parallel) await Promise.all(running.map(one));
    else for (const i of running) await one(i);
    return sum;
  }

  /**
   * Runs the repair workers (updater, replicator, reconstructor, listing replicator) on every running node,
   * `rounds` times over.
   */
  async repair(rounds = 2, opts: { parallel?: boolean } = {}): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      for (const w of ['updater', 'replicator', 'reconstructor', 'listingReplicator'] as const) await this.runEverywhere(w, opts);
    }
  }

  /** Node i's recon status. */
  async recon(i: number): Promise<ReconStatus> {
    const c = this.nodeConfigs[i];
    const reply = await this.#request(c.bindIp, c.port, 'GET', '/recon/status', 10_000);
    return JSON.parse(reply.body) as ReconStatus;
  }

  /** The rings as the ring files are now. */
  rings(): RingSet {
    return new RingSet(this.ringDir, (this.opts.policies ?? [{ index: 0 }]).map((p) => p.index));
  }

  /** The devices the object ring of a policy makes primaries of an object (`/account/bucket/key`), in index order. */
  primaries(name: string, policyIndex = 0): string[] {
    const ring = this.rings().object(policyIndex);
    return ring.primaries(ring.partition(name)).map((d) => d.device);
  }

  /** Device → files of the object's hash dir on it (devices holding nothing left out), read from disk. */
  objectFiles(name: string, policyIndex = 0): Map<string, string[]> {
    const ring = this.rings().object(policyIndex);
    const part = ring.partition(name);
    const hash = createHash('md5').update(name).digest('hex');
    const out = new Map<string, string[]>();
    for (const c of this.nodeConfigs) {
      for (const device of c.devices) {
        const dir = join(c.devicesDir, device, policyIndex === 0 ? 'objects' : `objects-${policyIndex}`, String(part), hash.slice(-3), hash);
        if (!existsSync(dir)) continue;
        const files = readdirSync(dir).sort();
        if (files.length > 0) out.set(device, files);
      }
    }
    return out;
  }

  /** The ring file of a ring kind. */
  ringFile(kind: 'account' | 'container' | { policyIndex: number }): string {
    return join(this.ringDir, ringFileName(kind));
  }

  /** Stops everything (SIGKILL: nothing to keep) and removes the directory. */
  async close(): Promise<void> {
    await Promise.all([...this.#nodes.keys()].map((i) => this.killNode(i)));
    if (this.#proxy) {
      this.#proxy.child.kill('SIGKILL');
      await this.#proxy.exited;
      this.#proxy = undefined;
    }
    this.#agent.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #spawn(name: string, argv: string[]): Promise<Proc> {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    everyChild.add(child);
    const lines: string[] = [];
    this.#logs.set(name, lines);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        everyChild.delete(child);
        lines.push(`[exited ${signal ?? code}]`);
        resolve();
      }),
    );
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        for (const l of d.toString().trimEnd().split('\n')) lines.push(l);
        if (/^ready /m.test(out)) resolve({ child, exited });
      });
      child.stderr!.on('data', (d: Buffer) => {
        for (const l of d.toString().trimEnd().split('\n')) if (lines.length < 5000) lines.push(l);
      });
      void exited.then(() => reject(new Error(`${name} exited before it was ready: ${lines.join('\n')}`)));
    });
  }

  #request(host: string, port: number, method: string, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host, port, method, path, agent: this.#agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${host}:${port}${path} timed out`)));
      req.on('error', reject);
      req.end();
    });
  }
}

function replicasOf(policy: string): number {
  const m = /^replica-(\d+)$|^ec-(\d+)\+(\d+)$/.exec(policy);
  if (!m) throw new Error(`bad policy ${policy}`);
  return m[1] ? Number(m[1]) : Number(m[2]) + Number(m[3]);
}

/** Reads a whole stream into a Buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Polls `fn` every `everyMs` until it returns true or `timeoutMs` passes; whether it did. */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 500): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
