/**
 * From many LoadResults to one row per step: each figure is the median of its rounds on one side, and the
 * ratio of two figures is Arca's over Swift's (so > 1 means Arca is higher: better for ops/s and MiB/s, worse
 * for latency, CPU and memory).
 */
import type { LoadResult } from '../load/run.js';
import { round } from '../lib/stats.js';

export type SideName = 'arca' | 'swift';
export const SIDES: readonly SideName[] = ['arca', 'swift'];

/** The figures of one step on one side (one round, or the median of several). */
export interface Figures {
  /** Successful ops. */
  ops: number;
  /** Failed ops (summed over rounds in a median). */
  errors: number;
  opsPerSec: number;
  mibPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Server CPU (every process of that side, all threads) per successful op. */
  cpuMsPerOp: number | null;
  /**
   * Of `cpuMsPerOp`: the replication passes Arca's nodes ran after the step, before the next one (write steps
   * only; bench:compare's `replicateWrites`).
   */
  passCpuMsPerOp?: number | null;
  /** Highest sum of the side's processes' RSS during the step. */
  peakRssMiB: number | null;
  /** Sum of the side's processes' Pss at the end of the step (forked workers' shared pages counted once). */
  pssMiB: number | null;
}

export const FIGURE_KEYS = ['opsPerSec', 'mibPerSec', 'p50Ms', 'p99Ms', 'cpuMsPerOp', 'peakRssMiB', 'pssMiB'] as const;
export type FigureKey = (typeof FIGURE_KEYS)[number];

export function figuresOf(r: LoadResult, passCpuMsPerOp?: number): Figures {
  return {
    ...(passCpuMsPerOp !== undefined ? { passCpuMsPerOp: round(passCpuMsPerOp, 3) } : {}),
    ops: r.ops,
    errors: Object.values(r.errors).reduce((s, n) => s + n, 0),
    opsPerSec: r.opsPerSec,
    mibPerSec: r.mibPerSec,
    p50Ms: r.latencyMs.p50,
    p99Ms: r.latencyMs.p99,
    cpuMsPerOp: r.serverCpuMsPerOp ?? null,
    peakRssMiB: r.serverPeakRssMiB ?? null,
    pssMiB: r.serverPssMiB ?? null,
  };
}

/** Median of the numbers (mean of the middle two for an even count); null when there are none. */
export function median(values: ReadonlyArray<number | null | undefined>): number | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Per-figure medians of several rounds; ops and errors are summed. Undefined for no rounds. */
export function medianFigures(rounds: readonly Figures[]): Figures | undefined {
  if (rounds.length === 0) return undefined;
  const m = (k: FigureKey) => {
    const v = median(rounds.map((r) => r[k]));
    return v === null ? null : round(v, 3);
  };
  const passes = rounds.some((r) => r.passCpuMsPerOp != null) ? median(rounds.map((r) => r.passCpuMsPerOp)) : null;
  return {
    ...(passes !== null ? { passCpuMsPerOp: round(passes, 3) } : {}),
    ops: rounds.reduce((s, r) => s + r.ops, 0),
    errors: rounds.reduce((s, r) => s + r.errors, 0),
    opsPerSec: m('opsPerSec') ?? 0,
    mibPerSec: m('mibPerSec') ?? 0,
    p50Ms: m('p50Ms'),
    p99Ms: m('p99Ms'),
    cpuMsPerOp: m('cpuMsPerOp'),
    peakRssMiB: m('peakRssMiB'),
    pssMiB: m('pssMiB'),
  };
}

/** a / b; null when either is missing or b is 0 (a ratio to nothing says nothing). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** One step of the comparison, both sides' medians. */
export interface Row {
  /** `4k-c16:put`, `mixed`, `list-1000000`, `64m-c1:put`. */
  id: string;
  /** Workload label: `4KiB ×16`, `mixed 70/30 4KiB ×16`, … */
  workload: string;
  /** `put`, `get`, `head`, `delete`, `list`, `mixed`. */
  op: string;
  size: number;
  concurrency: number;
  /** Rounds measured per side. */
  rounds: Partial<Record<SideName, number>>;
  arca?: Figures;
  swift?: Figures;
  /** The first failure seen per side, for diagnosis. */
  firstError?: Partial<Record<SideName, string>>;
}

/** Collects rounds per step and side, then summarises them into rows in the order steps were first seen. */
export class RoundBook {
  readonly #steps = new Map<string, { meta: Omit<Row, 'rounds' | 'arca' | 'swift' | 'firstError'>; results: Record<SideName, Figures[]>; firstError: Partial<Record<SideName, string>> }>();

  add(meta: Omit<Row, 'rounds' | 'arca' | 'swift' | 'firstError'>, side: SideName, r: LoadResult, passCpuMsPerOp?: number): void {
    let s = this.#steps.get(meta.id);
    if (!s) this.#steps.set(meta.id, (s = { meta, results: { arca: [], swift: [] }, firstError: {} }));
    s.results[side].push(figuresOf(r, passCpuMsPerOp));
    if (r.firstError !== undefined) s.firstError[side] ??= r.firstError;
  }

  rows(): Row[] {
    return [...this.#steps.values()].map(({ meta, results, firstError }) => {
      const row: Row = { ...meta, rounds: {} };
      for (const side of SIDES) {
        const m = medianFigures(results[side]);
        if (!m) continue;
        row[side] = m;
        row.rounds[side] = results[side].length;
      }
      if (Object.keys(firstError).length > 0) row.firstError = firstError;
      return row;
    });
  }
}
