/**
 * One rebalance, as a pure function of the builder's state and the time. Passes:
 *
 * 1. Per partition: a first build places every replica; a partition whose replicas are not dispersed (see
 *    tiers.ts) gives up the one replica whose move helps most. A freed replica walks down the tree to the
 *    neediest node that keeps its partition dispersed.
 * 2. Balance (balance.ts), level by level from regions to devices: within each parent, replicas move from
 *    children over their target to children under it, each move taken from an over-full device and given to
 *    an under-full one where dispersion allows, which keeps the total near the minimum. Replicas that must
 *    leave removed devices go in a first round of their own, so they get the pick of destinations; replicas
 *    on zero-weight devices (target 0) drain in the normal round.
 * 3. Anything still on a removed device is walked down the tree like in pass 1, and pass 2 runs again.
 *
 * Throughout, a partition moved within `minPartHours` keeps its replicas (unless forced off a removed
 * device), and at most one replica of a partition moves per rebalance: while one replica is in flight the
 * other copies still serve it. `minimumMoves` (lower-bound.ts) is computed before anything moves.
 */
import type { Device } from './device.js';
import { balance } from './balance.js';
import { RingError } from './errors.js';
import { lowerBound } from './lower-bound.js';
import { Placement } from './placement.js';
import { buildTierTree, LEVELS, type TierTree } from './tiers.js';

/** What a rebalance starts from. Nothing here is modified. */
export interface RebalanceInput {
  partPower: number;
  replicas: number;
  seed: number;
  devices: ReadonlyArray<Device | null>;
  /** Ids marked for removal: their replicas move now, whatever minPartHours says. */
  removing: ReadonlySet<number>;
  /** Flat table `slot = replica × partitions + partition` → device id (-1 unassigned), or null for a first build. */
  assign: Int32Array | null;
  /** Per partition, the hour it last moved; null for a first build. */
  lastMoved: Int32Array | null;
  minPartHours: number;
  nowHours: number;
  /**
   * When set, the rebalance moves at most `minimumMoves × (1 + maxExtra)` partition-replicas (rounded down;
   * moves forced by removals and dispersion are always made): if reaching every target would take more, it
   * stops short and a later rebalance finishes. The builder sets 0.05 right after a device change.
   */
  maxExtra?: number;
}

/** What a rebalance produced. */
export interface RebalanceOutcome {
  assign: Int32Array;
  lastMoved: Int32Array;
  /** Partition-replicas that changed device. */
  moved: number;
  /** Partition-replicas placed for the first time. */
  placed: number;
  /** A lower bound on the partition-replicas any rebalance must move to reach the same targets. */
  minimumMoves: number;
  tree: TierTree;
}

/** Which slots may move in this rebalance. */
export class Locks {
  /** Slot already freed or moved in this rebalance, or forced off its device: it may move (again). */
  private readonly inFlight: Uint8Array;
  /** Partition with a replica in flight: its other replicas stay. */
  private readonly busy: Uint8Array;
  private readonly mustMove: Uint8Array;

  constructor(
    private readonly mask: number,
    slots: number,
    private readonly lastMoved: Int32Array | null,
    private readonly minPartHours: number,
    private readonly nowHours: number,
  ) {
    this.inFlight = new Uint8Array(slots);
    this.busy = new Uint8Array(mask + 1);
    this.mustMove = new Uint8Array(slots);
  }

  canMovePartition(p: number): boolean {
    if (this.minPartHours <= 0) return true;
    return this.busy[p] === 0 && (this.lastMoved === null || this.nowHours - this.lastMoved[p] >= this.minPartHours);
  }

  movable(slot: number): boolean {
    return this.inFlight[slot] === 1 || this.canMovePartition(slot & this.mask);
  }

  take(slot: number): void {
    this.inFlight[slot] = 1;
    this.busy[slot & this.mask] = 1;
  }

  /** Marks a slot that must leave its device (it sits on a removed one). */
  force(slot: number): void {
    this.take(slot);
    this.mustMove[slot] = 1;
  }

