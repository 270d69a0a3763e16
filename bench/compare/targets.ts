/**
 * The targets of issue 7, evaluated on one run's rows: each says met or missed with the numbers that decided
 * it, or n/a when the run lacks what it needs (no Swift, a skipped step).
 */
import type { MachineLimits } from '../lib/limits.js';
import { type Row, ratio } from './summary.js';

export type Verdict = 'met' | 'missed' | 'n/a';

export interface TargetResult {
  id: string;
  /** What is asked, in words: `GET 4KiB ×16 ops/s ≥ 10× Swift`. */
  target: string;
  /** Arca's figure and, where it matters, Swift's and the ratio. */
  measured: string;
  /** The threshold in the figure's unit. */
  needed: string;
  verdict: Verdict;
}

/** Peak RSS of Arca's processes while `concurrency` 64 MiB uploads run at once. */
export interface MemoryPeaks {
  concurrency: number;
  proxyPeakRssMiB: number;
  /** The proxy's RSS when the uploads began (what the earlier steps left), when the report has it. */
  proxyStartRssMiB?: number;
  nodePeakRssMiB: number[];
  ops: number;
  errors: number;
}

export interface TargetInputs {
  rows: readonly Row[];
  limits?: MachineLimits;
  /** Replicas per object (the durable-create rate is divided by it). */
  replicas: number;
  memory?: MemoryPeaks;
  /** Arca's node processes' peak RSS over the whole run, MiB, and the step each happened in. */
  nodeRunPeaksMiB?: number[];
  nodeRunPeaksWhen?: string[];
  /** Row ids of the big-bucket LIST and the single 64 MiB PUT. */
  bigListId: string;
  singlePutId: string;
}

const MIB_PER_GB = 1e9 / 1048576;

