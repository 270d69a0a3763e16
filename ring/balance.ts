/**
 * Rebalance pass 2: bring every node to its target, parents before children. Within one parent, a replica
 * moves from a child over its target to a sibling under it. In order of preference:
 *
 * 1. from a device that is itself over its target (the move helps at every level: no extra moves);
 * 2. from any device of the over child (a lower level then evens that child out: one extra move);
 * 3. via a third sibling that is at its target: it hands one replica on to the sibling in need and takes
 *    one from the over child (two moves instead of one). This unblocks the case where dispersion rules out
 *    every direct move, e.g. when every partition the over child holds already has a replica where it
 *    would go.
 *
 * A partition's replica can only go where the partition stays dispersed, and only movable slots move.
 */
import type { Placement } from './placement.js';
import type { Locks } from './rebalance.js';
import { DEVICE, LEVELS } from './tiers.js';

/**
 * Balances every parent's children, regions first. `cap` bounds the total moves of the rebalance: a move
 * that does not reduce the remaining excess (or a two-move hop that reduces it by one) is only made while the
 * moves so far, plus its cost, plus the excess still to clear stay within the cap. Moves that reduce the
 * excess are always made.
 */
export function balance(state: Placement, locks: Locks, cap = Number.POSITIVE_INFINITY, forcedOnly = false): void {
  const { tree } = state;
  const shared: Shared = { cursor: new Int32Array(tree.nodeCount), scarcity: new Map() };
  for (let l = 0; l < LEVELS; l++) {
    for (let x = 0; x < tree.nodeCount; x++) if (tree.level[x] === l) balanceChildren(state, x, locks, shared, cap, forcedOnly);
  }
}

/** While a child of `x` holds more than its target and another less, moves replicas across. */
function balanceChildren(state: Placement, x: number, locks: Locks, shared: Shared, cap: number, forcedOnly: boolean): void {
  const { tree, cur, target } = state;
  const kids = tree.children[x];
  if (kids.length < 2) return;
  const stuck = new Set<number>();
  for (;;) {
    let over = -1;
    let anyUnder = false;
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i];
      const e = cur[k] - target[k];
      if (e < 0) anyUnder = true;
      else if (e > 0 && !stuck.has(k) && (over < 0 || e > cur[over] - target[over])) over = k;
    }
    if (over < 0 || !anyUnder) return;
    const mv = new Mover(state, locks, shared, x, cap, forcedOnly);
    const spare = mv.canWaste() && !forcedOnly;
    const ok =
      mv.direct(over, devicesBelow(state, over, true)) ||
      (spare && tree.level[over] < DEVICE && mv.direct(over, devicesBelow(state, over, false))) ||
      (spare && mv.canWaste(2) && mv.viaSibling(over));
    if (!ok) stuck.add(over);
  }
}

/**
 * Devices below `n` in the order to take from them: the most-over child first at every level, so a branch
 * gives up replicas in proportion to its own excess. `overOnly` keeps only devices over their target.
 */
function devicesBelow(state: Placement, n: number, overOnly: boolean, out: number[] = []): number[] {
  const { tree, cur, target } = state;
  if (tree.level[n] === DEVICE) {
    if (!overOnly || cur[n] > target[n]) out.push(n);
    return out;
  }
  const kids = Array.from(tree.children[n]).filter((c) => !overOnly || cur[c] > target[c]);
  kids.sort((a, b) => cur[b] - target[b] - (cur[a] - target[a]) || tree.rank[a] - tree.rank[b] || a - b);
  for (const c of kids) devicesBelow(state, c, overOnly, out);
  return out;
}

/** Further candidates examined for a move onto an under-target device once a worse move is in hand. */
const FALLBACK_BUDGET = 512;
/** Efficient candidates compared (by stayValue) before a move out of a failure domain is chosen. */
const SCORE_WINDOW = 16;
/** Work (replicas × (needy nodes + partition load)) above which moves out of a domain are not scored by scarcity. */
const SCARCITY_WORK = 4e6;
/** Under-target siblings tried per candidate slot. */
const DEST_TRIES = 8;

/**
 * Step through a device's replica list: a large prime coprime to its length. Replicas placed together tend
 * to share partners (the build places partitions in order), so walking the list in order would meet long
 * runs of replicas that cannot go where they are needed.
 */
function strideFor(len: number): number {
  for (const p of [7919, 104729, 1299709]) if (len % p !== 0) return p % Math.max(len, 1) || 1;
  return 1;
}

