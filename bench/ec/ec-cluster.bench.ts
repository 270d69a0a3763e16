/**
 * bench/ec cluster: PUT and GET MiB/s of erasure-coded objects through `arca cluster` (real processes, fsync
 * on), for ec-4+2 on 4 nodes (two devices each, as `arca cluster --policy ec-4+2` lays them out) beside
 * replica-3 on the same machine, at 1 MiB and 64 MiB objects; then GET with one node stopped (the decode
 * path: archives of that node are rebuilt segment by segment from parity). Prints one JSON line.
 *
 *   node dist/bench/ec/ec-cluster.bench.js [--quick]
 */
import { startArcaCluster } from '../lib/arca-cluster.js';
import { type LoadResult, runLoad } from '../load/run.js';

const quick = process.argv.includes('--quick');
const MiB = 1024 * 1024;
const plan: Array<{ size: number; concurrency: number; count: number }> = [
  { size: MiB, concurrency: 8, count: quick ? 40 : 200 },
  { size: 64 * MiB, concurrency: 2, count: quick ? 4 : 12 },
];

const brief = (r: LoadResult) => ({ ops: r.ops, errors: r.errors, mibPerSec: r.mibPerSec, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99, serverCpuMsPerOp: r.serverCpuMsPerOp });

const results: Record<string, unknown> = {};
for (const policy of ['ec-4+2', 'replica-3']) {
  const cluster = await startArcaCluster({ nodes: 4, policy });
  const base = { endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey, serverPids: [cluster.proxyPid, ...cluster.nodePids] };
  try {
    const rows = [];
    for (const [i, p] of plan.entries()) {
      const bucket = `bench-${i}`;
      const put = await runLoad({ ...base, bucket, createBucket: true, workload: 'put', size: p.size, concurrency: p.concurrency, count: p.count });
      const get = await runLoad({ ...base, bucket, workload: 'get', size: p.size, concurrency: p.concurrency, count: p.count, keys: p.count });
      rows.push({ size: p.size, concurrency: p.concurrency, put: brief(put), get: brief(get) });
    }
    let degraded: unknown;
    if (policy.startsWith('ec-')) {
      // One node down: a third of the archives (two devices of six) answer no more; reads decode.
      process.kill(cluster.nodePids[0], 'SIGSTOP');
      try {
        const p = plan[1];
        degraded = brief(await runLoad({ ...base, serverPids: base.serverPids.slice(0, 1).concat(cluster.nodePids.slice(1)), bucket: 'bench-1', workload: 'get', size: p.size, concurrency: p.concurrency, count: p.count, keys: p.count }));
      } finally {
        process.kill(cluster.nodePids[0], 'SIGCONT');
      }
    }
    results[policy] = { rows, ...(degraded ? { getOneNodeDown64MiB: degraded } : {}) };
  } finally {
    await cluster.stop();
  }
}
process.stdout.write(`${JSON.stringify({ bench: 'ec-cluster', date: new Date().toISOString(), node: process.version, cluster: '1 proxy + 4 nodes, fsync', quick, results })}\n`);