/** 1234.5 → `1,235`; 12.34 → `12.3`; 0.1234 → `0.123`. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** 2.41 → `2.4×`; null → `–`. */
export function fmtRatio(r: number | null): string {
  if (r === null) return '–';
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}×`;
}

const na = (id: string, target: string, why: string): TargetResult => ({ id, target, measured: why, needed: '–', verdict: 'n/a' });

function verdict(ok: boolean): Verdict {
  return ok ? 'met' : 'missed';
}

type FigureName = 'opsPerSec' | 'mibPerSec' | 'cpuMsPerOp';
const UNIT: Record<FigureName, string> = { opsPerSec: 'ops/s', mibPerSec: 'MiB/s', cpuMsPerOp: 'CPU-ms/op' };

/** Arca's figure against `factor` × Swift's (at least, or at most). */
function versusSwift(id: string, target: string, row: Row | undefined, figure: FigureName, factor: number, atMost: boolean): TargetResult {
  const a = row?.arca?.[figure];
  const s = row?.swift?.[figure];
  if (a === null || a === undefined) return na(id, target, 'not measured');
  if (s === null || s === undefined) return na(id, target, `${fmt(a)} ${UNIT[figure]}; no Swift figure`);
  const need = s * factor;
  return {
    id,
    target,
    measured: `${fmt(a)} vs Swift ${fmt(s)} ${UNIT[figure]} = ${fmtRatio(ratio(a, s))}`,
    needed: `${atMost ? '≤' : '≥'} ${fmt(need)}`,
    verdict: verdict(atMost ? a <= need : a >= need),
  };
}

function byId(rows: readonly Row[]): Map<string, Row> {
  return new Map(rows.map((r) => [r.id, r]));
}

const OP_LABEL: Record<string, string> = { put: 'PUT', get: 'GET', head: 'HEAD', delete: 'DELETE', list: 'LIST' };

/** Every target, in the issue's order. */
export function evaluateTargets(i: TargetInputs): TargetResult[] {
  const rows = byId(i.rows);
  const out: TargetResult[] = [];
  const small = i.rows.filter((r) => r.size === 4096 && r.op in OP_LABEL).map((r) => r.id.split(':')[0]);
  const smallGroups = [...new Set(small)];
  const label = (g: string) => rows.get(`${g}:put`)?.workload ?? rows.get(`${g}:get`)?.workload ?? g;

  for (const g of smallGroups) {
    for (const op of ['get', 'head'] as const) {
      out.push(versusSwift(`${g}:${op}:10x`, `${OP_LABEL[op]} ${label(g)} ops/s ≥ 10× Swift`, rows.get(`${g}:${op}`), 'opsPerSec', 10, false));
    }
    for (const op of ['put', 'delete'] as const) {
      out.push(versusSwift(`${g}:${op}:5x`, `${OP_LABEL[op]} ${label(g)} ops/s ≥ 5× Swift`, rows.get(`${g}:${op}`), 'opsPerSec', 5, false));
      const id = `${g}:${op}:disk`;
      const target = `${OP_LABEL[op]} ${label(g)} ops/s ≥ 80 % of durable creates/s ÷ ${i.replicas}`;
      const a = rows.get(`${g}:${op}`)?.arca?.opsPerSec;
      if (a === undefined) out.push(na(id, target, 'not measured'));
      else if (!i.limits) out.push(na(id, target, `${fmt(a)} ops/s; limits not measured`));
      else {
        const disk = i.limits.durableCreates.perSec / i.replicas;
        out.push({
          id,
          target,
          measured: `${fmt(a)} ops/s = ${fmt((100 * a) / disk)} % of ${fmt(disk)}`,
          needed: `≥ ${fmt(0.8 * disk)}`,
          verdict: verdict(a >= 0.8 * disk),
        });
      }
    }
    for (const op of ['put', 'get', 'head', 'delete'] as const) {
      out.push(versusSwift(`${g}:${op}:cpu`, `${OP_LABEL[op]} ${label(g)} server CPU/op ≤ 1/10 of Swift's`, rows.get(`${g}:${op}`), 'cpuMsPerOp', 0.1, true));
    }
  }

  const large = [...new Set(i.rows.filter((r) => r.size >= 1048576 && r.op in OP_LABEL && r.id !== i.singlePutId).map((r) => r.id.split(':')[0]))];
  for (const g of large) {
    for (const op of ['put', 'get'] as const) {
      out.push(versusSwift(`${g}:${op}:3x`, `${OP_LABEL[op]} ${label(g)} MiB/s ≥ 3× Swift`, rows.get(`${g}:${op}`), 'mibPerSec', 3, false));
    }
  }

  {
    const id = 'single-64m-put';
    const target = 'one 64 MiB PUT at a time ≥ 70 % of the MD5 rate (when the disk allows)';
    const a = rows.get(i.singlePutId)?.arca?.mibPerSec;
    if (a === undefined) out.push(na(id, target, 'not measured'));
    else if (!i.limits) out.push(na(id, target, `${fmt(a)} MiB/s; limits not measured`));
    else {
      const md5 = i.limits.md5GBps * MIB_PER_GB;
      const disk = i.limits.fsyncWriteMiBps / i.replicas;
      const bound = Math.min(md5, disk);
      const which = md5 <= disk ? `MD5 ${fmt(md5)} MiB/s` : `disk ${fmt(disk)} MiB/s (fsync'd writes ÷ ${i.replicas}, below MD5 ${fmt(md5)})`;
      out.push({ id, target, measured: `${fmt(a)} MiB/s = ${fmt((100 * a) / bound)} % of ${which}`, needed: `≥ ${fmt(0.7 * bound)}`, verdict: verdict(a >= 0.7 * bound) });
    }
  }

  {
    const id = 'memory-proxy';
    const m = i.memory;
    const target = `proxy RSS < 200 MiB with ${m?.concurrency ?? 64} concurrent 64 MiB uploads`;
    if (!m) out.push(na(id, target, 'not measured'));
    else out.push({ id, target, measured: `peak ${fmt(m.proxyPeakRssMiB)} MiB${m.proxyStartRssMiB === undefined ? '' : ` (${fmt(m.proxyStartRssMiB)} when the uploads began)`}`, needed: '< 200', verdict: verdict(m.proxyPeakRssMiB < 200) });
  }
  {
    const id = 'memory-nodes';
    const target = 'each storage node RSS < 150 MiB (whole run, uploads included)';
    const peaks = [...(i.memory?.nodePeakRssMiB ?? []), ...(i.nodeRunPeaksMiB ?? [])];
    if (peaks.length === 0) out.push(na(id, target, 'not measured'));
    else {
      const max = Math.max(...peaks);
      // The whole-run meters cover the uploads too: the highest peak is a run peak, with its step, when noted.
      const when = i.nodeRunPeaksWhen?.[(i.nodeRunPeaksMiB ?? []).indexOf(max)];
      out.push({ id, target, measured: `highest node peak ${fmt(max)} MiB${when ? ` (${when})` : ''}`, needed: '< 150', verdict: verdict(max < 150) });
    }
  }
  {
    const id = 'list-big';
    const row = rows.get(i.bigListId);
    const target = `LIST first 1,000 keys of a ${fmt(keysOf(i.bigListId))}-key bucket: p99 < 50 ms`;
    const p99 = row?.arca?.p99Ms;
    if (p99 === null || p99 === undefined) out.push(na(id, target, 'not measured'));
    else {
      const s = row?.swift?.p99Ms;
      out.push({
        id,
        target,
        measured: `p99 ${fmt(p99)} ms${s !== null && s !== undefined ? ` (Swift ${fmt(s)} ms)` : ''}`,
        needed: '< 50',
        verdict: verdict(p99 < 50),
      });
    }
  }
  return out;
}

/** `list-1000000` → 1000000. */
function keysOf(id: string): number {
  return Number(/(\d+)$/.exec(id)?.[1] ?? Number.NaN);
}

/** Counts of each verdict. */
export function tally(results: readonly TargetResult[]): Record<Verdict, number> {
  const t: Record<Verdict, number> = { met: 0, missed: 0, 'n/a': 0 };
  for (const r of results) t[r.verdict]++;
  return t;
}
