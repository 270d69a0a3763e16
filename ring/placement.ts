/**
 * The builder's working state during one rebalance: the assignment table, how many partition-replicas each
 * tree node holds and should hold, and per node a max-heap of its children by relative need, so choosing
 * where a replica goes costs O(levels × log children) instead of a scan over every device.
 */
import { mix32 } from './hash.js';
import { PartitionCounts } from './partition-counts.js';
import { DEVICE, integerTargets, LEVELS, type TierTree } from './tiers.js';

export class Placement {
  readonly partitionCount: number;
  readonly replicas: number;
  /** Flat assignment table, `slot = replica × partitions + partition`, -1 = unassigned. */
  readonly assign: Int32Array;
  /** Partition-replicas held per node. */
  readonly cur: Int32Array;
  /** Partition-replicas each node should hold (integer targets, see tiers.ts). */
  readonly target: Int32Array;
  /** Replica counts of the partition being worked on. */
  readonly counts: PartitionCounts;
  /** Σ over devices of (held − target)⁺: moves still needed at the least. */
  excess = 0;
  /** Moves made so far in this rebalance (a slot moved twice counts twice). */
  moves = 0;

  /** target − cur: partition-replicas a node still wants. */
  private readonly key: Float64Array;
  /**
   * During a first build, partitions not yet placed after the current one. A node with lo ≥ 1 will get lo
   * replicas of each of them anyway, so only need beyond that competes with its siblings: with that key,
   * "largest remaining need first" is Ryser's greedy for a 0-1 matrix with given row and column sums, which
   * reaches every target exactly whenever dispersion allows it. Zero in incremental rebalances.
   */
  remaining = 0;
  private readonly heap: Int32Array[];
  private readonly heapLen: Int32Array;
  private readonly heapPos: Int32Array;
  private readonly slots: Int32Array[];
  private readonly slotLen: Int32Array;
  private readonly slotPos: Int32Array;
  private scratch = new Int32Array(64);

  constructor(
    readonly tree: TierTree,
    assign: Int32Array,
    deviceCount: number,
  ) {
    const { nodeCount, chain, children, capacity } = tree;
    this.partitionCount = tree.partitionCount;
    this.replicas = tree.replicas;
    this.assign = assign;
    this.counts = new PartitionCounts(tree);
    this.cur = new Int32Array(nodeCount);
    const perDevice = new Int32Array(deviceCount);
    for (let s = 0; s < assign.length; s++) if (assign[s] >= 0) perDevice[assign[s]]++;
    for (let d = 0; d < deviceCount; d++) {
      if (perDevice[d] === 0 || chain[d * LEVELS] < 0) continue;
      this.cur[0] += perDevice[d];
      for (let l = 0; l < LEVELS; l++) this.cur[chain[d * LEVELS + l]] += perDevice[d];
    }
    this.target = integerTargets(tree, this.cur);
    for (let d = 0; d < deviceCount; d++) {
      const dn = chain[d * LEVELS + LEVELS - 1];
      if (dn >= 0) this.excess += Math.max(0, this.cur[dn] - this.target[dn]);
    }
    this.key = new Float64Array(nodeCount);
    for (let n = 0; n < nodeCount; n++) this.key[n] = this.keyOf(n);

    // Children with lo ≥ 1 (at most `replicas` per node) are kept out of the heaps: their key depends on
    // `remaining`, so they are compared by hand.
    this.heap = children.map((c) => Int32Array.from(Array.from(c).filter((n) => capacity[n] > 0 && tree.lo[n] === 0)));
    this.heapLen = Int32Array.from(this.heap, (h) => h.length);
    this.heapPos = new Int32Array(nodeCount).fill(-1);
    for (let x = 0; x < nodeCount; x++) {
      const h = this.heap[x];
      for (let i = 0; i < h.length; i++) this.heapPos[h[i]] = i;
      for (let i = (h.length >> 1) - 1; i >= 0; i--) this.siftDown(x, i);
    }

    this.slots = Array.from(perDevice, (n) => new Int32Array(Math.max(16, n + (n >> 3))));
    this.slotLen = new Int32Array(deviceCount);
    this.slotPos = new Int32Array(assign.length);
    for (let s = 0; s < assign.length; s++) if (assign[s] >= 0) this.pushSlot(assign[s], s);
  }

