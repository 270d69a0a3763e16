/**
 * The comparison's output: the report object (also the JSON line), its Markdown tables (printed, and written
 * to bench/RESULTS.md with --write) and one SVG chart per workload. Pure functions of the report.
 */
import type { MachineLimits } from '../lib/limits.js';
import type { CommitInfo, MachineInfo } from '../lib/machine.js';
import type { PopulateResult } from './populate.js';
import { type Figures, type Row, ratio, type SideName } from './summary.js';
import { ARCA_COLOR, type Panel, renderChart, SWIFT_COLOR } from './svg.js';
import { fmt, fmtRatio, type TargetResult, tally } from './targets.js';

/** One side's processes while many 64 MiB uploads run at once. */
export interface MemorySide {
  proxyPeakRssMiB: number;
  /** The proxy's RSS when the uploads began: what the earlier steps left (reports before 2026-12-03 20:00 have none). */
  proxyStartRssMiB?: number;
  /** Arca: each node; Swift: each object server (with its worker). */
  nodePeakRssMiB: number[];
  totalPeakRssMiB: number;
  totalPssMiB: number;
  mibPerSec: number;
  ops: number;
  errors: number;
}

export interface Report {
  bench: 'compare';
  date: string;
  commit: CommitInfo;
  machine: MachineInfo;
  quick: boolean;
  roundsPlanned: number;
  roundsDone: number;
  durationSec: number;
  replicas: number;
  arca: { cluster: string };
  /** Swift's version (and whether its replicators and updaters ran), or why it was skipped. */
  swift: { version?: string; daemons?: boolean; skipped?: string };
  /** The better of the two measurements below, per limit (load only ever lowers a limit's measurement). */
  limits?: MachineLimits;
  /** The limits measured before the rounds and after them. */
  limitRuns?: MachineLimits[];
  /**
   * Before round 1 (reports from before 2026-12-02 have none): how long Arca's replication passes begun after
   * the setup took to finish (`settled` false: still running when the wait gave up), then the unmeasured GET
   * and HEAD run on each side (`count` ops or `sec` seconds each); `passBaselineCpuMs`: the server CPU of a
   * replicator and listing-replicator pass of every Arca node with nothing to replicate (not charged to the
   * write steps after which the harness runs them).
   */
  warmup?: {
    arcaSettle: { seconds: number; settled: boolean };
    sec: number;
    count: number;
    passBaselineCpuMs?: number;
    /** The write warm-up after the reads (runs before 2026-12-03 23:00 had none): cycles, and each step's op count and time cap. */
    writes?: { cycles: number; count: number; sec: number };
  };
  /** CPU the idle servers used before the rounds (after the warm-up), % of one core. */
  idleCpuPct: Partial<Record<SideName, number>>;
  /** … and after them (Arca's background workers have more to walk then). */
  idleCpuPctAfter?: Partial<Record<SideName, number>>;
  bigList: { keys: number; populate: Partial<Record<SideName, PopulateResult>> };
  rows: Row[];
  memory: { concurrency: number; sizeMiB: number } & Partial<Record<SideName, MemorySide>>;
  /**
   * Peak RSS per process over the whole run (Arca: proxy and nodes; Swift: proxy and object servers), and the
   * step or phase each happened in (`…When`; reports from before 2026-12-01 evening have none).
   */
  runPeaks: Partial<Record<SideName, { proxyMiB: number; nodesMiB: number[]; proxyWhen?: string; nodesWhen?: string[] }>>;
  targets: TargetResult[];
}

const MIB_PER_GB = 1e9 / 1048576;
const OP_LABEL: Record<string, string> = { put: 'PUT', get: 'GET', head: 'HEAD', delete: 'DELETE', list: 'LIST', mixed: 'mixed' };

/** The machine limit a row's main figure can be read against, if one applies. */
export function limitOf(row: Row, limits: MachineLimits | undefined, replicas: number): { figure: 'opsPerSec' | 'mibPerSec'; value: number; name: string } | undefined {
  if (!limits) return undefined;
  if ((row.op === 'put' || row.op === 'delete') && row.size < 1048576) {
    return { figure: 'opsPerSec', value: limits.durableCreates.perSec / replicas, name: `durable creates/s ÷ ${replicas}` };
  }
  if (row.op === 'put') {
    const md5 = limits.md5GBps * MIB_PER_GB;
    const disk = limits.fsyncWriteMiBps / replicas;
    return md5 < disk ? { figure: 'mibPerSec', value: md5, name: 'MD5 MiB/s' } : { figure: 'mibPerSec', value: disk, name: `fsync'd MiB/s ÷ ${replicas}` };
  }
  if (row.op === 'get' && row.size >= 1048576) return { figure: 'mibPerSec', value: limits.loopbackMiBps, name: 'loopback MiB/s' };
  return undefined;
}

