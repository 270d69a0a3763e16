/**
 * Profiles Arca's proxy and one storage node under one S3 workload: a cluster data dir is made by
 * `arca cluster`, then its proxy and nodes are started by hand from the data dir's etc/*.json, the proxy and
 * node1 under `node --cpu-prof`, and optionally node1 under `strace -f -c` (syscalls per op; strace slows the
 * node, so a run with it gives counts, not speed). Prints per-process CPU per op and the profiles' summaries.
 *
 *   node dist/bench/profile/profile-cluster.js --workload put --size 4KiB --concurrency 16 --count 2000 \
 *     [--setup-put N] [--strace] [--strace-all] [--no-prof] [--out DIR] [--linger SEC]
 *
 * `--setup-put N` writes N objects of the size first (in an unprofiled start of the cluster), for GET and HEAD;
 * `--fill N` gives the bucket N listing rows the way bench:compare does (bench/compare/populate.ts), for LIST;
 * `--linger SEC` keeps metering and profiling SEC seconds after the load (the background work it caused).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { proxyEnv, storageNodeEnv } from '../../src/cli/process-env.js';
import { populateArca } from '../compare/populate.js';
import { startArcaCluster } from '../lib/arca-cluster.js';
import { ServerMeter } from '../lib/proc.js';
import { parseSize, round } from '../lib/stats.js';
import { runLoad, type Workload } from '../load/run.js';
import { type CpuProfile, renderSummary, summarize } from './cpuprofile.js';

const { values: o } = parseArgs({
  options: {
    workload: { type: 'string', default: 'put' },
    size: { type: 'string', default: '4KiB' },
    concurrency: { type: 'string', default: '16' },
    count: { type: 'string', default: '2000' },
    'setup-put': { type: 'string', default: '0' },
    fill: { type: 'string', default: '0' },
    strace: { type: 'boolean', default: false },
    // Every node under strace, the counts summed (which node holds the listing replica varies per run).
    'strace-all': { type: 'boolean', default: false },
    'no-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
    top: { type: 'string', default: '20' },
    // Seconds the cluster keeps running after the load, still metered and profiled: the background work the
    // load caused (replicator passes over the partitions it changed, the updater) counts too.
    linger: { type: 'string', default: '0' },
  },
});
const size = parseSize(o.size!);
const concurrency = Number(o.concurrency);
const count = Number(o.count);
const setup = Number(o['setup-put']);
const out = o.out ?? mkdtempSync(join(tmpdir(), 'arca-prof-'));
mkdirSync(out, { recursive: true });
const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const log = (s: string) => process.stderr.write(`[profile] ${s}\n`);

/** Starts `node [flags] main.js args` and resolves once it prints its ready line. */
async function startProcess(name: string, flags: string[], args: string[]): Promise<ChildProcess> {
  // Each process gets the environment `arca cluster` gives it (a node's thread pool size, the proxy's malloc settings).
  const env = args[0] === 'node' ? storageNodeEnv() : args[0] === 'proxy' ? proxyEnv() : process.env;
  const child = spawn(process.execPath, [...flags, main, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let seen = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (seen.length < 4096) seen += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}: ${seen}`)));
  });
  child.stdout!.resume();
  return child;
}

async function stopProcess(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = once(c, 'exit');
  c.kill('SIGTERM');
  await exited;
}

// 1. A data dir with rings and configs (and, for reads, the objects).
const dataDir = mkdtempSync(join(tmpdir(), 'arca-prof-data-'));
const cluster = await startArcaCluster({ dataDir });
const target = { endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey };
const bucket = 'profile';
if (setup > 0) {
  const r = await runLoad({ ...target, bucket, createBucket: true, workload: 'put', size, concurrency, count: setup });
  log(`setup: ${r.ops} objects written`);
} else if (Number(o.fill) > 0) {
  const r = await populateArca(target, dataDir, bucket, Number(o.fill));
  log(`fill: ${JSON.stringify(r)}`);
} else {
  await runLoad({ ...target, bucket, createBucket: true, workload: 'put', size: 0, concurrency: 1, count: 1, prefix: 'setup/' });
}
await cluster.stop();

// 2. The same cluster by hand: node1 and the proxy profiled.
const etc = join(dataDir, 'etc');
const prof = (name: string) => (o['no-prof'] ? [] : ['--cpu-prof', '--cpu-prof-dir', out, '--cpu-prof-name', `${name}.cpuprofile`]);
const nodes: ChildProcess[] = [];
try {
  for (let i = 1; i <= 4; i++) nodes.push(await startProcess(`node${i}`, i === 1 ? prof('node1') : [], ['node', '--config', join(etc, `node${i}.json`)]));
  const proxy = await startProcess('proxy', prof('proxy'), ['proxy', '--config', join(etc, 'proxy.json')]);
  const proxyConfig = JSON.parse(readFileSync(join(etc, 'proxy.json'), 'utf8')) as { port: number };
  const straced = o['strace-all'] ? nodes : o.strace ? nodes.slice(0, 1) : [];
  const straces = straced.map((n, i) => spawn('strace', ['-f', '-c', '-o', join(out, `node${i + 1}.strace`), '-p', String(n.pid)], { stdio: 'ignore' }));
  if (straces.length > 0) await new Promise((r) => setTimeout(r, 1000)); // attach to every thread first
  const meters = [proxy, ...nodes].map((c) => new ServerMeter([c.pid!], { rescanMs: 3_600_000 }));
  for (const m of meters) m.start();
  const r = await runLoad({
    endpoint: `http://127.0.0.1:${proxyConfig.port}`,
    accessKey: cluster.accessKey,
    secretKey: cluster.secretKey,
    bucket,
    workload: o.workload as Workload,
    size,
    concurrency,
    count,
    keys: setup > 0 ? setup : undefined,
  });
  if (Number(o.linger) > 0) await new Promise((r) => setTimeout(r, Number(o.linger) * 1000));
  const usage = meters.map((m) => m.stop());
  const cpu = usage.map((u) => u.cpuMs);
  for (const strace of straces) {
    const done = once(strace, 'exit');
    strace.kill('SIGINT');
    await done;
  }
  await stopProcess(proxy);
  const perOp = (ms: number) => round(ms / Math.max(1, r.ops), 3);
  process.stdout.write(
    `${o.workload} ${o.size} ×${concurrency}: ${r.ops} ops (${JSON.stringify(r.errors)}), ${r.opsPerSec} ops/s, ${r.mibPerSec} MiB/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms\n` +
      `server CPU ms/op: proxy ${perOp(cpu[0])}, nodes ${cpu.slice(1).map(perOp).join(' / ')}, all ${perOp(cpu.reduce((a, b) => a + b, 0))}\n` +
      `peak RSS MiB: proxy ${round(usage[0].peakRssMiB, 1)}, nodes ${usage
        .slice(1)
        .map((u) => round(u.peakRssMiB, 1))
        .join(' / ')}\n`,
  );
  if (straces.length > 0) {
    const which = straces.length === 1 ? 'node1' : `nodes 1-${straces.length} summed`;
    const text = straces.map((_, i) => readFileSync(join(out, `node${i + 1}.strace`), 'utf8')).join('\n');
    process.stdout.write(`\n${which}: syscalls (strace -f -c), per op = calls / ${r.ops} ops:\n\n${renderStrace(text, r.ops)}\n`);
  }
} finally {
  for (const n of nodes) await stopProcess(n);
}
for (const f of readdirSync(out).filter((f) => f.endsWith('.cpuprofile'))) {
  const s = summarize(JSON.parse(readFileSync(join(out, f), 'utf8')) as CpuProfile);
  process.stdout.write(`\n### ${f}\n\n${renderSummary(s, Number(o.top))}\n`);
}
process.stdout.write(`\nprofiles in ${out}\n`);
rmSync(dataDir, { recursive: true, force: true });

/** strace -c's table → Markdown with calls per op, busiest first. */
function renderStrace(text: string, ops: number): string {
  const byName = new Map<string, { name: string; calls: number; errors: number }>();
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*(\S+)\s*$/.exec(line);
    if (!m || m[3] === 'total') continue;
    const row = byName.get(m[3]) ?? { name: m[3], calls: 0, errors: 0 };
    row.calls += Number(m[1]);
    row.errors += Number(m[2] ?? 0);
    byName.set(m[3], row);
  }
  const rows = [...byName.values()];
  rows.sort((a, b) => b.calls - a.calls);
  const total = rows.reduce((s, x) => s + x.calls, 0);
  return [
    '| syscall | calls | per op | errors |',
    '|---|--:|--:|--:|',
    ...rows.filter((x) => x.calls / ops >= 0.05).map((x) => `| ${x.name} | ${x.calls} | ${(x.calls / ops).toFixed(2)} | ${x.errors || ''} |`),
    `| all | ${total} | ${(total / ops).toFixed(1)} | |`,
  ].join('\n');
}
