/**
 * `npm run bench:compare`: Arca (`arca cluster`, replica-3 on 4 nodes) and OpenStack Swift 2.30 (the shared
 * peer's start.sh) on the same machine, driven by the same load generator in alternation, step by step and
 * round after round; each figure is the median over the rounds, printed for both with their ratio, beside the
 * machine's limits measured in the same run, and the issue-7 targets evaluated. docs/benchmarks.md has it all.
 *
 *   npm run bench:compare -- [--quick] [--write] [--rounds N] [--keys N] [--data DIR] [--swift-peer DIR]
 *                            [--no-swift] [--no-install] [--swift-daemons] [--fresh] [--budget-min M] [--render FILE]
 *
 * Prints the tables, then one JSON line (the Report) on stdout; progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readdirIfExistsSync } from '../../storage-nodes/fs-util.js';
import { journalDirName } from '../../storage-nodes/write-journal.js';
import { type ArcaCluster, startArcaCluster } from '../lib/arca-cluster.js';
import { bestLimits, type MachineLimits, measureLimits } from '../lib/limits.js';
import { commitInfo, machineInfo } from '../lib/machine.js';
import { ServerMeter } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { dropSwiftObjects, ensureSwiftInstalled, type SwiftPeer, startSwiftPeer } from '../lib/swift-peer.js';
import { type LoadOptions, type LoadResult, runLoad, signedClient } from '../load/run.js';
import { makePlan, type Plan } from './plan.js';
import { arcaNodes, type PopulateResult, passesDone, populateArca, populateSwift, runPasses, type S3Target } from './populate.js';
import { type MemorySide, type Report, renderCharts, renderResultsMd, renderText, sideLabel } from './report.js';
import { RoundBook, type Row, type SideName } from './summary.js';
import { evaluateTargets } from './targets.js';

const usage = `usage: npm run bench:compare -- [options]
  --quick              smaller counts, 2 rounds, 100,000 keys in the LIST bucket, 16 concurrent uploads (~5 min)
  --write              write bench/RESULTS.md and bench/charts/*.svg
  --rounds N           rounds of alternation (default 5; quick 2)
  --keys N             keys in the big LIST bucket (default 1,000,000; quick 100,000)
  --data DIR           kept data dirs (arca/, swift/, limits/) [ARCA_BENCH_DATA] (default ~/.cache/arca-bench)
  --swift-peer DIR     directory of the Swift peer's start.sh/stop.sh [ARCA_BENCH_SWIFT_PEER]
                       (default ../shared/peers/swift next to the checkout)
  --no-swift           measure Arca alone
  --no-install         do not apt-get install Swift when it is missing
  --swift-daemons      also run Swift's replicators and updaters (Arca's nodes always run their workers)
  --fresh              delete the kept data dirs first (the big LIST bucket is filled again)
  --budget-min M       no new round starts after M minutes (default 120; quick 20)
  --render FILE        run nothing: print the tables of the JSON line saved in FILE (with --write, also
                       write bench/RESULTS.md and the charts from it)`;

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    keys: { type: 'string' },
    data: { type: 'string' },
    'swift-peer': { type: 'string' },
    'no-swift': { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    'swift-daemons': { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
    render: { type: 'string' },
    'budget-min': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

/** Writes bench/RESULTS.md and bench/charts/*.svg. */
function writeResults(report: Report): number {
  const chartsDir = join(root, 'bench', 'charts');
  mkdirSync(chartsDir, { recursive: true });
  const charts = renderCharts(report);
  // Charts of workloads this report does not have (another --keys, say) would be stale: they go.
  for (const f of readdirSync(chartsDir)) if (f.endsWith('.svg') && !charts.some((c) => c.file === f)) rmSync(join(chartsDir, f));
  for (const c of charts) writeFileSync(join(chartsDir, c.file), c.svg);
  const notesFile = join(root, 'bench', 'compare', 'NOTES.md');
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : undefined;
  writeFileSync(join(root, 'bench', 'RESULTS.md'), renderResultsMd(report, charts.map((c) => `charts/${c.file}`), notes));
  return charts.length;
}