function pct(f: Figures | undefined, l: ReturnType<typeof limitOf>): string {
  if (!f || !l) return '–';
  return `${fmt((100 * f[l.figure]) / l.value)} %`;
}

const pair = (a: number | null | undefined, s: number | null | undefined, swift: boolean) => (swift ? `${fmt(a)} / ${fmt(s)}` : fmt(a));

function errorsCell(row: Row): string {
  const parts: string[] = [];
  if (row.arca?.errors) parts.push(`Arca ${row.arca.errors}`);
  if (row.swift?.errors) parts.push(`Swift ${row.swift.errors}`);
  return parts.length ? parts.join(', ') : '0';
}

/** The side-by-side table: one line per step, medians over rounds, ratios Arca/Swift. */
export function renderComparisonTable(report: Pick<Report, 'rows' | 'limits' | 'replicas'>): string {
  const swift = report.rows.some((r) => r.swift);
  const head = swift
    ? '| workload | op | ops/s Arca | ops/s Swift | × | MiB/s Arca | MiB/s Swift | × | p50 ms A / S | p99 ms A / S | CPU ms/op Arca | CPU ms/op Swift | × | of limit A / S | peak RSS MiB A / S | PSS MiB A / S | errors |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|'
    : '| workload | op | ops/s | MiB/s | p50 ms | p99 ms | CPU ms/op | of limit | peak RSS MiB | PSS MiB | errors |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|';
  const lines = [head];
  for (const r of report.rows) {
    const a = r.arca;
    const s = r.swift;
    const l = limitOf(r, report.limits, report.replicas);
    const limit = l ? (swift ? `${pct(a, l)} / ${pct(s, l)}` : pct(a, l)) : '–';
    if (swift) {
      lines.push(
        `| ${r.workload} | ${OP_LABEL[r.op] ?? r.op} | ${fmt(a?.opsPerSec)} | ${fmt(s?.opsPerSec)} | ${fmtRatio(ratio(a?.opsPerSec, s?.opsPerSec))} | ` +
          `${fmt(a?.mibPerSec)} | ${fmt(s?.mibPerSec)} | ${r.size > 0 && r.op !== 'head' && r.op !== 'delete' && r.op !== 'list' ? fmtRatio(ratio(a?.mibPerSec, s?.mibPerSec)) : '–'} | ` +
          `${pair(a?.p50Ms, s?.p50Ms, true)} | ${pair(a?.p99Ms, s?.p99Ms, true)} | ${fmt(a?.cpuMsPerOp)} | ${fmt(s?.cpuMsPerOp)} | ${fmtRatio(ratio(a?.cpuMsPerOp, s?.cpuMsPerOp))} | ` +
          `${limit} | ${pair(a?.peakRssMiB, s?.peakRssMiB, true)} | ${pair(a?.pssMiB, s?.pssMiB, true)} | ${errorsCell(r)} |`,
      );
    } else {
      lines.push(
        `| ${r.workload} | ${OP_LABEL[r.op] ?? r.op} | ${fmt(a?.opsPerSec)} | ${fmt(a?.mibPerSec)} | ${fmt(a?.p50Ms)} | ${fmt(a?.p99Ms)} | ${fmt(a?.cpuMsPerOp)} | ${limit} | ${fmt(a?.peakRssMiB)} | ${fmt(a?.pssMiB)} | ${errorsCell(r)} |`,
      );
    }
  }
  return lines.join('\n');
}

export function renderTargetsTable(targets: readonly TargetResult[]): string {
  const lines = ['| target | measured | needed | verdict |', '|---|---|--:|---|'];
  for (const t of targets) lines.push(`| ${t.target} | ${t.measured} | ${t.needed} | ${t.verdict === 'met' ? '**met**' : t.verdict} |`);
  return lines.join('\n');
}

