/**
 * Idle CPU of a data-full cluster: what the background workers (replicators above all) cost when nothing is
 * written. Starts `arca cluster` on a kept data dir, optionally fills it first (PUT then DELETE N small
 * objects, so every partition holds hash dirs and tombstones), waits `--warmup` seconds (the first passes
 * after a start read everything), then reads utime+stime of the proxy and each node over `--window` seconds
 * and prints them as % of one core, with each node's last replicator passes from `/recon/status`.
 *
 *   node dist/bench/profile/idle-cluster.js --data /tmp/idle-data [--fill 6000] [--warmup 45] [--window 60] \
 *     [--main /other/build/dist/src/cli/main.js]
 *
 * `--main` runs another build on the same data dir (A/B runs against an older commit).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startArcaCluster } from '../lib/arca-cluster.js';
import { ServerMeter } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { runLoad } from '../load/run.js';

const { values: o } = parseArgs({
  options: {
    data: { type: 'string' },
    fill: { type: 'string', default: '0' },
    warmup: { type: 'string', default: '45' },
    window: { type: 'string', default: '60' },
    main: { type: 'string' },
  },
});
const log = (s: string) => process.stderr.write(`[idle] ${s}\n`);
const dataDir = o.data ?? mkdtempSync(join(tmpdir(), 'arca-idle-'));
const cluster = await startArcaCluster({ dataDir, main: o.main });
try {
  const fill = Number(o.fill);
  if (fill > 0) {
    const target = { endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey, bucket: 'idle', size: 1024, concurrency: 16, count: fill };
    const put = await runLoad({ ...target, createBucket: true, workload: 'put' });
    const del = await runLoad({ ...target, workload: 'delete' });
    log(`fill: ${put.ops} PUT (${put.opsPerSec}/s, errors ${JSON.stringify(put.errors)}), ${del.ops} DELETE (${del.opsPerSec}/s, errors ${JSON.stringify(del.errors)})`);
  }
  log(`warming up ${o.warmup} s`);
  await new Promise((r) => setTimeout(r, Number(o.warmup) * 1000));
  const pids = [cluster.proxyPid, ...cluster.nodePids];
  const meters = pids.map((pid) => new ServerMeter([pid], { rescanMs: 3_600_000 }));
  const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  for (const m of meters) m.start();
  const windowSec = Number(o.window);
  await new Promise((r) => setTimeout(r, windowSec * 1000));
  const cpu = meters.map((m) => m.stop().cpuMs);
  const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const pct = (ms: number) => `${round((ms / (windowSec * 1000)) * 100, 1)} %`;
  const nodes = cpu.slice(1).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `idle ${windowSec} s, % of one core: proxy ${pct(cpu[0])}, nodes ${cpu.slice(1).map(pct).join(' / ')}; nodes ${pct(nodes)}, all ${pct(nodes + cpu[0])}\n` +
      `load average before ${load0}, after ${load1}\n`,
  );
  const spec = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as { nodePorts: number[] };
  for (const [i, port] of spec.nodePorts.entries()) {
    const status = (await (await fetch(`http://127.0.0.1:${port}/recon/status`)).json()) as { workers: Array<{ name: string; last?: { durationMs: number; stats?: Record<string, number> } }> };
    for (const w of status.workers.filter((w) => w.name === 'replicator' || w.name === 'listingReplicator')) {
      process.stdout.write(`node${i + 1} ${w.name}: last pass ${w.last?.durationMs} ms ${JSON.stringify(w.last?.stats)}\n`);
    }
  }
} finally {
  await cluster.stop();
}
