/**
 * bench/repair: how fast a lost node's data comes back, and what clients see meanwhile. For replica-3 and
 * ec-8+4 on 6 storage nodes (real processes, fsync on; ec-8+4 with two devices per node, so its 12 archives
 * sit on 12 devices), the cluster is filled with 1 MiB objects, then one node is SIGKILLed, its devices are
 * wiped and it is started again empty (a replaced server). The repair workers are run through each node's
 * `POST /recon/run` as fast as they go (no pacing): the replicators of every node (the others push replicas
 * to it), or its own reconstructor (it rebuilds each of its archives from 8 others; the other nodes' would
 * only compare). Rounds repeat until one finds nothing to do.
 *
 * Reported per policy: the bytes the node held before and after (after includes what the client loops wrote
 * meanwhile), the bytes the workers pushed or rebuilt, the rebuild time (to the end of the last round that did
 * work) and its MiB/s, each round (seconds, objects moved, MiB, requests), and the latency (p50, p99) of 64 KiB GETs and PUTs from one client loop
 * each, before the loss and during the rebuild. Prints one JSON line.
 *
 *   node dist/bench/repair/repair.bench.js [--quick]
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo } from '../lib/machine.js';
import { percentile, round } from '../lib/stats.js';
import { createBucket, getBytes, pool, put, s3Client } from '../../test/probe/faults-common.js';
import { ProcessCluster } from '../../test/probe/process-cluster.js';

const quick = process.argv.includes('--quick');
const MiB = 1024 * 1024;
const objects = quick ? 48 : 384;
const probeSize = 64 * 1024;
const lost = 2;

/** Bytes of the object files on a node's devices. */
function objectBytes(cluster: ProcessCluster, node: number): number {
  const c = cluster.nodeConfigs[node];
  let total = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.data') || e.name.endsWith('.ts')) total += statSync(p).size;
    }
  };
  for (const d of c.devices) {
    for (const e of readdirSync(join(c.devicesDir, d))) if (e.startsWith('objects')) walk(join(c.devicesDir, d, e));
  }
  return total;
}

interface Phase {
  get: number[];
  put: number[];
}

const summary = (ms: number[]) => {
  const sorted = Float64Array.from(ms).sort();
  return { n: ms.length, p50: round(percentile(sorted, 50) ?? Number.NaN), p99: round(percentile(sorted, 99) ?? Number.NaN) };
};

async function benchPolicy(policy: string): Promise<Record<string, unknown>> {
  const cluster = await ProcessCluster.start({ nodes: 6, policies: [{ index: 0, name: policy }], partPower: 6, fsync: true, nodeTimeoutMs: 10_000 });
  const s3 = s3Client(cluster, 32, 120_000);
  try {
    await createBucket(s3, 'data');
    await createBucket(s3, 'probe');
    const body = randomBytes(MiB);
    await pool([...Array(objects).keys()], 8, async (i) => {
      const r = await put(s3, 'data', `o${i}`, body);
      if (!r.ok) throw new Error(`fill: ${r.error}`);
    });
    const probe = randomBytes(probeSize);
    for (let i = 0; i < 32; i++) await put(s3, 'probe', `p${i}`, probe);

    // Client loops: one GET and one PUT at a time, each latency filed under the phase it started in.
    const phases: Record<'before' | 'during', Phase> = { before: { get: [], put: [] }, during: { get: [], put: [] } };
    let phase: keyof typeof phases | undefined = 'before';
    let errors = 0;
    const loop = async (kind: 'get' | 'put') => {
      for (let n = 0; phase; n++) {
        const at = phase;
        const start = performance.now();
        try {
          if (kind === 'get') {
            const got = await getBytes(s3, 'probe', `p${n % 32}`);
            if (got?.length !== probeSize) errors++;
          } else if (!(await put(s3, 'probe', `w${n}`, probe)).ok) errors++;
        } catch {
          errors++;
        }
        phases[at][kind].push(performance.now() - start);
      }
    };
    const loops = Promise.all([loop('get'), loop('put')]);
    await new Promise((r) => setTimeout(r, quick ? 3000 : 10_000));

    phase = undefined;
    await loops;
    const before = objectBytes(cluster, lost);
    await cluster.killNode(lost);
    const c = cluster.nodeConfigs[lost];
    for (const d of c.devices) for (const e of readdirSync(join(c.devicesDir, d))) rmSync(join(c.devicesDir, d, e), { recursive: true, force: true });
    await cluster.startNode(lost);

    phase = 'during';
    const during = Promise.all([loop('get'), loop('put')]);
    const start = performance.now();
    const worker = policy.startsWith('ec-') ? 'reconstructor' : 'replicator';
    const rounds: Array<{ sec: number; moved: number; mib: number; requests: number }> = [];
    let workedUntil = start;
    let bytesMoved = 0;
    for (;;) {
      const roundStart = performance.now();
      // Replicas come back from the other nodes' replicators; archives from the lost node's own reconstructor
      // (every node rebuilds only its own archives; the others' passes would only compare).
      const stats = policy.startsWith('ec-') ? ((await cluster.runWorker(lost, worker)).stats ?? {}) : await cluster.runEverywhere(worker, { parallel: true });
      const moved = (stats.dataPushed ?? 0) + (stats.tombstonesPushed ?? 0) + (stats.rebuilt ?? 0) + (stats.reverted ?? 0);
      const bytes = (stats.bytesPushed ?? 0) + (stats.bytesRebuilt ?? 0);
      bytesMoved += bytes;
      rounds.push({ sec: round((performance.now() - roundStart) / 1000), moved, mib: round(bytes / MiB), requests: stats.requests ?? 0 });
      if (moved === 0) break;
      workedUntil = performance.now();
      if (rounds.length > 10) throw new Error(`no end to the rebuild: ${JSON.stringify(rounds)}`);
    }
    phase = undefined;
    await during;
    const seconds = (workedUntil - start) / 1000;
    const after = objectBytes(cluster, lost);
    return {
      nodes: 6,
      devicesPerNode: c.devices.length,
      lostNodeMiB: round(before / MiB),
      nodeMiBAfter: round(after / MiB),
      rebuiltMiB: round(bytesMoved / MiB),
      rebuildSec: round(seconds),
      mibPerSec: round(bytesMoved / MiB / seconds),
      rounds,
      clientErrors: errors,
      latencyMs: {
        before: { get: summary(phases.before.get), put: summary(phases.before.put) },
        during: { get: summary(phases.during.get), put: summary(phases.during.put) },
      },
    };
  } finally {
    s3.destroy();
    await cluster.close();
  }
}

const results: Record<string, unknown> = {};
for (const policy of ['replica-3', 'ec-8+4']) results[policy] = await benchPolicy(policy);
process.stdout.write(
  `${JSON.stringify({ bench: 'repair', date: new Date().toISOString(), machine: machineInfo(), cluster: '1 proxy + 6 nodes, fsync', quick, objects, objectSize: MiB, probeSize, results })}\n`,
);
