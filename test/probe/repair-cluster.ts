/**
 * A repair probe cluster: real storage-node servers on loopback, one device each on a real temp dir, real
 * ring files built with RingBuilder (account, container and object rings over the same devices), workers
 * off (tests call `runOnce`). Helpers write straight to chosen devices through the object and listing
 * servers (simulating nodes that missed writes) and look at the files each device holds.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Device, encodeRingFile, Ring, RingBuilder } from '../../ring/index.js';
import { defaultWorkerConfig, type NodeConfig, ringFileName } from '../../src/common/config.js';
import { formatTimestamp, type Timestamp } from '../../src/common/timestamp.js';
import { encodeHeaderJson, listingPath, objectPath } from '../../src/common/wire.js';
import { hashOfName, suffixOfHash } from '../../storage-nodes/disk-file.js';
import { type StorageNode, startStorageNode } from '../../storage-nodes/server.js';
import { putObject, type Reply, request } from '../unit/storage-nodes/node-fixture.js';

export interface RepairClusterOptions {
  nodes?: number;
  partPower?: number;
  replicas?: number;
  reclaimAgeSec?: number;
  /** Seconds between the object replicators' full passes (default: the production default). */
  fullPassIntervalSec?: number;
  /** Bytes per second each node's auditor may read (default: the production default). */
  auditorBytesPerSec?: number;
  /** Hash dirs per second each node's auditor walks (default: the production default). */
  auditorHashDirsPerSec?: number;
}

export interface RepairNode {
  index: number;
  config: NodeConfig;
  /** Undefined while stopped. */
  node?: StorageNode;
  logs: string[];
}

/** Ring kinds of the cluster. */
export type RingKind = 'account' | 'container' | 'object';

/** A timestamp `secondsAgo` before now (negative: in the future). */
export function tsAgo(secondsAgo: number, plusMicros = 0): Timestamp {
  return formatTimestamp(BigInt(Math.floor((Date.now() - secondsAgo * 1000) * 1000)) + BigInt(plusMicros));
}

export class RepairCluster {
  readonly nodes: RepairNode[] = [];
  readonly builders: Record<RingKind, RingBuilder>;
  #hours = 0;

  private constructor(
    readonly dir: string,
    readonly ringDir: string,
    private readonly opts: Required<RepairClusterOptions>,
  ) {
    const mk = () => RingBuilder.create({ partPower: opts.partPower, replicas: opts.replicas, minPartHours: 1, seed: 7 });
    this.builders = { account: mk(), container: mk(), object: mk() };
  }