/** State kept across the moves of one balance pass. */
interface Shared {
  /** Per device node, where the last search on it stopped: slots before it were just found unmovable. */
  cursor: Int32Array;
  /** Per domain moved out of: its scarcity map, the move count when computed, and moves it stays fresh for. */
  scarcity: Map<number, { value: Map<number, number>; at: number; fresh: number }>;
}

/** A found move: the slot and the device it goes to. */
interface Move {
  slot: number;
  dev: number;
}

/** Finds and makes moves between the children of one parent `x`. */
class Mover {
  constructor(
    private readonly state: Placement,
    private readonly locks: Locks,
    /** Per device node, where the last search on it stopped: slots before it were just found unmovable. */
    private readonly shared: Shared,
    private readonly x: number,
    private readonly cap: number,
    /** Move only replicas forced off removed devices. */
    private readonly forcedOnly = false,
  ) {}

  /** True while `n` moves that leave the remaining excess as it is still fit under the cap. */
  canWaste(n = 1): boolean {
    return this.state.moves + n + this.state.excess <= this.cap;
  }

  /** Moves one replica from one of `sources` (devices below `from`) to a sibling under its target. */
  direct(from: number, sources: number[]): boolean {
    const m = this.find(from, sources, -1);
    if (m) this.apply(m);
    return m !== null;
  }

  /** Moves one replica from a sibling at its target to one under it, and one from `from` to that sibling. */
  viaSibling(from: number): boolean {
    const { state } = this;
    const { cur, target, tree } = state;
    const fromSources = devicesBelow(state, from, false);
    for (const m of tree.children[this.x]) {
      if (m === from || cur[m] < target[m]) continue;
      const intoM = this.find(from, fromSources, m);
      if (!intoM) continue;
      const outOfM = this.find(m, devicesBelow(state, m, false), -1, intoM.slot & (state.partitionCount - 1));
      if (!outOfM) continue;
      this.apply(outOfM);
      // Re-aim the first move now that the hand-on left a gap in `m`: its device wants the replica most.
      state.counts.load(state.assign, intoM.slot & (state.partitionCount - 1));
      state.counts.remove(state.assign[intoM.slot]);
      const dev = state.descend(m);
      state.counts.clear();
      this.apply({ slot: intoM.slot, dev: dev >= 0 ? dev : intoM.dev });
      return true;
    }
    return false;
  }

  /**
   * A movable slot on one of `sources` whose partition may lose a replica below `from` and gain one in
   * `into` (a given sibling) or, with into < 0, in the neediest sibling under its target. `avoid` is a
   * partition not to use. Prefers a move whose destination device is under its target; when the partition
   * rules that device out, the replica would land on a device at its target and cost a move later, so a
   * bounded number of further slots is tried first.
   */
  private find(from: number, sources: number[], into: number, avoid = -1): Move | null {
    const { state, locks } = this;
    const { cursor } = this.shared;
    const { tree, assign, counts, cur, target, partitionCount: P } = state;
    const { chain, lo, hi, level, nodeDevice } = tree;
    const cnt = counts.cnt;
    const l0 = level[from] - 1; // chain index of from's level
    const dests = into >= 0 ? [into] : this.underSiblings(from);
    let fallback: Move | null = null;
    let best: Move | null = null;
    let bestScore = Number.NEGATIVE_INFINITY;
    const scarce = into < 0 && level[from] < DEVICE ? this.scarcityOf(from, sources) : new Map<number, number>();
    let window = scarce.size > 0 ? SCORE_WINDOW : 1;
    let budget = FALLBACK_BUDGET;
    for (const dn of sources) {
      const a = nodeDevice[dn];
      const list = state.slotsOf(a);
      const len = state.slotCount(a);
      const start = cursor[dn] % Math.max(len, 1);
      const step = strideFor(len);
      for (let k = 0, i = start; k < len; k++, i = (i + step) % len) {
        const slot = list[i];
        const p = slot & (P - 1);
        if (p === avoid || !locks.movable(slot) || (this.forcedOnly && !locks.forced(slot))) continue;
        counts.load(assign, p);
        let ok = true;
        for (let l = l0; l < LEVELS && ok; l++) {
          const n = chain[a * LEVELS + l];
          ok = cnt[n] - 1 >= lo[n] || cnt[n] > hi[n];
        }
        if (!ok) continue;
        counts.remove(a);
        // Device siblings: the heap finds the neediest one that can take the partition, always under target.
        const candidates = dests ?? [state.neediestSibling(this.x, from)];
        for (let j = 0; j < candidates.length && j < DEST_TRIES; j++) {
          const u = candidates[j];
          if (u < 0 || cnt[u] >= hi[u]) continue;
          const dev = state.descend(u);
          if (dev < 0) continue;
          const dd = chain[dev * LEVELS + LEVELS - 1];
          if (cur[dd] < target[dd]) {
            const score = scarce.size > 0 ? this.stayValue(scarce) : 0;
            if (score > bestScore) {
              best = { slot, dev };
              bestScore = score;
              cursor[dn] = i;
            }
            window--;
            break;
          }
          fallback ??= { slot, dev };
        }
        if (best && window === 0) break;
        if (!best && fallback && --budget === 0) break;
      }
      if (best && window === 0) break;
      if (!best && fallback && budget === 0) break;
    }
    counts.clear();
    return best ?? fallback;
  }