export function renderLimitsTable(limits: MachineLimits | undefined, replicas: number, runs: readonly MachineLimits[] = []): string {
  if (!limits) return '(not measured)';
  const md5 = limits.md5GBps * MIB_PER_GB;
  const d = limits.durableCreates;
  const seen = (pick: (l: MachineLimits) => number) => (runs.length > 1 ? runs.map((r) => fmt(pick(r))).join(' / ') : '–');
  return [
    '| limit | value (the better run) | before / after the rounds | reads as |',
    '|---|--:|--:|---|',
    `| loopback TCP, one connection to another process | ${fmt(limits.loopbackMiBps)} MiB/s | ${seen((l) => l.loopbackMiBps)} | ceiling of a large GET (one hop; a GET crosses two) |`,
    `| fsync'd sequential write, data disk | ${fmt(limits.fsyncWriteMiBps)} MiB/s | ${seen((l) => l.fsyncWriteMiBps)} | ÷ ${replicas} replicas = ${fmt(limits.fsyncWriteMiBps / replicas)} MiB/s of PUT payload |`,
    `| durable 4 KiB creates, serial (tmp, write, fdatasync, rename, fsync dir) | ${fmt(d.perSec)}/s (p50 ${fmt(d.p50Ms)} ms, p99 ${fmt(d.p99Ms)} ms) | ${seen((l) => l.durableCreates.perSec)} | ÷ ${replicas} = ${fmt(d.perSec / replicas)} small PUT/s without batching fsyncs |`,
    `| MD5, one core | ${fmt(limits.md5GBps)} GB/s = ${fmt(md5)} MiB/s | ${seen((l) => l.md5GBps)} | ceiling of one PUT stream that computes the ETag |`,
    `| SHA-256, one core | ${fmt(limits.sha256GBps)} GB/s | ${seen((l) => l.sha256GBps)} | cost of verifying a signed payload |`,
  ].join('\n');
}

export function renderMemoryTable(report: Pick<Report, 'memory' | 'runPeaks'>): string {
  const m = report.memory;
  const lines = [
    `${m.concurrency} concurrent ${m.sizeMiB} MiB PUTs, once per side:`,
    '',
    '| side | proxy peak RSS MiB | node peak RSS MiB (each) | all processes: peak RSS / PSS MiB | MiB/s | errors |',
    '|---|--:|---|--:|--:|--:|',
  ];
  for (const [side, name, nodes] of [
    ['arca', 'Arca', 'nodes'],
    ['swift', 'Swift', 'object servers'],
  ] as const) {
    const s = m[side];
    if (!s) continue;
    lines.push(
      `| ${name} | ${fmt(s.proxyPeakRssMiB)}${s.proxyStartRssMiB === undefined ? '' : ` (${fmt(s.proxyStartRssMiB)} at the start)`} | ${nodes}: ${s.nodePeakRssMiB.map(fmt).join(', ')} | ${fmt(s.totalPeakRssMiB)} / ${fmt(s.totalPssMiB)} | ${fmt(s.mibPerSec)} | ${s.errors} |`,
    );
  }
  const peaks = report.runPeaks;
  if (peaks.arca || peaks.swift) {
    lines.push('', 'Peak RSS per process over the whole run:', '');
    const at = (when: string | undefined) => (when ? ` (${when})` : '');
    const list = (mib: number[], when: string[] | undefined) => mib.map((v, i) => `${fmt(v)}${at(when?.[i])}`).join(', ');
    if (peaks.arca) lines.push(`- Arca: proxy ${fmt(peaks.arca.proxyMiB)} MiB${at(peaks.arca.proxyWhen)}; nodes ${list(peaks.arca.nodesMiB, peaks.arca.nodesWhen)} MiB`);
    if (peaks.swift) lines.push(`- Swift: proxy (with its worker) ${fmt(peaks.swift.proxyMiB)} MiB${at(peaks.swift.proxyWhen)}; object servers ${list(peaks.swift.nodesMiB, peaks.swift.nodesWhen)} MiB`);
  }
  return lines.join('\n');
}