  static async start(opts: RepairClusterOptions = {}): Promise<RepairCluster> {
    const full = {
      nodes: opts.nodes ?? 4,
      partPower: opts.partPower ?? 4,
      replicas: opts.replicas ?? 3,
      reclaimAgeSec: opts.reclaimAgeSec ?? 7 * 24 * 3600,
      fullPassIntervalSec: opts.fullPassIntervalSec ?? defaultWorkerConfig.replicatorFullPassIntervalSec,
      auditorBytesPerSec: opts.auditorBytesPerSec ?? defaultWorkerConfig.auditorBytesPerSec,
      auditorHashDirsPerSec: opts.auditorHashDirsPerSec ?? defaultWorkerConfig.auditorHashDirsPerSec,
    };
    const dir = await mkdtemp(join(tmpdir(), 'arca-repair-'));
    const ringDir = join(dir, 'rings');
    await mkdir(ringDir, { recursive: true });
    const cluster = new RepairCluster(dir, ringDir, full);
    try {
      for (let i = 0; i < full.nodes; i++) await cluster.addNode();
      await cluster.rebalance();
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /**
   * Starts a node on a port the OS picks (no race for ports with other tests) and adds its device to every
   * ring builder, without rebalancing: the node reads the rings only when its workers run.
   */
  async addNode(): Promise<RepairNode> {
    const index = this.nodes.length;
    const device = `d${index + 1}`;
    const devicesDir = join(this.dir, `node${index + 1}`);
    await mkdir(join(devicesDir, device), { recursive: true });
    const config: NodeConfig = {
      bindIp: '127.0.0.1',
      port: 0,
      devicesDir,
      devices: [device],
      ringDir: this.ringDir,
      policies: [{ index: 0, name: `replica-${this.opts.replicas}` }],
      nodeTimeoutMs: 2000,
      listingUpdateTimeoutMs: 1000,
      reclaimAgeSec: this.opts.reclaimAgeSec,
      fsync: false,
      workers: {
        ...defaultWorkerConfig,
        replicatorIntervalSec: 0,
        replicatorFullPassIntervalSec: this.opts.fullPassIntervalSec,
        listingReplicatorIntervalSec: 0,
        updaterIntervalSec: 0,
        auditorIntervalSec: 0,
        auditorBytesPerSec: this.opts.auditorBytesPerSec,
        auditorHashDirsPerSec: this.opts.auditorHashDirsPerSec,
        replicatorTranquility: 0,
      },
    };
    const n: RepairNode = { index, config, logs: [] };
    this.nodes.push(n);
    await this.startNode(index);
    // A restart listens on the same port again.
    config.port = n.node!.port;
    for (const b of Object.values(this.builders)) b.addDevice({ region: 1, zone: index + 1, ip: '127.0.0.1', port: config.port, device, weight: 100 });
    return n;
  }

  /** Rebalances every ring (past minPartHours) and writes the ring files atomically. */
  async rebalance(): Promise<void> {
    this.#hours += 1000;
    for (const [kind, b] of Object.entries(this.builders) as Array<[RingKind, RingBuilder]>) {
      b.rebalance({ nowHours: this.#hours });
      const file = join(this.ringDir, ringFileName(kind === 'object' ? { policyIndex: 0 } : kind));
      await writeFile(`${file}.tmp`, encodeRingFile(b.ringData()));
      await rename(`${file}.tmp`, file);
    }
  }

  /** The current ring of a kind (as the builder has it). */
  ring(kind: RingKind): Ring {
    return new Ring(this.builders[kind].ringData());
  }

  async startNode(i: number): Promise<void> {
    const n = this.nodes[i];
    n.node ??= await startStorageNode(n.config, { log: (l) => n.logs.push(l) });
  }

  async stopNode(i: number): Promise<void> {
    const n = this.nodes[i];
    await n.node?.close();
    n.node = undefined;
  }

  /** The node serving a ring device. */
  nodeOf(dev: Device): RepairNode {
    const n = this.nodes.find((x) => x.config.port === dev.port && x.config.devices.includes(dev.device));
    if (!n) throw new Error(`no node for ${dev.ip}:${dev.port}/${dev.device}`);
    return n;
  }

  /** Placement of an object: partition, primaries and handoffs. */
  placement(name: string): { partition: number; primaries: Device[]; handoffs: Device[] } {
    const ring = this.ring('object');
    const partition = ring.partition(name);
    return { partition, primaries: ring.primaries(partition), handoffs: [...ring.handoffs(partition)] };
  }

  /** The hash dir of an object on a device. */
  hashDir(dev: Device, name: string, partition = this.ring('object').partition(name)): string {
    const hash = hashOfName(name);
    return join(this.nodeOf(dev).config.devicesDir, dev.device, 'objects', String(partition), suffixOfHash(hash), hash);
  }

  /** Version files in an object's hash dir on a device ([] when none). */
  async files(dev: Device, name: string, partition?: number): Promise<string[]> {
    try {
      return (await readdir(this.hashDir(dev, name, partition))).sort();
    } catch {
      return [];
    }
  }

  /** The devices (of all nodes) whose hash dir for `name` holds files, with those files. */
  async holders(name: string): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const ring = this.ring('object');
    const partition = ring.partition(name);
    for (const n of this.nodes) {
      for (const device of n.config.devices) {
        const dev = { id: -1, region: 1, zone: 1, ip: '127.0.0.1', port: n.config.port, device, weight: 1 };
        const files = await this.files(dev, name, partition);
        if (files.length > 0) out.set(device, files);
      }
    }
    return out;
  }

  /** Raw bytes of a version file on a device. */
  async readVersion(dev: Device, name: string, file: string): Promise<Buffer> {
    return readFile(join(this.hashDir(dev, name), file));
  }

  /** PUTs an object straight to one device (no listing updates). */
  async put(dev: Device, name: string, body: Buffer, ts: Timestamp): Promise<Reply> {
    const [, account, bucket, ...key] = name.split('/');
    const part = this.ring('object').partition(name);
    return putObject(dev.port, objectPath(dev.device, part, account, bucket, key.join('/')), { ts, body, meta: { etag: 'e', contentType: 'text/plain' } });
  }

  /** POSTs a metadata patch of an object to one device (a `.meta` at `ts`). */
  async post(dev: Device, name: string, patch: Record<string, unknown>, ts: Timestamp): Promise<Reply> {
    const [, account, bucket, ...key] = name.split('/');
    const part = this.ring('object').partition(name);
    return request(dev.port, 'POST', objectPath(dev.device, part, account, bucket, key.join('/')), {
      headers: { 'x-backend-timestamp': ts, 'x-backend-meta': encodeHeaderJson(patch) },
    });
  }

  /** DELETEs an object on one device (a tombstone at `ts`). */
  async del(dev: Device, name: string, ts: Timestamp): Promise<Reply> {
    const [, account, bucket, ...key] = name.split('/');
    const part = this.ring('object').partition(name);
    return request(dev.port, 'DELETE', objectPath(dev.device, part, account, bucket, key.join('/')), { headers: { 'x-backend-timestamp': ts } });
  }

  /** A listing request to one device (`bucket` undefined: the account listing). */
  async listing(dev: Device, method: string, account: string, bucket: string | undefined, opts: { body?: unknown; query?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const ring = this.ring(bucket === undefined ? 'account' : 'container');
    const part = ring.partition(bucket === undefined ? `/${account}` : `/${account}/${bucket}`);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    return request(dev.port, method, listingPath(dev.device, part, account, bucket) + (opts.query ?? ''), {
      body,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    });
  }

  /** Names of the live rows of a container listing on one device (undefined when it has no live listing). */
  async rowNames(dev: Device, account: string, bucket: string): Promise<string[] | undefined> {
    const reply = await this.listing(dev, 'GET', account, bucket);
    if (reply.status !== 200) return undefined;
    return (JSON.parse(reply.body.toString()) as { entries: Array<{ name: string }> }).entries.map((e) => e.name);
  }

  /** Runs the object replicator of every running node once, in order; returns the summed stats. */
  async replicateAll(): Promise<Record<string, number>> {
    const sum: Record<string, number> = {};
    for (const n of this.nodes) {
      if (!n.node) continue;
      const stats = await n.node.workers.replicator.runOnce();
      for (const [k, v] of Object.entries(stats)) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.node?.close()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** ava helper: a fresh repair cluster for the test, always torn down. */
export function withRepairCluster(opts: RepairClusterOptions, fn: (t: ExecutionContext, c: RepairCluster) => Promise<void>) {
  return async (t: ExecutionContext) => {
    const c = await RepairCluster.start(opts);
    try {
      await fn(t, c);
    } catch (err) {
      for (const n of c.nodes) if (n.logs.length > 0) t.log(`node${n.index + 1}: ${n.logs.join('\n')}`);
      throw err;
    } finally {
      await c.close();
    }
  };
}
