/**
 * `minimumMoves`: a lower bound on the partition-replicas a rebalance must move, computed before it moves any.
 *
 * Every device over its target must give up its excess: LB₀ = Σ (held − target)⁺. Dispersion can force more.
 * Call a move's source *spent* when its device gives more than its excess, and its destination *surplus* when
 * it receives more than its deficit; every move beyond LB₀ adds exactly one spent source and one surplus
 * destination, so moves = LB₀ + #spent = LB₀ + #surplus. A replica may only leave a failure domain where its
 * partition has more than `lo` replicas, only enter one where it has fewer than `hi`, and (minPartHours > 0) a
 * partition moves at most one replica per rebalance. Hence, per failure domain:
 *
 * - over its target by g: it must send out g replicas of distinct partitions, and only those on its over-full
 *   devices that can leave it at all are unspent — the rest are spent moves (one extra each);
 * - under its target by g: it must take in g, and only partitions with a replica on an over-full device
 *   elsewhere that can leave there and enter here come from unspent sources;
 * - either way, a move that is neither spent nor surplus must also reach an under-full device: those that
 *   cannot are spent or surplus, which costs at least half an extra move each.
 *
 * Domains of one level are disjoint, so their extras add up; the bound takes the worst level.
 */
import { FlowGraph } from './max-flow.js';
import type { Placement } from './placement.js';
import { LEVELS } from './tiers.js';

/** Work above which the pairwise (replica × under-full domain) analysis is skipped: still a bound, looser. */
const MAX_PAIR_WORK = 5e7;
/** Edges above which the matching of efficient moves is skipped. */
const MAX_FLOW_EDGES = 4e6;