/** Console summary: everything the Markdown report has except the prose. */
export function renderText(report: Report): string {
  const t = tally(report.targets);
  return [
    `Arca vs Swift — ${report.quick ? 'quick' : 'full'} run, ${report.roundsDone} of ${report.roundsPlanned} rounds, ${fmt(report.durationSec / 60)} min, commit ${report.commit.commit.slice(0, 12)}${report.commit.dirty ? ' (+ uncommitted changes)' : ''}`,
    report.swift.skipped ? `Swift skipped: ${report.swift.skipped}` : (report.swift.version ?? 'Swift'),
    '',
    renderComparisonTable(report),
    '',
    renderMemoryTable(report),
    '',
    renderLimitsTable(report.limits, report.replicas, report.limitRuns),
    '',
    `Targets: ${t.met} met, ${t.missed} missed, ${t['n/a']} n/a`,
    renderTargetsTable(report.targets),
    '',
  ].join('\n');
}

/** A side's name as the report writes it. */
export function sideLabel(side: SideName): string {
  return side === 'arca' ? 'Arca' : 'Swift';
}

/** What ran before round 1, unmeasured (Report.warmup). */
function warmupLine(w: NonNullable<Report['warmup']>): string {
  const passes = "the replication passes begun after the setup writes (a node that starts compares every partition with its peers)";
  const settle = w.arcaSettle.settled ? `Arca's nodes finished ${passes} in ${fmt(w.arcaSettle.seconds)} s` : `Arca's nodes were still running ${passes} when the wait gave up after ${fmt(w.arcaSettle.seconds)} s`;
  const writes = w.writes
    ? `; then ${w.writes.cycles === 1 ? 'once' : w.writes.cycles === 2 ? 'twice' : `${fmt(w.writes.cycles)} times`} up to ${fmt(w.writes.count)} PUTs of 4 KiB at ×16 and their DELETEs, then the same at ×64 (${fmt(w.writes.sec)} s per PUT step at most), with Arca's replication passes after each, so that the first rounds do not measure V8 compiling Arca's write path`
    : '';
  return `- **Before round 1**, not measured: ${settle}; then each side served up to ${fmt(w.count)} GETs and as many HEADs (${fmt(w.sec)} s each at most), so that round 1 does not measure V8 compiling Arca's read path${writes}.`;
}

/**
 * The replication passes Arca's nodes ran after each write step (Figures.passCpuMsPerOp); empty for runs made
 * before the harness ran them.
 */
function replicationLine(rows: readonly Row[], baselineCpuMs: number | undefined): string {
  const charged = rows.filter((r) => r.arca?.passCpuMsPerOp != null);
  if (charged.length === 0) return '';
  const each = charged.map((r) => `${r.workload} ${r.op} ${fmt(r.arca!.passCpuMsPerOp!)} of ${fmt(r.arca!.cpuMsPerOp ?? 0)}`).join(', ');
  return `- **After each write step** (PUT, DELETE, mixed, and the unmeasured clean-ups) Arca's nodes ran a replicator and a listing-replicator pass at once (\`POST /recon/run\`) and the harness waited for their write journals' checkpoints before the next step, so that the replication and the write-back of what a step wrote are not measured in the step after it. Their CPU beyond what the same passes cost with nothing to replicate (${fmt(baselineCpuMs ?? 0)} CPU-ms, measured before round 1; the nodes' own passes spend that every 15 s, and it is in every step's figure already) is counted in the write step's CPU-ms/op (median CPU-ms per op of those passes, of the step's figure: ${each}). The Swift peer runs no replicators.\n`;
}

/** How long Arca's listing replicators took to pass a fill's rows on, before the rounds began. */
function settledText(p: PopulateResult): string {
  if (!p.replication) return '';
  const restarted = p.restarted ? '; then Arca was restarted' : '';
  return p.replication.settled
    ? `, then ${fmt(p.replication.seconds)} s until its listing replicators had passed them on${restarted}`
    : `; its listing replicators were still passing them on after ${fmt(p.replication.seconds)} s${p.restarted ? ', when Arca was restarted' : ', when the rounds began'}`;
}

/** How the machine's measured limits moved between before and after the rounds (empty without both runs). */
function drift(runs: readonly MachineLimits[] | undefined): string {
  if (!runs || runs.length < 2) return '';
  const [a, b] = [runs[0], runs[runs.length - 1]];
  return ` and its speed moves: loopback ${fmt(a.loopbackMiBps)} → ${fmt(b.loopbackMiBps)} MiB/s, fsync'd writes ${fmt(a.fsyncWriteMiBps)} → ${fmt(b.fsyncWriteMiBps)} MiB/s, durable creates ${fmt(a.durableCreates.perSec)} → ${fmt(b.durableCreates.perSec)}/s before and after the rounds of this run`;
}