  /** Slots (partition-replicas) on device `dev`; only the first `slotCount(dev)` entries are valid. */
  slotsOf(dev: number): Int32Array {
    return this.slots[dev];
  }

  slotCount(dev: number): number {
    return this.slotLen[dev];
  }

  /** Takes a slot off its device. */
  unassign(slot: number): void {
    const dev = this.assign[slot];
    this.dropSlot(dev, slot);
    this.assign[slot] = -1;
    this.shift(dev, -1, 0);
  }

  /** Puts an unassigned slot on device `dev`. */
  place(slot: number, dev: number): void {
    this.assign[slot] = dev;
    this.pushSlot(dev, slot);
    this.shift(dev, 1, 0);
  }

  /** Moves a slot from its device to `dev`; nodes the two share keep their totals. */
  move(slot: number, dev: number): void {
    this.moves++;
    const from = this.assign[slot];
    const { chain } = this.tree;
    let same = 0;
    while (same < LEVELS && chain[from * LEVELS + same] === chain[dev * LEVELS + same]) same++;
    this.dropSlot(from, slot);
    this.shift(from, -1, same);
    this.assign[slot] = dev;
    this.pushSlot(dev, slot);
    this.shift(dev, 1, same);
  }

  /**
   * Picks a device below node `from` for one more replica of the partition loaded in `counts`: at each level
   * a child that is below its `lo` if there is one (dispersion demands it), else the child with most relative
   * need among those still below `hi`. Returns the device id, or -1 if nothing has room.
   */
  descend(from: number): number {
    const { level, nodeDevice } = this.tree;
    let x = from;
    while (level[x] < DEVICE) {
      x = this.chooseChild(x);
      if (x < 0) return -1;
    }
    return nodeDevice[x];
  }

  /**
   * The child of `x` (not `skip`) with most relative need that still has room for the loaded partition and is
   * below its target; -1 if none.
   */
  neediestSibling(x: number, skip: number): number {
    return this.neediest(x, skip);
  }

  private chooseChild(x: number): number {
    const { mandatory, lo, hi } = this.tree;
    const cnt = this.counts.cnt;
    const must = mandatory[x];
    let best = -1;
    for (let i = 0; i < must.length; i++) {
      const n = must[i];
      if (cnt[n] < lo[n] && (best < 0 || this.better(n, best))) best = n;
    }
    if (best >= 0) return best;
    best = this.search(x, -1, false);
    for (let i = 0; i < must.length; i++) {
      const n = must[i];
      if (cnt[n] < hi[n] && (best < 0 || this.better(n, best))) best = n;
    }
    return best;
  }

  /** Like neediestSibling, for incremental rebalances (remaining = 0). */
  private neediest(x: number, skip: number): number {
    const { mandatory, hi } = this.tree;
    const cnt = this.counts.cnt;
    let best = this.search(x, skip, true);
    const must = mandatory[x];
    for (let i = 0; i < must.length; i++) {
      const n = must[i];
      if (n !== skip && this.key[n] > 0 && cnt[n] < hi[n] && (best < 0 || this.better(n, best))) best = n;
    }
    return best;
  }