/** The lower bound; see the module comment. */
export function lowerBound(state: Placement, onePerPartition: boolean): number {
  const { tree, cur, target, assign, counts, partitionCount: P, replicas: R } = state;
  const { chain, lo, hi, level, parent, nodeCount } = tree;
  const cnt = counts.cnt;
  const D = chain.length / LEVELS;
  const excessOf = new Int32Array(D);
  let excess = 0;
  let overSlots = 0;
  for (let d = 0; d < D; d++) {
    const dn = chain[d * LEVELS + LEVELS - 1];
    if (dn < 0) continue;
    excessOf[d] = Math.max(0, cur[dn] - target[dn]);
    excess += excessOf[d];
    if (excessOf[d] > 0) overSlots += cur[dn];
  }
  const under: number[] = [];
  for (let n = 1; n < nodeCount; n++) if (cur[n] < target[n]) under.push(n);
  if (!onePerPartition || excess === 0 || overSlots * under.length > MAX_PAIR_WORK) return excess;
  const path = under.map((u) => {
    const a = new Int32Array(level[u]);
    for (let n = u; n > 0; n = parent[n]) a[level[n] - 1] = n;
    return a;
  });

  // Per over device a and chain index l: replicas that can leave a's domain there (at all / towards an
  // under-full device). Per domain: partitions that can leave it / enter it, each counted once.
  // Efficient moves as a flow: over device (its excess) → partition (one move) → under device (its deficit).
  const S = 0;
  const T = 1;
  const underDev: number[] = [];
  for (const u of under) if (level[u] === LEVELS) underDev.push(u);
  const underIndex = new Map(underDev.map((u, i) => [u, 2 + D + i]));
  let flow: FlowGraph | null = new FlowGraph(2 + D + underDev.length + 2 * P);
  for (let a = 0; a < D; a++) if (excessOf[a] > 0) flow.addEdge(S, 2 + a, excessOf[a]);
  for (const u of underDev) flow.addEdge(underIndex.get(u) as number, T, target[u] - cur[u]);
  const pBase = 2 + D + underDev.length;
  const reach = new Set<number>();
  const from: number[] = [];
  const spareAny = new Int32Array(chain.length);
  const spareEff = new Int32Array(chain.length);
  const outAny = new Counter(nodeCount);
  const outEff = new Counter(nodeCount);
  const inAny = new Counter(nodeCount);
  const inEff = new Counter(nodeCount);
  for (let p = 0; p < P; p++) {
    let loaded = false;
    reach.clear();
    from.length = 0;
    for (let r = 0; r < R; r++) {
      const a = assign[r * P + p];
      if (a < 0 || excessOf[a] === 0) continue;
      if (!loaded) counts.load(assign, p);
      loaded = true;
      let leave = LEVELS; // the replica can leave a's domains at chain indexes >= leave
      while (leave > 0) {
        const n = chain[a * LEVELS + leave - 1];
        if (cnt[n] - 1 < lo[n] && cnt[n] <= hi[n]) break;
        leave--;
      }
      let widest = LEVELS; // smallest chain index at which it can part from a towards an under-full device
      for (let i = 0; i < under.length; i++) {
        const up = path[i];
        let k = 0;
        while (k < up.length && chain[a * LEVELS + k] === up[k]) k++;
        if (k === up.length || k < leave) continue;
        let fits = true;
        for (let j = k; j < up.length && fits; j++) fits = cnt[up[j]] < hi[up[j]];
        if (!fits) continue;
        inAny.add(under[i], p);
        if (up.length === LEVELS) {
          widest = Math.min(widest, k);
          for (let j = k; j < LEVELS; j++) inEff.add(up[j], p);
          reach.add(under[i]);
          if (!from.includes(a)) from.push(a);
        }
      }
      for (let l = leave; l < LEVELS; l++) {
        spareAny[a * LEVELS + l]++;
        outAny.add(chain[a * LEVELS + l], p);
      }
      for (let l = widest; l < LEVELS; l++) {
        spareEff[a * LEVELS + l]++;
        outEff.add(chain[a * LEVELS + l], p);
      }
    }
    if (flow && from.length > 0) {
      // One node pair per partition caps it at one move; destinations are merged over its replicas, which
      // can only overstate the efficient moves, so the bound stays a bound.
      for (const a of from) flow.addEdge(2 + a, pBase + 2 * p, 1);
      flow.addEdge(pBase + 2 * p, pBase + 2 * p + 1, 1);
      for (const u of reach) flow.addEdge(pBase + 2 * p + 1, underIndex.get(u) as number, 1);
      if (flow.edges > MAX_FLOW_EDGES) flow = null;
    }
  }
  counts.clear();
  // Every deficit is filled by an efficient move or by one from a spent source.
  const matched = flow ? excess + (excess - flow.maxFlow(S, T)) : 0;

  const unspentAny = new Float64Array(nodeCount);
  const unspentEff = new Float64Array(nodeCount);
  const excessInside = new Float64Array(nodeCount);
  for (let a = 0; a < D; a++) {
    if (excessOf[a] === 0) continue;
    for (let l = 0; l < LEVELS; l++) {
      const n = chain[a * LEVELS + l];
      unspentAny[n] += Math.min(excessOf[a], spareAny[a * LEVELS + l]);
      unspentEff[n] += Math.min(excessOf[a], spareEff[a * LEVELS + l]);
      excessInside[n] += excessOf[a];
    }
  }
  const strict = new Float64Array(LEVELS * 2 + 2);
  const half = new Float64Array(LEVELS * 2 + 2);
  for (let n = 1; n < nodeCount; n++) {
    const gap = cur[n] - target[n];
    const l = level[n];
    if (gap > 0) {
      strict[l] += Math.max(0, gap - Math.min(unspentAny[n], outAny.count[n]));
      half[l] += Math.max(0, gap - Math.min(unspentEff[n], outEff.count[n]));
    } else if (gap < 0) {
      const elsewhere = excess - excessInside[n];
      strict[LEVELS + l] += Math.max(0, -gap - Math.min(elsewhere, inAny.count[n]));
      half[LEVELS + l] += Math.max(0, -gap - Math.min(elsewhere, inEff.count[n]));
    }
  }
  let worst = 0;
  for (let i = 0; i < strict.length; i++) worst = Math.max(worst, strict[i], Math.ceil(half[i] / 2));
  return Math.max(excess + worst, matched);
}

/** Counts distinct partitions per node (partitions arrive in increasing order). */
class Counter {
  readonly count: Int32Array;
  private readonly last: Int32Array;
  constructor(n: number) {
    this.count = new Int32Array(n);
    this.last = new Int32Array(n).fill(-1);
  }
  add(node: number, p: number): void {
    if (this.last[node] !== p) {
      this.last[node] = p;
      this.count[node]++;
    }
  }
}