/**
 * bench/RESULTS.md. `charts` are paths relative to bench/; `notes` (Markdown, bench/compare/NOTES.md) is the
 * hand-written reading of the misses, kept apart so the page itself stays generated.
 */
export function renderResultsMd(report: Report, charts: readonly string[], notes?: string): string {
  const m = report.machine;
  const t = tally(report.targets);
  const idleOf = (x: Partial<Record<SideName, number>>) =>
    Object.entries(x)
      .map(([s, v]) => `${sideLabel(s as SideName)} ${fmt(v)} %`)
      .join(', ');
  const idle = `${idleOf(report.idleCpuPct) || '–'} of a core before the rounds${report.idleCpuPctAfter ? `, ${idleOf(report.idleCpuPctAfter)} after them` : ''}`;
  const daemons = report.swift.daemons ? 'with its replicators and updaters (--swift-daemons)' : 'without background daemons';
  const populate = Object.entries(report.bigList.populate)
    .map(([s, p]) => `${sideLabel(s as SideName)} ${p.replicas.map(fmt).join(' / ')} rows per replica${p.inserted ? ` (${fmt(p.inserted)} merged now, ${fmt(p.seconds)} s${settledText(p)})` : ' (already there)'}`)
    .join('; ');
  return `# Arca vs OpenStack Swift: measured side by side

Generated by \`npm run bench:compare -- --write${report.quick ? ' --quick' : ''}\` (bench/compare/, docs/benchmarks.md). Do not edit by hand.

- **Date:** ${report.date}
- **Commit:** \`${report.commit.commit}\`${report.commit.dirty ? ' (the checkout also had uncommitted changes to src/, storage-nodes/ or ring/)' : ''}
- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load average at the start ${m.loadAvg.join(' / ')}
- **Run:** ${report.quick ? 'quick' : 'full'}, ${report.roundsDone} rounds (of ${report.roundsPlanned} planned) alternating Arca and Swift step by step, ${fmt(report.durationSec / 60)} min in all. Each figure is the median over the rounds.
- **Arca:** \`arca cluster\`, ${report.arca.cluster}. **Swift:** ${report.swift.skipped ? `skipped (${report.swift.skipped})` : `${report.swift.version ?? '2.30'} from Debian's packages via the shared peer's start.sh: 1 proxy, 4 × (object, container, account server), each with 1 worker, memcached, ${daemons}; replica-3 on 4 devices; s3api + tempauth`}. Both on the same disk and the same 2 cores, with the same load generator (bench/load, SigV4, \`UNSIGNED-PAYLOAD\`).
${report.warmup ? `${warmupLine(report.warmup)}\n` : ''}- **Idle servers** used ${idle} (Arca's nodes always run their replicators, auditor and updater${report.swift.daemons ? '; so did Swift' : '; the Swift peer ran none'}). That CPU is counted in every CPU-ms/op figure of its side.
${replicationLine(report.rows, report.warmup?.passBaselineCpuMs)}
**The machine is shared**${drift(report.limitRuns)}, so absolute numbers drift from run to run (by ±25 % or more). The ratios come from steps that ran back to back, alternating, on the same machine: read the ratios, not the absolute figures.

## Targets: ${t.met} met, ${t.missed} missed${t['n/a'] ? `, ${t['n/a']} n/a` : ''}

${renderTargetsTable(report.targets)}
${notes ? `\n${notes.trim()}\n` : ''}
## Side by side

Ratios (×) are Arca ÷ Swift: above 1 is better for ops/s and MiB/s, below 1 is better for CPU. "of limit" reads a figure
against the machine limit below that applies to it (small PUT/DELETE: durable creates/s ÷ ${report.replicas}; large PUT: the lower of MD5 and fsync'd
MiB/s ÷ ${report.replicas}; large GET: loopback MiB/s). CPU is every server process of that side (all threads) per successful op, from /proc;
RSS is the highest sum over the side's processes during the step, PSS (shared pages of Swift's forked workers counted once) at its end.
LIST of the ${fmt(report.bigList.keys)}-key bucket: ${populate || '–'}.

${renderComparisonTable(report)}

## Memory

${renderMemoryTable(report)}

## Machine limits, measured in the same run

${renderLimitsTable(report.limits, report.replicas, report.limitRuns)}

## Charts

${charts.map((c) => `![${c}](${c})`).join('\n')}
`;
}

