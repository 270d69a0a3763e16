/**
 * What `bench:compare` runs, full or quick: every step bounded by an op count and a time cap (whichever comes
 * first), so a slow server shortens a step instead of stretching the run.
 */
import type { LimitsPlan } from '../lib/limits.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** An op count and a time cap: a step stops at whichever comes first. */
export interface Bound {
  count: number;
  durationSec: number;
}

/** One object size at one concurrency: PUT, GET, HEAD, LIST and DELETE of the same objects, in that order. */
export interface GroupPlan {
  /** Short id used in step ids and file names: `4k-c16`. */
  id: string;
  /** `4KiB ×16`. */
  label: string;
  size: number;
  concurrency: number;
  bucket: string;
  put: Bound;
  get: Bound;
  head: Bound;
  /** The first page (up to 1,000 keys) of the group's objects. */
  list: Bound;
  /** Time cap of the DELETE, which deletes every object the PUT wrote. */
  deleteSec: number;
}

export interface Plan {
  quick: boolean;
  /** Rounds of alternation (Arca, Swift, Arca, Swift …); each figure is the median over them. */
  rounds: number;
  /** No new round starts once the run has taken this long (the rounds done still count). */
  budgetSec: number;
  groups: GroupPlan[];
  /** 70/30 GET/PUT over `keys` objects written before the rounds. */
  mixed: Bound & { size: number; concurrency: number; keys: number; bucket: string };
  /** The first 1,000 keys of a bucket with `keys` keys, one request at a time (latency target). */
  bigList: Bound & { keys: number; bucket: string; concurrency: number };
  /** One 64 MiB PUT at a time (the MD5-rate target), `count` per round. */
  singlePut: { size: number; count: number; bucket: string };
  /** `concurrency` 64 MiB PUTs at once, once per side after the rounds (the memory targets). */
  memory: { size: number; concurrency: number; bucket: string };
  /**
   * Before round 1, not measured: how long to wait at most for Arca's replication passes begun after the setup,
   * then a GET and a HEAD run over the mixed workload's objects on each side (`count` ops or `sec` seconds).
   */
  warmup: {
    settleMaxSec: number;
    count: number;
    sec: number;
    /**
     * Then, on each side, `writeCycles` times: PUT 4 KiB objects at ×16 and delete them, then the same at ×64
     * (each step `writeCount` ops or `writeSec` seconds), Arca's replication passes after each, as in the
     * rounds: V8 takes several such steps to settle its optimized code for the write path and the passes.
     */
    writeCycles: number;
    writeCount: number;
    writeSec: number;
    writeBucket: string;
  };
  limits: LimitsPlan;
  /** Per-request inactivity timeout. */
  timeoutMs: number;
}

export interface PlanOptions {
  quick: boolean;
  /** Keys of the big LIST bucket; default 1,000,000 (quick: 100,000). */
  keys?: number;
  rounds?: number;
  budgetMin?: number;
}

function group(size: number, sizeLabel: string, idSize: string, concurrency: number, b: Omit<GroupPlan, 'id' | 'label' | 'size' | 'concurrency' | 'bucket'>): GroupPlan {
  const id = `${idSize}-c${concurrency}`;
  return { id, label: `${sizeLabel} ×${concurrency}`, size, concurrency, bucket: `cmp-${id}`, ...b };
}

/** The plan of a full or quick run. */
export function makePlan(o: PlanOptions): Plan {
  const q = o.quick;
  const b = (count: number, durationSec: number, quickCount: number, quickSec: number): Bound =>
    q ? { count: quickCount, durationSec: quickSec } : { count, durationSec };
  const small = (c: number) =>
    group(4 * KiB, '4KiB', '4k', c, {
      put: b(3000, 8, 400, 3),
      get: b(6000, 6, 800, 2),
      head: b(6000, 6, 800, 2),
      list: b(600, 4, 100, 1.5),
      deleteSec: q ? 8 : 24,
    });
  const keys = o.keys ?? (q ? 100_000 : 1_000_000);
  if (!Number.isInteger(keys) || keys < 1) throw new Error('keys must be a positive integer');
  return {
    quick: q,
    rounds: o.rounds ?? (q ? 2 : 5),
    budgetSec: (o.budgetMin ?? (q ? 20 : 120)) * 60,
    groups: [
      small(16),
      small(64),
      group(MiB, '1MiB', '1m', 8, {
        put: b(400, 8, 60, 3),
        get: b(1000, 6, 120, 2),
        head: b(4000, 4, 400, 1.5),
        list: b(300, 3, 60, 1.5),
        deleteSec: q ? 8 : 20,
      }),
      group(64 * MiB, '64MiB', '64m', 2, {
        put: b(16, 12, 4, 5),
        get: b(32, 8, 6, 4),
        head: b(2000, 3, 200, 1),
        list: b(300, 3, 60, 1),
        deleteSec: q ? 8 : 15,
      }),
    ],
    mixed: { size: 4 * KiB, concurrency: 16, keys: q ? 300 : 1000, bucket: 'cmp-mixed', ...b(6000, 8, 800, 3) },
    bigList: { keys, bucket: `cmp-list-${keys}`, concurrency: 1, ...b(400, 8, 60, 3) },
    singlePut: { size: 64 * MiB, count: q ? 1 : 3, bucket: 'cmp-64m-c1' },
    memory: { size: 64 * MiB, concurrency: q ? 16 : 64, bucket: 'cmp-memory' },
    warmup: q
      ? { settleMaxSec: 60, count: 400, sec: 2, writeCycles: 1, writeCount: 400, writeSec: 2, writeBucket: 'cmp-warmup' }
      : { settleMaxSec: 300, count: 3000, sec: 5, writeCycles: 2, writeCount: 3000, writeSec: 8, writeBucket: 'cmp-warmup' },
    limits: q
      ? { loopbackMiB: 512, seqWriteMiB: 256, creates: 300, createsMaxSec: 3 }
      : { loopbackMiB: 2048, seqWriteMiB: 1024, creates: 1000, createsMaxSec: 8 },
    timeoutMs: 180_000,
  };
}
