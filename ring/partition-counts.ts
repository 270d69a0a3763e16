import { LEVELS, type TierTree } from './tiers.js';

/**
 * How many replicas of one partition each tree node holds. Reused across partitions: only the nodes touched
 * are cleared, so loading a partition costs O(replicas × levels), not O(tree).
 */
export class PartitionCounts {
  /** Replicas of the loaded partition per node (the root is not counted). */
  readonly cnt: Int32Array;
  private readonly seen: number[] = [];

  constructor(private readonly tree: TierTree) {
    this.cnt = new Int32Array(tree.nodeCount);
  }

  /** Loads partition `p` of a flat assignment table (`slot = replica * partitions + p`, -1 = unassigned). */
  load(assign: ArrayLike<number>, p: number): void {
    this.clear();
    const { replicas, partitionCount } = this.tree;
    for (let r = 0; r < replicas; r++) {
      const d = assign[r * partitionCount + p];
      if (d >= 0) this.add(d);
    }
  }

  /** Counts one more replica on device `dev` (and its region, zone and host). */
  add(dev: number): void {
    const { chain } = this.tree;
    const base = dev * LEVELS;
    if (base >= chain.length || chain[base] < 0) return;
    for (let l = 0; l < LEVELS; l++) {
      const n = chain[base + l];
      if (this.cnt[n]++ === 0) this.seen.push(n);
    }
  }

  /** Counts one replica fewer on device `dev`. */
  remove(dev: number): void {
    const { chain } = this.tree;
    const base = dev * LEVELS;
    if (base >= chain.length || chain[base] < 0) return;
    for (let l = 0; l < LEVELS; l++) this.cnt[chain[base + l]]--;
  }

  clear(): void {
    for (const n of this.seen) this.cnt[n] = 0;
    this.seen.length = 0;
  }

  /** True when every node holds lo or hi replicas of the loaded partition (see tiers.ts). */
  dispersed(): boolean {
    const { cnt } = this;
    const { hi, lo, mandatoryAll } = this.tree;
    for (const n of this.seen) if (cnt[n] > hi[n]) return false;
    for (let i = 0; i < mandatoryAll.length; i++) if (cnt[mandatoryAll[i]] < lo[mandatoryAll[i]]) return false;
    return true;
  }
}