if (flags.render !== undefined) {
  const line = readFileSync(flags.render, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"bench":"compare"'))
    .pop();
  if (!line) {
    process.stderr.write(`${flags.render}: no JSON line of bench:compare in it\n`);
    process.exit(2);
  }
  const saved = JSON.parse(line) as Report;
  process.stdout.write(renderText(saved));
  if (flags.write) process.stderr.write(`wrote bench/RESULTS.md and ${writeResults(saved)} charts in bench/charts/\n`);
  process.exit(0);
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const plan: Plan = makePlan({ quick: flags.quick!, keys: num(flags.keys), rounds: num(flags.rounds), budgetMin: num(flags['budget-min']) });
const dataRoot = resolve(flags.data ?? process.env.ARCA_BENCH_DATA ?? join(homedir(), '.cache', 'arca-bench'));
const peerScripts = resolve(flags['swift-peer'] ?? process.env.ARCA_BENCH_SWIFT_PEER ?? join(root, '..', 'shared', 'peers', 'swift'));
const REPLICAS = 3;
/** Fixed ports: a kept data dir keeps its node ports (Arca's cluster.json, Swift's rings). */
const ARCA_PORT = 27180;
const SWIFT = { port: 18280, basePort: 16200, memcachedPort: 11611 };

const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const log = (line: string) => process.stderr.write(`[compare ${elapsed().toFixed(0).padStart(5)} s] ${line}\n`);

interface Side {
  name: SideName;
  target: S3Target;
  /** Root pids of this side's server processes (descendants are measured too). */
  pids: () => number[];
}

let arca: ArcaCluster | undefined;
let swift: SwiftPeer | undefined;
let stopping = false;
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([arca?.stop(), swift?.stop()]);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers`);
    void stopAll().then(() => process.exit(130));
  });
}
// A hard ceiling above the round budget: setup, memory test and teardown get 45 minutes more.
const watchdog = setTimeout(
  () => {
    log('overall time limit reached: stopping');
    void stopAll().then(() => process.exit(1));
  },
  (plan.budgetSec + 45 * 60) * 1000,
);
watchdog.unref();

/** Starts Arca on the kept data dir (a fresh one when that fails), logs its processes and notes its storage nodes. */
async function startArca(): Promise<ArcaCluster> {
  const dir = join(dataRoot, 'arca');
  const opts = { nodes: 4, policy: 'replica-3', dataDir: dir, basePort: ARCA_PORT, reconRun: true };
  let cluster: ArcaCluster;
  try {
    cluster = await startArcaCluster(opts);
  } catch (err) {
    log(`Arca did not start on the kept data dir ${dir} (${(err as Error).message.split('\n')[0]}); starting it fresh`);
    rmSync(dir, { recursive: true, force: true });
    cluster = await startArcaCluster(opts);
  }
  log(`Arca: ${cluster.endpoint}, proxy pid ${cluster.proxyPid}, node pids ${cluster.nodePids.join(',')}`);
  arcaNodeList = arcaNodes(cluster.dataDir);
  arcaDataDir = cluster.dataDir;
  return cluster;
}

/** The S3 endpoint and credentials of a running server (its other fields left out). */
function s3Target(s: S3Target): S3Target {
  return { endpoint: s.endpoint, accessKey: s.accessKey, secretKey: s.secretKey };
}

/** Buckets of the kept Arca cluster that are not bench:compare's own (`cmp-…`): left by other experiments. */
async function foreignBuckets(cluster: ArcaCluster): Promise<string[]> {
  const client = signedClient(cluster, 1, 30_000);
  try {
    const r = await client.request({ method: 'GET', path: '/', collect: true });
    const names = [...(r.body?.toString() ?? '').matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1]);
    return names.filter((n) => !n.startsWith('cmp-'));
  } finally {
    client.close();
  }
}

async function startSwift(): Promise<{ peer?: SwiftPeer; skipped?: string; version?: string }> {
  if (flags['no-swift']) return { skipped: '--no-swift' };
  const python = process.env.SWIFT_PEER_PYTHON ?? '/usr/bin/python3';
  const missing = flags['no-install'] ? undefined : ensureSwiftInstalled(python, log);
  if (missing) return { skipped: `Swift is not installed and could not be: ${missing}` };
  const dir = join(dataRoot, 'swift');
  try {
    dropSwiftObjects(peerScripts, dir);
    const peer = await startSwiftPeer({ scriptsDir: peerScripts, dataDir: dir, ...SWIFT, python, withDaemons: flags['swift-daemons'] });
    // `swift\t2.30.1-0+deb12u3`
    const v = spawnSync('dpkg-query', ['-W', 'swift'], { encoding: 'utf8' });
    return { peer, version: v.status === 0 ? `Swift ${v.stdout.trim().split('\t')[1] ?? ''}`.trim() : 'Swift' };
  } catch (err) {
    return { skipped: `the Swift peer did not start: ${(err as Error).message}` };
  }
}

/** CPU the servers use while nobody talks to them, % of one core. */
async function idleCpu(side: Side, seconds: number): Promise<number> {
  const meter = new ServerMeter(side.pids(), { sampleMs: 500, rescanMs: 60_000 });
  meter.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return round(meter.stop().cpuMs / (seconds * 10), 1);
}

function load(side: Side, o: Omit<LoadOptions, 'endpoint' | 'accessKey' | 'secretKey' | 'serverPids' | 'timeoutMs'>, measure = true): Promise<LoadResult> {
  return runLoad({ ...side.target, ...(measure ? { serverPids: side.pids() } : {}), timeoutMs: plan.timeoutMs, ...o });
}

/** Steps that write, after which Arca's nodes replicate before the next step (`replicateWrites`). */
const writeOps = new Set(['put', 'delete', 'mixed']);

const issuedOf = (r: LoadResult) => r.ops + Object.values(r.errors).reduce((s, n) => s + n, 0);
const brief = (r: LoadResult) =>
  `${r.ops} ops${issuedOf(r) > r.ops ? ` (+${issuedOf(r) - r.ops} failed: ${r.firstError})` : ''}, ${r.opsPerSec} ops/s, ${r.mibPerSec} MiB/s, p99 ${r.latencyMs.p99} ms, ${r.serverCpuMsPerOp ?? '–'} CPU-ms/op`;

/**
 * What the run was doing when: each step, clean-up and phase notes its start, so a process's whole-run peak
 * RSS can be told where it happened (`runPeaks`).
 */
const timeline: Array<{ at: number; what: string }> = [];
function mark(what: string): void {
  timeline.push({ at: Date.now(), what });
}
/** The step or phase under way at `at` (ms since the epoch). */
function markAt(at: number): string {
  let what = 'before the rounds';
  for (const m of timeline) if (m.at <= at) what = m.what;
  return what;
}

/** Deletes `count` objects (`obj-0` …) without measuring; what is gone already answers 404, which is fine. */
async function cleanup(side: Side, bucket: string, count: number, concurrency: number, when: string): Promise<void> {
  if (count === 0) return;
  mark(`${when}, ${sideLabel(side.name)} clean-up of ${bucket}`);
  await load(side, { bucket, workload: 'delete', size: 0, concurrency, count, durationSec: 600 }, false);
  await replicateWrites(side);
}

/** The Arca cluster's storage nodes (set once it runs). */
let arcaNodeList: Array<{ ip: string; port: number }> = [];

/** Server CPU of a replicator and listing-replicator pass of every Arca node with nothing to replicate (measured before round 1). */
let passBaselineCpuMs = 0;

/** The Arca cluster's data dir (set once it runs). */
let arcaDataDir = '';

/**
 * Runs a replicator and a listing-replicator pass on every Arca node now, then waits for the checkpoints of
 * the write journals' segments that were there when it began; the seconds it took and the servers' CPU
 * meanwhile. A small write's files reach the disk at its journal's next checkpoint (docs/storage-nodes.md,
 * "The write journal"), due within `journalCheckpointMs` (5 s) of a step's end: waiting for it keeps that
 * write-back out of the next step (Swift's), and the nodes' CPU for it is charged with the passes' (the
 * `sync -f` children are sampled too, so the meter rescans often).
 */
async function arcaPasses(side: Side): Promise<{ seconds: number; cpuMs: number }> {
  const meter = new ServerMeter(side.pids(), { sampleMs: 100, rescanMs: 100 });
  meter.start();
  const t0 = performance.now();
  const segments = journalSegments(arcaDataDir);
  await runPasses(arcaNodeList, ['replicator', 'listingReplicator']);
  if (!(await checkpointed(segments, 30_000))) log('the write journals kept a segment over 30 s after a write step (a checkpoint failed?)');
  return { seconds: round((performance.now() - t0) / 1000, 1), cpuMs: meter.stop().cpuMs };
}

/** The write journals' segment files of every device under the Arca data dir (`devices/<device>/journal/*.wal`). */
function journalSegments(dataDir: string): string[] {
  const devicesDir = join(dataDir, 'devices');
  const out: string[] = [];
  for (const device of readdirSync(devicesDir)) {
    const dir = join(devicesDir, device, journalDirName);
    for (const name of readdirIfExistsSync(dir) ?? []) if (name.endsWith('.wal')) out.push(join(dir, name));
  }
  return out;
}

/** Resolves true once none of `segments` exists (their checkpoints removed them), false after `timeoutMs`. */
async function checkpointed(segments: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!segments.some((path) => existsSync(path))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * After a step that wrote, Arca's nodes replicate what it wrote before the next step begins: every node runs
 * a replicator and a listing-replicator pass now (`runPasses`). Left to the nodes' own loops (every 15 s), that
 * work landed in whichever step came next — a GET step after a PUT step ran at half speed in one round of
 * three. Returns the seconds it took and the server CPU it used beyond what the same passes cost with
 * nothing to do (`passBaselineCpuMs`: that much the nodes' own loops spend every 15 s whatever the load, and
 * it is in every step's figure already); the caller charges it to the step that wrote. Nothing for Swift,
 * whose peer runs no replicators.
 */
async function replicateWrites(side: Side): Promise<{ seconds: number; cpuMs: number } | undefined> {
  if (side.name !== 'arca') return undefined;
  const { seconds, cpuMs } = await arcaPasses(side);
  return { seconds, cpuMs: Math.max(0, cpuMs - passBaselineCpuMs) };
}

/** Peak RSS meters, one per process, over a long window: rare rescans (these processes fork nothing new). */
function processMeters(pids: number[], sampleMs: number): ServerMeter[] {
  return pids.map((pid) => {
    const m = new ServerMeter([pid], { sampleMs, rescanMs: 3_600_000 });
    m.start();
    return m;
  });
}

async function main(): Promise<number> {
  const machine = machineInfo();
  const commit = commitInfo(root);
  log(`${plan.quick ? 'quick' : 'full'} run: ${plan.rounds} rounds, ${plan.bigList.keys} keys, data in ${dataRoot}, Swift peer scripts in ${peerScripts}`);
  if (flags.fresh) {
    log('--fresh: deleting the kept data dirs');
    spawnSync(join(peerScripts, 'stop.sh'), [join(dataRoot, 'swift')], { stdio: 'ignore' });
    rmSync(join(dataRoot, 'arca'), { recursive: true, force: true });
    rmSync(join(dataRoot, 'swift'), { recursive: true, force: true });
  }
  mkdirSync(dataRoot, { recursive: true });

  arca = await startArca();
  const foreign = await foreignBuckets(arca);
  if (foreign.length > 0) {
    log(`WARNING: the kept Arca data dir holds buckets this run did not make (${foreign.join(', ')}): its auditor and replicators work on their objects during the rounds; delete them, or run with --fresh`);
  }
  const swiftStart = await startSwift();
  swift = swiftStart.peer;
  if (swift) log(`Swift: ${swift.endpoint} (${swiftStart.version})`);
  else log(`SKIPPING SWIFT: ${swiftStart.skipped}. Arca is measured alone; ratios and ratio targets are n/a.`);

  let cluster = arca;
  const sides: Side[] = [{ name: 'arca', target: s3Target(cluster), pids: () => [cluster.pid] }];
  const peer = swift;
  if (peer) sides.push({ name: 'swift', target: s3Target(peer), pids: () => peer.pids() });

  log('measuring the machine limits');
  const limitsBefore: MachineLimits = await measureLimits(join(dataRoot, 'limits'), plan.limits);
  log(`limits: ${JSON.stringify(limitsBefore)}`);

  // Setup, not measured: the mixed workload's objects and the big LIST bucket (kept between runs).
  const populate: Partial<Record<SideName, PopulateResult>> = {};
  let arcaSetupDone = Date.now();
  for (const side of sides) {
    const m = plan.mixed;
    const r = await load(side, { bucket: m.bucket, createBucket: true, workload: 'put', size: m.size, concurrency: m.concurrency, count: m.keys, durationSec: 300 }, false);
    if (r.ops < m.keys) log(`${side.name}: mixed setup wrote ${r.ops} of ${m.keys} objects (${r.firstError ?? 'time cap'})`);
    log(`${side.name}: filling ${plan.bigList.bucket} up to ${plan.bigList.keys} rows (kept in ${dataRoot}; once per data dir)`);
    populate[side.name] =
      side.name === 'arca'
        ? await populateArca(side.target, cluster.dataDir, plan.bigList.bucket, plan.bigList.keys)
        : await populateSwift(side.target, peer!.dataDir, peer!.account, plan.bigList.bucket, plan.bigList.keys, peer!.python);
    log(`${side.name}: ${JSON.stringify(populate[side.name])}`);
    if (side.name === 'arca' && (populate.arca?.inserted ?? 0) > 0) {
      // Swift's fill writes its container databases directly, past its servers; Arca's went through its nodes,
      // whose malloc arenas keep what merging the rows and passing them between replicas left (benchmarks.md,
      // "The big LIST bucket"). Restarted, Arca's processes start the rounds as on a kept data dir.
      log('arca: restarting the cluster after the fill, so that its processes begin the rounds without the import behind them');
      await cluster.stop();
      arca = cluster = await startArca();
      side.target = s3Target(cluster);
      populate.arca = { ...populate.arca!, restarted: true };
    }
    if (side.name === 'arca') arcaSetupDone = Date.now();
  }

  // Warm-up, not measured. Arca's nodes first finish the replication passes that their start (a restarted
  // node compares every partition with its peers) and the setup writes began; round 1 measured them before.
  // Then each side serves a short GET and HEAD run, so round 1 does not measure V8 compiling Arca's read path.
  log("waiting for Arca's replicator, reconstructor and listing replicator to finish a pass begun after the setup");
  const settle = await passesDone(arcaNodeList, arcaSetupDone, plan.warmup.settleMaxSec * 1000, ['replicator', 'reconstructor', 'listingReplicator']);
  log(`Arca's passes ${settle.settled ? 'done' : 'still running (gave up waiting)'} after ${settle.seconds} s`);
  for (const side of sides) {
    for (const workload of ['get', 'head'] as const) {
      const m = plan.mixed;
      await load(side, { bucket: m.bucket, workload, size: m.size, concurrency: m.concurrency, keys: m.keys, count: plan.warmup.count, durationSec: plan.warmup.sec }, false);
    }
  }
  // Then the write path, as the rounds use it: a first PUT ×16 step with its passes compiled ~6 CPU-s of
  // TurboFan over the four nodes, the fifth ~0.6 (docs/benchmarks.md, "What runs, in which order").
  const w = plan.warmup;
  for (let cycle = 0; cycle < w.writeCycles; cycle++) {
    for (const concurrency of [16, 64]) {
      for (const side of sides) {
        mark(`warm-up, ${sideLabel(side.name)} writes ×${concurrency}`);
        const put = await load(side, { bucket: w.writeBucket, createBucket: true, workload: 'put', size: 4096, concurrency, count: w.writeCount, durationSec: w.writeSec }, false);
        await replicateWrites(side);
        await cleanup(side, w.writeBucket, issuedOf(put), concurrency, 'warm-up');
      }
    }
  }

  // What a pass of every node costs with nothing to replicate: the part of `replicateWrites` not charged to a step.
  const arcaSide = sides.find((s) => s.name === 'arca')!;
  await arcaPasses(arcaSide);
  const baselines = [(await arcaPasses(arcaSide)).cpuMs, (await arcaPasses(arcaSide)).cpuMs];
  passBaselineCpuMs = Math.min(...baselines);
  log(`a replicator and listing-replicator pass of every Arca node with nothing to replicate: ${baselines.join(', ')} CPU-ms`);

  // Both sides at once (both idle), over one replicator interval of Arca's nodes (30 s; quick 6 s).
  const idleSec = plan.quick ? 6 : 30;
  const idleAll = async () => Object.fromEntries(await Promise.all(sides.map(async (s) => [s.name, await idleCpu(s, idleSec)]))) as Partial<Record<SideName, number>>;
  const idleCpuPct = await idleAll();
  log(`idle CPU over ${idleSec} s (% of a core): ${JSON.stringify(idleCpuPct)}`);

  const runMeters = {
    arca: processMeters([cluster.proxyPid, ...cluster.nodePids], 250),
    swift: peer ? processMeters(['proxy-server', 'object-server-1', 'object-server-2', 'object-server-3', 'object-server-4'].map((r) => peer.pidsByRole().get(r)!).filter(Boolean), 250) : [],
  };

  const book = new RoundBook();
  let roundsDone = 0;
  let lastRoundSec = 0;
  for (let round = 1; round <= plan.rounds; round++) {
    if (elapsed() + lastRoundSec > plan.budgetSec) {
      log(`budget of ${plan.budgetSec / 60} min would be exceeded: stopping after ${roundsDone} rounds`);
      break;
    }
    const roundStart = elapsed();
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    log(`round ${round}/${plan.rounds}: ${order.map((s) => s.name).join(', ')} first`);
    const each = async (meta: Omit<Row, 'rounds' | 'arca' | 'swift' | 'firstError'>, opts: (side: Side) => Parameters<typeof load>[1]) => {
      const out = new Map<SideName, LoadResult>();
      for (const side of order) {
        mark(`round ${round}, ${sideLabel(side.name)} ${meta.workload} ${meta.op}`);
        const r = await load(side, opts(side));
        // The replication of what a write step wrote is part of its cost: its CPU is counted in the step's.
        const passes = writeOps.has(meta.op) ? await replicateWrites(side) : undefined;
        const passCpuMsPerOp = passes && r.ops > 0 ? passes.cpuMs / r.ops : undefined;
        if (passCpuMsPerOp !== undefined && r.serverCpuMsPerOp != null) r.serverCpuMsPerOp = Number((r.serverCpuMsPerOp + passCpuMsPerOp).toFixed(3));
        book.add(meta, side.name, r, passCpuMsPerOp);
        out.set(side.name, r);
        log(`  ${side.name.padEnd(5)} ${meta.workload} ${meta.op}: ${brief(r)}${passes ? `; replication after it ${passes.seconds} s, ${Math.round(passes.cpuMs)} CPU-ms (counted)` : ''}`);
      }
      return out;
    };
    for (const g of plan.groups) {
      const meta = (op: string) => ({ id: `${g.id}:${op}`, workload: g.label, op, size: g.size, concurrency: g.concurrency });
      const common = { bucket: g.bucket, size: g.size, concurrency: g.concurrency };
      const puts = await each(meta('put'), () => ({ ...common, createBucket: true, workload: 'put', ...g.put }));
      const written = (s: Side) => Math.max(1, issuedOf(puts.get(s.name)!));
      await each(meta('get'), (s) => ({ ...common, workload: 'get', ...g.get, keys: written(s) }));
      await each(meta('head'), (s) => ({ ...common, workload: 'head', ...g.head, keys: written(s) }));
      await each(meta('list'), () => ({ ...common, workload: 'list', ...g.list }));
      const deletes = await each(meta('delete'), (s) => ({ ...common, workload: 'delete', count: written(s), durationSec: g.deleteSec }));
      for (const side of order) {
        if (issuedOf(deletes.get(side.name)!) < written(side)) await cleanup(side, g.bucket, written(side), g.concurrency, `round ${round}`);
      }
    }
    const m = plan.mixed;
    await each({ id: 'mixed', workload: `mixed 70/30 GET/PUT ${m.size / 1024}KiB ×${m.concurrency}`, op: 'mixed', size: m.size, concurrency: m.concurrency }, () => ({
      bucket: m.bucket,
      workload: 'mixed',
      size: m.size,
      concurrency: m.concurrency,
      keys: m.keys,
      count: m.count,
      durationSec: m.durationSec,
      mix: { get: 70, put: 30 },
      seed: round,
    }));
    const bl = plan.bigList;
    await each(
      { id: `list-${bl.keys}`, workload: `LIST 1,000 of ${bl.keys.toLocaleString('en-US')} keys ×${bl.concurrency}`, op: 'list', size: 0, concurrency: bl.concurrency },
      () => ({ bucket: bl.bucket, workload: 'list', size: 0, concurrency: bl.concurrency, count: bl.count, durationSec: bl.durationSec }),
    );
    const sp = plan.singlePut;
    const singles = await each({ id: '64m-c1:put', workload: '64MiB ×1', op: 'put', size: sp.size, concurrency: 1 }, () => ({
      bucket: sp.bucket,
      createBucket: true,
      workload: 'put',
      size: sp.size,
      concurrency: 1,
      count: sp.count,
      durationSec: 120,
    }));
    for (const side of order) await cleanup(side, sp.bucket, issuedOf(singles.get(side.name)!), 2, `round ${round}`);
    roundsDone = round;
    lastRoundSec = elapsed() - roundStart;
  }

  // Memory: many 64 MiB uploads at once, once per side, each process's peak RSS sampled every 100 ms.
  const memory: Report['memory'] = { concurrency: plan.memory.concurrency, sizeMiB: plan.memory.size / 1048576 };
  for (const side of sides) {
    const roles =
      side.name === 'arca'
        ? [cluster.proxyPid, ...cluster.nodePids]
        : ['proxy-server', 'object-server-1', 'object-server-2', 'object-server-3', 'object-server-4'].map((r) => peer!.pidsByRole().get(r)!).filter(Boolean);
    const meters = processMeters(roles, 100);
    const n = plan.memory.concurrency;
    log(`${side.name}: ${n} concurrent ${plan.memory.size / 1048576} MiB PUTs`);
    mark(`${sideLabel(side.name)} ${n} concurrent ${plan.memory.size / 1048576} MiB uploads`);
    const r = await load(side, { bucket: plan.memory.bucket, createBucket: true, workload: 'put', size: plan.memory.size, concurrency: n, count: n, durationSec: 900 });
    const usage = meters.map((mt) => mt.stop());
    const peaks = usage.map((u) => u.peakRssMiB);
    log(`  ${brief(r)}; peak RSS ${peaks.map((p) => p.toFixed(0)).join(', ')} MiB (the proxy's ${usage[0].startRssMiB.toFixed(0)} at the start)`);
    const ms: MemorySide = {
      proxyPeakRssMiB: round(peaks[0], 1),
      proxyStartRssMiB: round(usage[0].startRssMiB, 1),
      nodePeakRssMiB: peaks.slice(1).map((p) => round(p, 1)),
      totalPeakRssMiB: r.serverPeakRssMiB ?? 0,
      totalPssMiB: r.serverPssMiB ?? 0,
      mibPerSec: r.mibPerSec,
      ops: r.ops,
      errors: issuedOf(r) - r.ops,
    };
    memory[side.name] = ms;
    await cleanup(side, plan.memory.bucket, n, 8, 'after the uploads');
  }

  mark('idle after the rounds');
  const idleCpuPctAfter = await idleAll();
  log(`idle CPU after the rounds over ${idleSec} s (% of a core): ${JSON.stringify(idleCpuPctAfter)}`);

  mark('measuring the machine limits again');
  log('measuring the machine limits again');
  const limitsAfter: MachineLimits = await measureLimits(join(dataRoot, 'limits'), plan.limits);
  log(`limits: ${JSON.stringify(limitsAfter)}`);
  const limits = bestLimits(limitsBefore, limitsAfter);

  const runPeaks: Report['runPeaks'] = {};
  for (const side of sides) {
    const usage = runMeters[side.name].map((m) => m.stop());
    if (usage.length === 0) continue;
    const peaks = usage.map((u) => round(u.peakRssMiB, 1));
    const when = usage.map((u) => markAt(u.peakRssAt));
    runPeaks[side.name] = { proxyMiB: peaks[0], nodesMiB: peaks.slice(1), proxyWhen: when[0], nodesWhen: when.slice(1) };
  }

  const rows = book.rows();
  const targets = evaluateTargets({
    rows,
    limits,
    replicas: REPLICAS,
    memory: memory.arca ? { concurrency: memory.concurrency, proxyPeakRssMiB: memory.arca.proxyPeakRssMiB, proxyStartRssMiB: memory.arca.proxyStartRssMiB, nodePeakRssMiB: memory.arca.nodePeakRssMiB, ops: memory.arca.ops, errors: memory.arca.errors } : undefined,
    nodeRunPeaksMiB: runPeaks.arca?.nodesMiB,
    nodeRunPeaksWhen: runPeaks.arca?.nodesWhen,
    bigListId: `list-${plan.bigList.keys}`,
    singlePutId: '64m-c1:put',
  });
  const report: Report = {
    bench: 'compare',
    date: new Date().toISOString(),
    commit,
    machine,
    quick: plan.quick,
    roundsPlanned: plan.rounds,
    roundsDone,
    durationSec: round(elapsed(), 0),
    replicas: REPLICAS,
    arca: { cluster: '1 proxy + 4 storage nodes, replica-3, fsync on, plain reads in node order (readAffinity), small node requests framed' },
    swift: swift ? { version: swiftStart.version, daemons: flags['swift-daemons'] } : { skipped: swiftStart.skipped },
    limits,
    limitRuns: [limitsBefore, limitsAfter],
    warmup: { arcaSettle: settle, sec: plan.warmup.sec, count: plan.warmup.count, passBaselineCpuMs, writes: { cycles: plan.warmup.writeCycles, count: plan.warmup.writeCount, sec: plan.warmup.writeSec } },
    idleCpuPct,
    idleCpuPctAfter,
    bigList: { keys: plan.bigList.keys, populate },
    rows,
    memory,
    runPeaks,
    targets,
  };
  process.stdout.write(renderText(report));
  if (flags.write) log(`wrote bench/RESULTS.md and ${writeResults(report)} charts in bench/charts/`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  log(`failed: ${(err as Error).stack ?? err}`);
} finally {
  log('stopping the servers');
  await stopAll();
}
process.exit(code);