function bars(rows: readonly Row[], cats: readonly string[], pick: (f: Figures) => number | null): [Array<number | null>, Array<number | null>] {
  return [cats.map((_, i) => (rows[i]?.arca ? pick(rows[i].arca!) : null)), cats.map((_, i) => (rows[i]?.swift ? pick(rows[i].swift!) : null))];
}

function twoSeries(a: Array<number | null>, s: Array<number | null>) {
  return [
    { name: 'Arca', color: ARCA_COLOR, values: a },
    { name: 'Swift 2.30', color: SWIFT_COLOR, values: s },
  ];
}

const notes = (a: Array<number | null>, s: Array<number | null>) => a.map((x, i) => fmtRatio(ratio(x, s[i])));

/** One chart per workload: file name (under bench/charts/) → SVG. */
export function renderCharts(report: Report): Array<{ file: string; svg: string }> {
  const out: Array<{ file: string; svg: string }> = [];
  const subtitle = `${report.date.slice(0, 10)} · ${report.commit.commit.slice(0, 10)} · median of ${report.roundsDone} rounds · ratio = Arca ÷ Swift`;
  const groups = new Map<string, Row[]>();
  for (const r of report.rows) {
    const g = r.id.includes(':') ? r.id.split(':')[0] : r.id;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  for (const [g, rows] of groups) {
    const cats = rows.map((r) => OP_LABEL[r.op] ?? r.op);
    const big = rows[0].size >= 1048576;
    const panels: Panel[] = [];
    const [oa, os] = bars(rows, cats, (f) => f.opsPerSec);
    panels.push({ title: 'throughput', unit: 'ops/s', categories: cats, series: twoSeries(oa, os), notes: notes(oa, os) });
    if (big) {
      const moved = rows.filter((r) => r.op === 'put' || r.op === 'get');
      const mc = moved.map((r) => OP_LABEL[r.op]);
      const [ma, ms] = bars(moved, mc, (f) => f.mibPerSec);
      panels.push({ title: 'payload moved', unit: 'MiB/s', categories: mc, series: twoSeries(ma, ms), notes: notes(ma, ms) });
    }
    if (g.startsWith('list-')) {
      const a = rows[0].arca;
      const s = rows[0].swift;
      panels.push({
        title: 'latency',
        unit: 'ms',
        categories: ['p50', 'p99'],
        series: twoSeries([a?.p50Ms ?? null, a?.p99Ms ?? null], [s?.p50Ms ?? null, s?.p99Ms ?? null]),
        lines: [{ value: 50, label: 'target: p99 < 50 ms' }],
      });
    }
    const [ca, cs] = bars(rows, cats, (f) => f.cpuMsPerOp);
    panels.push({ title: 'server CPU per op', unit: 'ms', categories: cats, series: twoSeries(ca, cs), notes: notes(ca, cs) });
    out.push({ file: `${g}.svg`, svg: renderChart({ title: `${rows[0].workload}`, subtitle, panels }) });
  }
  const m = report.memory;
  if (m.arca || m.swift) {
    const perProcess = (x: MemorySide | undefined) => (x ? [x.proxyPeakRssMiB, Math.max(0, ...x.nodePeakRssMiB)] : [null, null]);
    const all = (x: MemorySide | undefined) => (x ? [x.totalPeakRssMiB, x.totalPssMiB] : [null, null]);
    out.push({
      file: 'memory.svg',
      svg: renderChart({
        title: `${m.concurrency} concurrent ${m.sizeMiB} MiB PUTs: memory`,
        subtitle: `${report.date.slice(0, 10)} · ${report.commit.commit.slice(0, 10)} · once per side · Swift's nodes: object servers`,
        panels: [
          {
            title: 'peak RSS of one process',
            unit: 'MiB',
            categories: ['proxy', 'largest node'],
            series: twoSeries(perProcess(m.arca), perProcess(m.swift)),
            lines: [
              { value: 200, label: 'proxy < 200' },
              { value: 150, label: 'node < 150', color: '#805ad5' },
            ],
          },
          { title: 'all server processes', unit: 'MiB', categories: ['peak RSS', 'PSS'], series: twoSeries(all(m.arca), all(m.swift)) },
        ],
      }),
    });
  }
  return out;
}
