/**
 * A bucket with many keys for the LIST workload, made once per data dir and reused by later runs.
 *
 * A million real PUTs would take hours on the Swift peer (about 50 PUT/s here) and an hour on Arca, and would
 * use six million inodes per server (a hash dir and a file per replica) on a disk other engineers share. A
 * listing reads only the bucket's listing replicas, so both sides get their rows the way their own
 * replication moves listing rows: one real 0-byte PUT through S3 makes `obj-0` (and its row), then rows
 * `obj-1 … obj-(N-1)`, copies of that row under other names, are merged into every primary replica of the
 * bucket's listing — Arca's listing server `POST /l/…?rows` in batches, Swift's `ContainerBroker.merge_items`
 * on each container database (bench/compare/swift-populate.py). Object data is not written: a LIST never
 * reads it. Rows already present are merged again harmlessly, so a half-finished fill resumes.
 *
 * Arca's fill then waits for its listing replicators (`listingReplicasSettled`): each replica numbers the rows
 * merged into it as changes of its own, and its replicator sends them all to the other replicas, which is
 * background work the first rounds of a fresh data dir's run would otherwise measure. Swift's peer runs no
 * replicators.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ringFileName } from '../../src/common/config.js';
import { rootAccount } from '../../src/common/identity.js';
import { readRingFile } from '../../src/common/ring-files.js';
import { BackendHeader, decodeHeaderJson, type ListingInfo, type ListingPage, type ListingRow, listingPath, type ReconStatus, type ReconWorkerName } from '../../src/common/wire.js';
import { runLoad } from '../load/run.js';
import { round } from '../lib/stats.js';

/** Rows merged per request (the listing server accepts 16 MiB of JSON; 10,000 rows are about 1.5 MiB). */
const BATCH = 10_000;

/** How long a fill waits at most for Arca's listing replicators to pass its rows on. */
const SETTLE_TIMEOUT_MS = 30 * 60_000;

/** The name of row i: what runLoad's PUT of `count: 1` calls its first object, then the same pattern. */
export const bigListName = (i: number): string => `obj-${i}`;