  /**
   * How much partition `p` (loaded in counts, its replica on `a` removed) is worth sending out of `from`
   * rather than keeping for moves inside it. A domain or device inside `from` that is under its target can
   * only take partitions it holds fewer than `hi` of; sending `p` out takes it away from every such node. So
   * the value is minus the scarcity (need / supply) of those nodes: partitions that needy nodes inside could
   * never take go out first.
   */
  private stayValue(scarcity: Map<number, number>): number {
    const { cnt } = this.state.counts;
    const { hi } = this.state.tree;
    let v = 0;
    for (const [n, s] of scarcity) if (cnt[n] < hi[n]) v -= s;
    return v;
  }

  /** scarcity(), recomputed only after a share of the replicas it counted has moved (it drifts slowly). */
  private scarcityOf(from: number, sources: number[]): Map<number, number> {
    const cached = this.shared.scarcity.get(from);
    const moves = this.state.moves;
    if (cached && moves - cached.at < cached.fresh) return cached.value;
    let slots = 0;
    for (const dn of sources) slots += this.state.slotCount(this.state.tree.nodeDevice[dn]);
    const value = this.scarcity(from, sources);
    this.shared.scarcity.set(from, { value, at: moves, fresh: Math.max(64, Math.floor(slots / 20)) });
    return value;
  }

  /**
   * Need / supply of the nodes inside `from` that are under their targets, where supply counts the movable
   * replicas on `sources` whose partition such a node could take. Empty when that would be costly.
   */
  private scarcity(from: number, sources: number[]): Map<number, number> {
    const { state, locks } = this;
    const { tree, assign, counts, cur, target, partitionCount: P } = state;
    const out = new Map<number, number>();
    if (tree.level[from] === DEVICE) return out;
    const needy: number[] = [];
    const walk = (n: number) => {
      for (const c of tree.children[n]) {
        if (cur[c] < target[c]) needy.push(c);
        if (tree.level[c] < DEVICE) walk(c);
      }
    };
    walk(from);
    let work = 0;
    for (const dn of sources) work += state.slotCount(tree.nodeDevice[dn]);
    if (needy.length === 0 || (needy.length + state.replicas * LEVELS) * work > SCARCITY_WORK) return out;
    const supply = new Float64Array(needy.length);
    const { cnt } = counts;
    const { hi } = tree;
    for (const dn of sources) {
      const a = tree.nodeDevice[dn];
      const list = state.slotsOf(a);
      for (let k = 0, len = state.slotCount(a); k < len; k++) {
        const slot = list[k];
        if (!locks.movable(slot)) continue;
        counts.load(assign, slot & (P - 1));
        counts.remove(a);
        for (let i = 0; i < needy.length; i++) if (cnt[needy[i]] < hi[needy[i]]) supply[i]++;
      }
    }
    counts.clear();
    for (let i = 0; i < needy.length; i++) out.set(needy[i], (target[needy[i]] - cur[needy[i]]) / Math.max(1, supply[i]));
    return out;
  }

  /**
   * Siblings of `from` under their targets, neediest first, when they are failure domains (a partition may
   * fit a sibling but none of its under-target devices, so several are worth trying); null when they are
   * devices (the heap answers directly).
   */
  private underSiblings(from: number): number[] | null {
    const { tree, cur, target } = this.state;
    if (tree.level[from] === DEVICE) return null;
    const out = Array.from(tree.children[this.x]).filter((k) => k !== from && cur[k] < target[k]);
    return out.sort((a, b) => target[b] - cur[b] - (target[a] - cur[a]) || tree.rank[a] - tree.rank[b] || a - b);
  }

  private apply(m: Move): void {
    this.state.move(m.slot, m.dev);
    this.locks.take(m.slot);
    this.locks.moved(m.slot);
  }
}