  /** Best-first walk of x's heap past the few children that cannot take the partition. */
  private search(x: number, skip: number, underOnly: boolean): number {
    const h = this.heap[x];
    const len = this.heapLen[x];
    if (len === 0) return -1;
    const cnt = this.counts.cnt;
    const { hi } = this.tree;
    let n = h[0];
    if (underOnly && this.key[n] <= 0) return -1;
    if (n !== skip && cnt[n] < hi[n]) return n;
    let cand = this.scratch;
    let m = 0;
    if (len > 1) cand[m++] = 1;
    if (len > 2) cand[m++] = 2;
    while (m > 0) {
      let bi = 0;
      for (let i = 1; i < m; i++) if (this.better(h[cand[i]], h[cand[bi]])) bi = i;
      const idx = cand[bi];
      cand[bi] = cand[--m];
      n = h[idx];
      // The best remaining candidate wants nothing, so nothing below it does either.
      if (underOnly && this.key[n] <= 0) return -1;
      if (n !== skip && cnt[n] < hi[n]) return n;
      if (m + 2 > cand.length) {
        const bigger = new Int32Array(cand.length * 2);
        bigger.set(cand);
        this.scratch = cand = bigger;
      }
      const l = 2 * idx + 1;
      if (l < len) cand[m++] = l;
      if (l + 1 < len) cand[m++] = l + 1;
    }
    return -1;
  }

  /**
   * Need, minus a fraction that is re-drawn whenever the node's total changes. The fraction only breaks ties
   * between equal needs; re-drawing it keeps a first build from cycling through devices in lock-step, which
   * would pair the same devices in partition after partition (and leave a removed device's partitions few
   * places to go). `need − fraction > 0` exactly when the node is under its target.
   */
  private keyOf(n: number): number {
    const c = this.cur[n];
    return this.target[n] - c - mix32(this.tree.rank[n], c) / 4294967296;
  }

  private better(a: number, b: number): boolean {
    const { lo } = this.tree;
    const ka = this.key[a] - lo[a] * this.remaining;
    const kb = this.key[b] - lo[b] * this.remaining;
    if (ka !== kb) return ka > kb;
    const { rank } = this.tree;
    return rank[a] !== rank[b] ? rank[a] < rank[b] : a < b;
  }

  /** Adds `delta` to the totals of device `dev`'s nodes from level `from + 1` down. */
  private shift(dev: number, delta: number, from: number): void {
    const { chain } = this.tree;
    if (from === 0) this.cur[0] += delta;
    for (let l = from; l < LEVELS; l++) {
      const n = chain[dev * LEVELS + l];
      if (l === LEVELS - 1) this.excess += Math.max(0, this.cur[n] + delta - this.target[n]) - Math.max(0, this.cur[n] - this.target[n]);
      this.cur[n] += delta;
      this.key[n] = this.keyOf(n);
      const i = this.heapPos[n];
      if (i >= 0) {
        const x = this.tree.parent[n];
        if (delta < 0) this.siftUp(x, i);
        else this.siftDown(x, i);
      }
    }
  }

  private siftUp(x: number, i: number): void {
    const h = this.heap[x];
    const n = h[i];
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.better(n, h[up])) break;
      h[i] = h[up];
      this.heapPos[h[i]] = i;
      i = up;
    }
    h[i] = n;
    this.heapPos[n] = i;
  }

  private siftDown(x: number, i: number): void {
    const h = this.heap[x];
    const len = this.heapLen[x];
    const n = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= len) break;
      if (c + 1 < len && this.better(h[c + 1], h[c])) c++;
      if (!this.better(h[c], n)) break;
      h[i] = h[c];
      this.heapPos[h[i]] = i;
      i = c;
    }
    h[i] = n;
    this.heapPos[n] = i;
  }

  private pushSlot(dev: number, slot: number): void {
    let list = this.slots[dev];
    const len = this.slotLen[dev];
    if (len === list.length) {
      const bigger = new Int32Array(list.length * 2);
      bigger.set(list);
      this.slots[dev] = list = bigger;
    }
    list[len] = slot;
    this.slotPos[slot] = len;
    this.slotLen[dev] = len + 1;
  }

  private dropSlot(dev: number, slot: number): void {
    const list = this.slots[dev];
    const i = this.slotPos[slot];
    const last = list[--this.slotLen[dev]];
    list[i] = last;
    this.slotPos[last] = i;
  }
}
