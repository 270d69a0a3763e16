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
  const { live, region, zone, host, liveIndex } = dom;
  const used = [new Uint8Array(dom.counts[0]), new Uint8Array(dom.counts[1]), new Uint8Array(dom.counts[2])];
  const isPrimary = new Uint8Array(live.length);
  const mark = (i: number) => {
    used[0][region[i]] = 1;
    used[1][zone[i]] = 1;
    used[2][host[i]] = 1;
  };
  for (let r = 0; r < primaryIds.length; r++) {
    const i = liveIndex[primaryIds[r]];
    isPrimary[i] = 1;
    mark(i);
  }
  // Weighted random permutation (Efraimidis–Spirakis): sort by -ln(u)/w; zero weights go last.
  const partSeed = mix32(seed, part);
  const order: number[] = [];
  const key = new Float64Array(live.length);
  for (let i = 0; i < live.length; i++) {
    if (isPrimary[i]) continue;
    const u = (mix32(partSeed, live[i].id) + 0.5) / 4294967296;
    key[i] = live[i].weight > 0 ? -Math.log(u) / live[i].weight : Number.POSITIVE_INFINITY;
    order.push(i);
  }
  order.sort((a, b) => key[a] - key[b] || live[a].id - live[b].id);
  const done = new Uint8Array(live.length);
  const tiers = [region, zone, host];
  for (let t = 0; t < tiers.length; t++) {
    for (const i of order) {
      if (done[i] || used[t][tiers[t][i]]) continue;
      done[i] = 1;
      mark(i);
      yield live[i];
    }
  }
  for (const i of order) if (!done[i]) yield live[i];
}