export interface S3Target {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

export interface PopulateResult {
  /** Live rows in each primary replica of the listing afterwards. */
  replicas: number[];
  /** Rows merged by this call (0 when the bucket was already full). */
  inserted: number;
  seconds: number;
  /** Arca, after merging rows: seconds until its listing replicators had no rows left to push, and whether they got there before the timeout. */
  replication?: { seconds: number; settled: boolean };
  /** Arca: the cluster was restarted after this fill, before the rounds (bench:compare does so after every fill that merged rows). */
  restarted?: boolean;
}

/** Creates the bucket and its first object through S3 (the template row). */
async function firstObject(target: S3Target, bucket: string): Promise<void> {
  const r = await runLoad({ ...target, bucket, createBucket: true, workload: 'put', size: 0, concurrency: 1, count: 1 });
  if (r.ops !== 1) throw new Error(`PUT ${bucket}/${bigListName(0)}: ${r.firstError ?? JSON.stringify(r.errors)}`);
}

interface NodeReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function backend(host: string, port: number, method: string, path: string, body?: string): Promise<NodeReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = http.request({ host, port, method, path, headers, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 120 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Fills an Arca bucket's listing replicas (of the root user's account) up to `keys` rows. */
export async function populateArca(target: S3Target, arcaDataDir: string, bucket: string, keys: number): Promise<PopulateResult> {
  const t0 = performance.now();
  await firstObject(target, bucket);
  const ring = readRingFile(join(arcaDataDir, 'rings', ringFileName('container')));
  const part = ring.partition(`/${rootAccount}/${bucket}`);
  const replicas = ring.primaries(part).map((dev) => ({ dev, path: listingPath(dev.device, part, rootAccount, bucket) }));
  const count = async (r: (typeof replicas)[number]): Promise<number> => {
    const head = await backend(r.dev.ip, r.dev.port, 'HEAD', r.path);
    const info = decodeHeaderJson<ListingInfo>(head.headers[BackendHeader.listingInfo]);
    if (head.status >= 300 || !info) throw new Error(`HEAD ${r.path} on ${r.dev.port}: ${head.status}`);
    return info.objectCount;
  };
  // The template: obj-0's row as the PUT left it on a replica.
  let template: ListingRow | undefined;
  for (const r of replicas) {
    const page = await backend(r.dev.ip, r.dev.port, 'GET', `${r.path}?limit=1&prefix=${bigListName(0)}`);
    if (page.status !== 200) continue;
    const entry = (JSON.parse(page.body) as ListingPage).entries[0];
    if (entry && 'name' in entry && entry.name === bigListName(0)) template = entry;
    if (template) break;
  }
  if (!template) throw new Error(`no listing replica of ${bucket} holds ${bigListName(0)}`);
  const row = template;
  let inserted = 0;
  await Promise.all(
    replicas.map(async (r) => {
      if ((await count(r)) >= keys) return;
      for (let start = 1; start < keys; start += BATCH) {
        const rows: ListingRow[] = [];
        for (let i = start; i < Math.min(keys, start + BATCH); i++) rows.push({ ...row, name: bigListName(i) });
        const reply = await backend(r.dev.ip, r.dev.port, 'POST', `${r.path}?rows`, JSON.stringify({ rows }));
        if (reply.status !== 204) throw new Error(`POST ${r.path}?rows on ${r.dev.port}: ${reply.status} ${reply.body.slice(0, 200)}`);
        inserted += rows.length;
      }
    }),
  );
  const counts = await Promise.all(replicas.map(count));
  const seconds = round((performance.now() - t0) / 1000, 1);
  if (inserted === 0) return { replicas: counts, inserted, seconds };
  return { replicas: counts, inserted, seconds, replication: await listingReplicasSettled(distinctNodes(replicas.map((r) => r.dev)), Date.now(), SETTLE_TIMEOUT_MS) };
}

/**
 * Waits until the listing replicator of each node in `nodes` finished a pass begun after `since` (ms since the
 * epoch) with no rows to push and no failed request, or runs no passes (its interval is 0). After a fill
 * of a million rows merged into each replica, the replicators were still sending them on ~7 minutes of
 * running time later (docs/benchmarks.md, "The big LIST bucket").
 */
export function listingReplicasSettled(nodes: ReadonlyArray<{ ip: string; port: number }>, since: number, timeoutMs: number): Promise<{ seconds: number; settled: boolean }> {
  return passesDone(nodes, since, timeoutMs, ['listingReplicator'], (stats) => stats.rowsPushed === 0 && stats.failures === 0);
}

/**
 * Waits until each of `workers` on every node in `nodes` finished a pass begun after `since` (ms since the
 * epoch) whose stats satisfy `quiet` (any finished pass when it is not given), or runs no passes (its
 * interval is 0); gives up after `timeoutMs`.
 */
export async function passesDone(
  nodes: ReadonlyArray<{ ip: string; port: number }>,
  since: number,
  timeoutMs: number,
  workers: readonly ReconWorkerName[],
  quiet: (stats: Record<string, number>) => boolean = () => true,
): Promise<{ seconds: number; settled: boolean }> {
  const t0 = performance.now();
  const done = async (node: { ip: string; port: number }): Promise<boolean> => {
    const reply = await backend(node.ip, node.port, 'GET', '/recon/status').catch(() => undefined);
    if (reply?.status !== 200) return false;
    const status = JSON.parse(reply.body) as ReconStatus;
    return workers.every((name) => {
      const worker = status.workers.find((w) => w.name === name);
      if (worker?.intervalSec === 0) return true;
      const last = worker?.last;
      return last?.stats !== undefined && Date.parse(last.start) > since && quiet(last.stats);
    });
  };
  for (;;) {
    const settled = (await Promise.all(nodes.map(done))).every(Boolean);
    const seconds = round((performance.now() - t0) / 1000, 1);
    if (settled || performance.now() - t0 >= timeoutMs) return { seconds, settled };
    await sleep(2000);
  }
}

/**
 * Runs a pass of each of `workers` on every node in `nodes` now (`POST /recon/run`, the nodes started with
 * `reconRun`), the nodes at once and each node's workers one after the other; resolves when all are done. A
 * pass the node's own loop has under way finishes first (a worker's passes run one at a time), so what was
 * written before the call is covered.
 */
export async function runPasses(nodes: ReadonlyArray<{ ip: string; port: number }>, workers: readonly ReconWorkerName[]): Promise<{ seconds: number }> {
  const t0 = performance.now();
  await Promise.all(
    nodes.map(async (node) => {
      for (const worker of workers) {
        const reply = await backend(node.ip, node.port, 'POST', `/recon/run?worker=${worker}`);
        if (reply.status !== 200) throw new Error(`POST /recon/run?worker=${worker} on ${node.ip}:${node.port}: ${reply.status} ${reply.body.trim()}`);
      }
    }),
  );
  return { seconds: round((performance.now() - t0) / 1000, 1) };
}

/** The storage nodes of the Arca cluster in `arcaDataDir` (each holds devices of the listing ring). */
export function arcaNodes(arcaDataDir: string): Array<{ ip: string; port: number }> {
  return distinctNodes(readRingFile(join(arcaDataDir, 'rings', ringFileName('container'))).devices);
}

/** The nodes (ip and port, each once) that hold `devices`. */
function distinctNodes(devices: ReadonlyArray<{ ip: string; port: number }>): Array<{ ip: string; port: number }> {
  return [...new Map(devices.map((d) => [`${d.ip}:${d.port}`, { ip: d.ip, port: d.port }])).values()];
}

/** Fills a Swift peer bucket's container databases up to `keys` rows (bench/compare/swift-populate.py). */
export async function populateSwift(target: S3Target, peerDataDir: string, account: string, bucket: string, keys: number, python: string): Promise<PopulateResult> {
  const t0 = performance.now();
  await firstObject(target, bucket);
  const script = fileURLToPath(new URL('../../../bench/compare/swift-populate.py', import.meta.url));
  const child = spawn(python, [script, peerDataDir, account, bucket, String(keys), 'obj-{}'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`swift-populate.py exited ${code}: ${err.trim().slice(-500)}`);
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { replicas: number[]; inserted: number };
  return { replicas: r.replicas, inserted: r.inserted, seconds: round((performance.now() - t0) / 1000, 1) };
}