  /** True while the slot is still on the removed device it was forced off. */
  forced(slot: number): boolean {
    return this.mustMove[slot] === 1;
  }

  /** Records that the slot has left the removed device. */
  moved(slot: number): void {
    this.mustMove[slot] = 0;
  }
}

/** Rebalances; deterministic for equal inputs. */
export function rebalanceAssignments(input: RebalanceInput): RebalanceOutcome {
  const { replicas: R, devices, removing, nowHours } = input;
  const P = 2 ** input.partPower;
  const usable = (d: Device) => d.weight > 0 && !removing.has(d.id);
  const tree = buildTierTree(devices, R, P, input.seed, usable);
  if (tree.capacity[0] === 0) throw new RingError('devices', 'no device with weight > 0 to place partitions on');

  const original = input.assign;
  const assign = original ? original.slice() : new Int32Array(R * P).fill(-1);
  // A slot on an id that is no longer in the table (only from a hand-edited builder) is simply re-placed.
  for (let s = 0; s < assign.length; s++) {
    if (assign[s] >= devices.length || (assign[s] >= 0 && tree.chain[assign[s] * LEVELS] < 0)) assign[s] = -1;
  }
  const state = new Placement(tree, assign, devices.length);
  let minimumMoves = lowerBound(state, input.minPartHours > 0);
  if (original) for (let s = 0; s < original.length; s++) if (original[s] >= 0 && assign[s] < 0) minimumMoves++;

  const locks = new Locks(P - 1, R * P, input.lastMoved, input.minPartHours, nowHours);
  const forced = new Uint8Array(devices.length);
  for (const id of removing) forced[id] = 1;
  for (let s = 0; s < assign.length; s++) if (assign[s] >= 0 && forced[assign[s]]) locks.force(s);

  const cap = input.maxExtra === undefined ? Number.POSITIVE_INFINITY : Math.floor(minimumMoves * (1 + input.maxExtra));
  placeAndDisperse(state, locks);
  // Replicas that must leave removed devices go first, while every destination is still open to them.
  if (removing.size > 0) balance(state, locks, cap, true);
  balance(state, locks, cap);
  if (evictForced(state, forced)) balance(state, locks, cap);

  const stamped = input.lastMoved ? input.lastMoved.slice() : new Int32Array(P).fill(nowHours);
  let moved = 0;
  let placed = 0;
  for (let s = 0; s < assign.length; s++) {
    const before = original ? original[s] : -1;
    if (before === assign[s]) continue;
    if (before < 0) placed++;
    else moved++;
    stamped[s & (P - 1)] = nowHours;
  }
  return { assign, lastMoved: stamped, moved, placed, minimumMoves, tree };
}

/** Pass 1: places unassigned replicas and frees one replica of each undispersed partition. */
function placeAndDisperse(state: Placement, locks: Locks): void {
  const { partitionCount: P, replicas: R, assign, counts, tree } = state;
  const { chain, capacity } = tree;
  const freed: number[] = [];
  const firstBuild = assign.every((d) => d < 0);
  for (let p = 0; p < P; p++) {
    state.remaining = firstBuild ? P - 1 - p : 0;
    counts.load(assign, p);
    freed.length = 0;
    let draining = false;
    for (let r = 0; r < R; r++) {
      const slot = r * P + p;
      const d = assign[slot];
      if (d < 0) {
        freed.push(slot);
        locks.take(slot);
      } else if (capacity[chain[d * LEVELS + 3]] === 0) {
        draining = true;
      }
    }
    let from = 0;
    // Replicas on devices being removed or drained leave in pass 2, which places them better.
    if (freed.length === 0 && !draining && locks.canMovePartition(p) && !counts.dispersed()) {
      const victim = dispersionVictim(state, p);
      if (victim) {
        const d = assign[victim.slot];
        state.unassign(victim.slot);
        state.moves++;
        counts.remove(d);
        freed.push(victim.slot);
        locks.take(victim.slot);
        from = victim.into;
      }
    }
    for (const slot of freed) {
      place(state, slot, from, p);
      from = 0;
    }
  }
  state.remaining = 0;
  counts.clear();
}

