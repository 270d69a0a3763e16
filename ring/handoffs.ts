/**
 * Handoff order: where a partition's data goes when primaries are down. Swift's rule: first devices in a
 * region none of the primaries (or earlier handoffs) uses, then a new zone, then a new host, then any other
 * device. Within each pass devices come in a per-partition pseudo-random order weighted by device weight, so
 * handoff load spreads like primary load and two partitions rarely share a handoff sequence.
 */
import type { Device } from './device.js';
import { mix32 } from './hash.js';

/** Failure-domain indexes of a ring's live devices, computed once per ring. */
export interface Domains {
  /** Live devices; `region/zone/host[i]` index the domains of `live[i]`. */
  live: readonly Device[];
  region: Int32Array;
  zone: Int32Array;
  host: Int32Array;
  /** Index in `live` by device id, -1 for null ids. */
  liveIndex: Int32Array;
  counts: [number, number, number];
}

/** Indexes the failure domains of `devices`. */
export function indexDomains(devices: ReadonlyArray<Device | null>): Domains {
  const live = devices.filter((d): d is Device => d !== null);
  const maps = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  const idx = (m: Map<string, number>, k: string) => {
    let v = m.get(k);
    if (v === undefined) m.set(k, (v = m.size));
    return v;
  };
  const liveIndex = new Int32Array(devices.length).fill(-1);
  live.forEach((d, i) => {
    liveIndex[d.id] = i;
  });
  return {
    live,
    region: Int32Array.from(live, (d) => idx(maps[0], `${d.region}`)),
    zone: Int32Array.from(live, (d) => idx(maps[1], `${d.region}/${d.zone}`)),
    host: Int32Array.from(live, (d) => idx(maps[2], `${d.region}/${d.zone}/${d.ip}`)),
    liveIndex,
    counts: [maps[0].size, maps[1].size, maps[2].size],
  };
}

/** Yields every live device that is not one of `primaryIds`, most-different failure domain first. */
export function* handoffSequence(dom: Domains, seed: number, part: number, primaryIds: ArrayLike<number>): Generator<Device> {
  const { live, liveIndex } = dom;
  const tiers = [dom.region, dom.zone, dom.host];
  const used = dom.counts.map((n) => new Uint8Array(n));
  const usedCount = [0, 0, 0];
  const mark = (i: number) => {
    for (let t = 0; t < 3; t++) {
      const v = tiers[t][i];
      if (used[t][v] === 0) {
        used[t][v] = 1;
        usedCount[t]++;
      }
    }
  };
  const isPrimary = new Uint8Array(live.length);
  for (let r = 0; r < primaryIds.length; r++) {
    const i = liveIndex[primaryIds[r]];
    isPrimary[i] = 1;
    mark(i);
  }
  // Weighted random order (Efraimidis–Spirakis): ascending -ln(u)/weight; zero weights last. Kept in a
  // heap so the first handoff costs O(devices), not a sort.
  const partSeed = mix32(seed, part);
  const key = new Float64Array(live.length);
  const heap: number[] = [];
  for (let i = 0; i < live.length; i++) {
    if (isPrimary[i]) continue;
    const u = (mix32(partSeed, live[i].id) + 0.5) / 4294967296;
    key[i] = live[i].weight > 0 ? -Math.log(u) / live[i].weight : Number.POSITIVE_INFINITY;
    heap.push(i);
  }
  const before = (a: number, b: number) => key[a] < key[b] || (key[a] === key[b] && live[a].id < live[b].id);
  const down = (k: number) => {
    const n = heap.length;
    const v = heap[k];
    for (;;) {
      let c = 2 * k + 1;
      if (c >= n) break;
      if (c + 1 < n && before(heap[c + 1], heap[c])) c++;
      if (!before(heap[c], v)) break;
      heap[k] = heap[c];
      k = c;
    }
    heap[k] = v;
  };
  for (let k = (heap.length >> 1) - 1; k >= 0; k--) down(k);
  function* inOrder(): Generator<number> {
    while (heap.length > 0) {
      const top = heap[0];
      const last = heap.pop() as number;
      if (heap.length > 0) {
        heap[0] = last;
        down(0);
      }
      yield top;
    }
  }
  // Pass t yields devices whose tier-t domain is still unused and defers the rest, in order, to pass t+1.
  // A pass with every domain of its tier already used would defer everything unchanged, so it is skipped.
  let source: Iterable<number> = inOrder();
  for (let t = 0; t < 3; t++) {
    if (usedCount[t] === dom.counts[t]) continue;
    const deferred: number[] = [];
    for (const i of source) {
      if (used[t][tiers[t][i]]) deferred.push(i);
      else {
        mark(i);
        yield live[i];
      }
    }
    source = deferred;
  }
  for (const i of source) yield live[i];
}
