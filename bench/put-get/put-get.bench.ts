/**
 * bench/put-get: PUT and GET ops/s and MiB/s for 4 KiB, 1 MiB and 64 MiB objects at a few concurrencies
 * against `arca cluster` (real processes, fsync on, replica-3 on 4 nodes), and the proxy's peak RSS while one
 * 1 GiB object streams through it in each direction. Prints one JSON line.
 *
 *   node dist/bench/put-get/put-get.bench.js [--quick]
 */
import { ServerMeter } from '../lib/proc.js';
import { startArcaCluster } from '../lib/arca-cluster.js';
import { type LoadResult, runLoad } from '../load/run.js';

const quick = process.argv.includes('--quick');
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const plan: Array<{ size: number; concurrency: number; count: number }> = [
  { size: 4 * KiB, concurrency: 1, count: quick ? 200 : 1000 },
  { size: 4 * KiB, concurrency: 16, count: quick ? 500 : 3000 },
  { size: 4 * KiB, concurrency: 64, count: quick ? 500 : 3000 },
  { size: MiB, concurrency: 1, count: quick ? 30 : 100 },
  { size: MiB, concurrency: 8, count: quick ? 60 : 300 },
  { size: 64 * MiB, concurrency: 2, count: quick ? 4 : 12 },
];

function brief(r: LoadResult) {
  return {
    ops: r.ops,
    errors: r.errors,
    opsPerSec: r.opsPerSec,
    mibPerSec: r.mibPerSec,
    p50Ms: r.latencyMs.p50,
    p99Ms: r.latencyMs.p99,
    serverCpuMsPerOp: r.serverCpuMsPerOp,
  };
}

const cluster = await startArcaCluster({ nodes: 4 });
const base = { endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey, serverPids: [cluster.proxyPid, ...cluster.nodePids] };
try {
  const results = [];
  for (const [i, p] of plan.entries()) {
    const bucket = `bench-${i}`;
    const put = await runLoad({ ...base, bucket, createBucket: true, workload: 'put', size: p.size, concurrency: p.concurrency, count: p.count });
    const get = await runLoad({ ...base, bucket, workload: 'get', size: p.size, concurrency: p.concurrency, count: p.count, keys: p.count });
    results.push({ size: put.size, concurrency: p.concurrency, put: brief(put), get: brief(get) });
  }

  // One 1 GiB object through the proxy in each direction, sampling only the proxy's RSS.
  const big = quick ? 256 * MiB : GiB;
  const streams: Record<string, unknown> = {};
  for (const workload of ['put', 'get'] as const) {
    const meter = new ServerMeter([cluster.proxyPid], { sampleMs: 50 });
    meter.start();
    const r = await runLoad({ ...base, serverPids: undefined, bucket: 'bench-big', createBucket: workload === 'put', workload, size: big, concurrency: 1, count: 1, keys: 1 });
    const usage = meter.stop();
    streams[workload] = { mibPerSec: r.mibPerSec, seconds: r.seconds, errors: r.errors, proxyPeakRssMiB: usage.peakRssMiB };
  }
  process.stdout.write(
    `${JSON.stringify({ bench: 'put-get', date: new Date().toISOString(), node: process.version, cluster: '1 proxy + 4 nodes, replica-3, fsync', quick, results, bigObject: { bytes: big, ...streams } })}\n`,
  );
} finally {
  await cluster.stop();
}