function place(state: Placement, slot: number, from: number, p: number): void {
  const dev = state.descend(from);
  if (dev < 0) throw new Error(`ring builder: no room for partition ${p}`); // cannot happen: capacity ≥ replicas
  state.place(slot, dev);
  state.counts.add(dev);
}

/** Pass 3: walks down the tree whatever pass 2 could not move off removed devices. */
function evictForced(state: Placement, forced: Uint8Array): boolean {
  const { partitionCount: P, replicas: R, assign, counts } = state;
  let any = false;
  for (let p = 0; p < P; p++) {
    let loaded = false;
    for (let r = 0; r < R; r++) {
      const slot = r * P + p;
      const d = assign[slot];
      if (d < 0 || !forced[d]) continue;
      if (!loaded) counts.load(assign, p);
      loaded = true;
      state.unassign(slot);
      state.moves++;
      counts.remove(d);
      place(state, slot, 0, p);
      any = true;
    }
  }
  counts.clear();
  return any;
}

/**
 * The replica of an undispersed partition whose move helps most, and the node to move it into. A node holding
 * more than `hi` is fixed first, at the highest level (regions before zones before hosts); otherwise a node
 * below `lo` is filled from a sibling holding more than its `lo`.
 */
function dispersionVictim(state: Placement, p: number): { slot: number; into: number } | null {
  const { tree, assign, counts, cur, target, partitionCount: P, replicas: R } = state;
  const { chain, hi, lo, spread, level, parent, mandatoryAll } = tree;
  const cnt = counts.cnt;
  // Lexicographic score of a candidate; higher is better.
  let best = -1;
  let bestScore: number[] = [];
  const consider = (slot: number, score: number[]) => {
    for (let i = 0; i < score.length; i++) {
      if (best >= 0 && score[i] < bestScore[i]) return;
      if (best < 0 || score[i] > bestScore[i]) break;
    }
    best = slot;
    bestScore = score;
  };
  // Leaving a node must not push it below its lo (unless it is above its hi anyway).
  const cleanFrom = (d: number, l0: number) => {
    for (let l = l0; l < LEVELS; l++) {
      const n = chain[d * LEVELS + l];
      if (cnt[n] - 1 < lo[n] && cnt[n] <= hi[n]) return 0;
    }
    return 1;
  };
  for (let r = 0; r < R; r++) {
    const slot = r * P + p;
    const d = assign[slot];
    for (let l = 0; l < LEVELS; l++) {
      const n = chain[d * LEVELS + l];
      if (cnt[n] > hi[n]) {
        const dn = chain[d * LEVELS + 3];
        consider(slot, [-l, cleanFrom(d, l), cnt[n] - spread[n], cur[dn] - target[dn], -r]);
        break;
      }
    }
  }
  if (best >= 0) return { slot: best, into: 0 };

  let m = -1;
  for (let i = 0; i < mandatoryAll.length; i++) {
    const n = mandatoryAll[i];
    if (cnt[n] < lo[n] && (m < 0 || level[n] < level[m])) m = n;
  }
  if (m < 0) return null;
  const l = level[m] - 1; // chain index of m's level
  const x = parent[m];
  for (let r = 0; r < R; r++) {
    const slot = r * P + p;
    const d = assign[slot];
    if (l > 0 && chain[d * LEVELS + l - 1] !== x) continue;
    const n = chain[d * LEVELS + l];
    if (cnt[n] <= lo[n]) continue;
    const dn = chain[d * LEVELS + 3];
    consider(slot, [cleanFrom(d, l + 1), cnt[n] - spread[n], cur[dn] - target[dn], -r]);
  }
  return best >= 0 ? { slot: best, into: m } : null;
}
