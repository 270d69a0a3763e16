/**
 * Storage-node memory over a bench-like round on a fresh `arca cluster`: bench:compare's steps in small (4 KiB
 * PUT ×16, GET ×16, PUT ×64, mixed, LIST ×64, 1 MiB PUT and GET ×8, 64 MiB PUT ×2, 64 concurrent 64 MiB
 * uploads, DELETE ×16), every node's RSS sampled every 250 ms. Prints one JSON line: each node's peak per step
 * and over the round, what each held after 10 s more, its CPU (% of a core) over the `--idle` seconds after
 * that, and ops/s and server CPU-ms per op of each step.
 *
 *   node dist/bench/profile/memory-round.js [--main /other/build/dist/src/cli/main.js] [--label L] [--idle 30]
 *
 * `--main` runs another build (alternate the two for an A/B: docs/performance.md, proposal 29). A round takes
 * about three minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startArcaCluster } from '../lib/arca-cluster.js';
import { ServerMeter } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { type LoadOptions, runLoad } from '../load/run.js';

const { values: o } = parseArgs({
  options: {
    main: { type: 'string' },
    label: { type: 'string', default: '' },
    idle: { type: 'string', default: '30' },
  },
});

type Step = Pick<LoadOptions, 'workload' | 'size' | 'concurrency' | 'count' | 'durationSec' | 'keys' | 'prefix'>;

const steps: Array<[string, Step]> = [
  ['4KiB ×16 put', { workload: 'put', size: 4096, concurrency: 16, count: 2000 }],
  ['4KiB ×16 get', { workload: 'get', size: 4096, concurrency: 16, count: 4000, keys: 2000 }],
  ['4KiB ×64 put', { workload: 'put', size: 4096, concurrency: 64, count: 2000, prefix: 'b/' }],
  ['mixed ×16', { workload: 'mixed', size: 4096, concurrency: 16, durationSec: 10, keys: 2000 }],
  ['list ×64', { workload: 'list', size: 4096, concurrency: 64, count: 300 }],
  ['1MiB ×8 put', { workload: 'put', size: 1 << 20, concurrency: 8, count: 200, prefix: 'm/' }],
  ['1MiB ×8 get', { workload: 'get', size: 1 << 20, concurrency: 8, count: 400, keys: 200, prefix: 'm/' }],
  ['64MiB ×2 put', { workload: 'put', size: 64 << 20, concurrency: 2, count: 8, prefix: 'g/' }],
  ['64 uploads', { workload: 'put', size: 64 << 20, concurrency: 64, count: 64, prefix: 'u/' }],
  ['4KiB ×16 delete', { workload: 'delete', size: 4096, concurrency: 16, count: 2000 }],
];

const log = (s: string) => process.stderr.write(`[memory-round] ${s}\n`);
const dataDir = mkdtempSync(join(tmpdir(), 'arca-memory-round-'));
const cluster = await startArcaCluster({ dataDir, main: o.main });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (x: number) => round(x, 0);
/** One started meter per node (each node's own RSS and CPU). */
const meterNodes = (sampleMs: number) =>
  cluster.nodePids.map((pid) => {
    const m = new ServerMeter([pid], { sampleMs, rescanMs: 3_600_000 });
    m.start();
    return m;
  });
try {
  const target = { endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey, bucket: 'round' };
  const nodes = cluster.nodePids;
  const peaks = nodes.map(() => 0);
  const byStep: Record<string, { opsPerSec: number; cpuMsPerOp: number; nodePeaksMiB: number[] }> = {};
  for (const [i, [name, step]] of steps.entries()) {
    const meters = meterNodes(250);
    const r = await runLoad({ ...target, ...step, createBucket: i === 0, serverPids: [cluster.proxyPid, ...nodes] });
    const usage = meters.map((m) => m.stop());
    for (const [n, u] of usage.entries()) peaks[n] = Math.max(peaks[n], u.peakRssMiB);
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    if (errors > 0) throw new Error(`${name}: ${errors} errors (${JSON.stringify(r.errors)})`);
    byStep[name] = { opsPerSec: r.opsPerSec, cpuMsPerOp: r.serverCpuMsPerOp ?? 0, nodePeaksMiB: usage.map((u) => mib(u.peakRssMiB)) };
    log(`${name}: ${r.opsPerSec} ops/s, node peaks ${byStep[name].nodePeaksMiB.join(' / ')} MiB`);
  }
  const settle = meterNodes(250);
  await sleep(10_000);
  const settled = settle.map((m) => m.stop());
  for (const [n, u] of settled.entries()) peaks[n] = Math.max(peaks[n], u.peakRssMiB);
  const idleSec = Number(o.idle);
  const idle = meterNodes(1000);
  await sleep(idleSec * 1000);
  const idleCpu = idle.map((m) => round((m.stop().cpuMs / (idleSec * 1000)) * 100, 1));
  process.stdout.write(
    `${JSON.stringify({
      bench: 'memory-round',
      label: o.label,
      nodePeakMiB: peaks.map(mib),
      highestNodePeakMiB: mib(Math.max(...peaks)),
      nodeSettledMiB: settled.map((u) => mib(u.peakRssMiB)),
      nodeIdleCpuPct: idleCpu,
      steps: byStep,
    })}\n`,
  );
} finally {
  await cluster.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
