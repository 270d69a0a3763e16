/**
 * What the policies need to know of the rings, as structural types so the proxy depends on the ring's
 * behaviour rather than its classes: a device's address and the partition → devices mapping.
 */
import type { Device } from '../../ring/index.js';

/** A ring device: where a storage node serves one disk. */
export type RingDevice = Device;

export interface PlacementRing {
  readonly replicaCount: number;
  partition(path: string): number;
  primaries(part: number): RingDevice[];
  handoffs(part: number): Iterable<RingDevice>;
}

/** The rings of a cluster as the proxy uses them. */
export interface ClusterRings {
  readonly account: PlacementRing;
  readonly container: PlacementRing;
  object(policyIndex: number): PlacementRing;
}

/** The ring path of an account, a bucket's listing, or an object. */
export function ringPath(account: string, bucket?: string, key?: string): string {
  if (bucket === undefined) return `/${account}`;
  if (key === undefined) return `/${account}/${bucket}`;
  return `/${account}/${bucket}/${key}`;
}

/** What orders a reader's primaries: the read affinity, then the error limiter (limited devices last). */
export interface ReadOrder {
  affinity?: ReadAffinity;
  limiter?: { order(devices: RingDevice[]): RingDevice[] };
}

/**
 * Primaries first, then as many handoffs as asked for, lazily: the order in which a reader or writer tries
 * the devices of a partition. With a reader's `order`, the primaries come in its affinity's order, devices
 * the limiter holds back last.
 */
export function* candidates(ring: PlacementRing, part: number, maxHandoffs: number, order: ReadOrder = {}): Generator<RingDevice> {
  const primaries = order.affinity ? order.affinity.order(ring.primaries(part)) : ring.primaries(part);
  yield* order.limiter ? order.limiter.order(primaries) : primaries;
  let n = 0;
  for (const dev of ring.handoffs(part)) {
    if (n++ >= maxHandoffs) return;
    yield dev;
  }
}

/** What a writer's error limiter says of a device, and is told of its failures (error-limiter.ts). */
export interface DeviceHealth {
  limited(dev: RingDevice): boolean;
  failed(dev: RingDevice): void;
}

/**
 * Runs `attempt` for every primary in parallel; when one fails (throws, or resolves undefined) the next
 * unused device of `spares` takes that primary's place, until the spares run out. Resolves, per primary, with
 * the first success or undefined. The spares are shared, so no device is tried twice.
 *
 * With `health` (a writer's error limiter), every failure is counted against its device, and a limited device
 * is passed over: a limited primary for the next spare (it is tried only when no spare is left), a limited
 * spare for the one after it.
 */
export function withStandIns<T>(
  primaries: readonly RingDevice[],
  spares: Iterator<RingDevice>,
  attempt: (dev: RingDevice, i: number) => Promise<T | undefined>,
  health?: DeviceHealth,
): Promise<Array<T | undefined>> {
  const spare = (): RingDevice | undefined => {
    for (let n = spares.next(); !n.done; n = spares.next()) if (!health?.limited(n.value)) return n.value;
    return undefined;
  };
  return Promise.all(
    primaries.map(async (primary, i) => {
      let dev = health?.limited(primary) ? (spare() ?? primary) : primary;
      for (;;) {
        try {
          const done = await attempt(dev, i);
          if (done !== undefined) return done;
        } catch {
          // a stand-in takes over below
        }
        health?.failed(dev);
        const next = spare();
        if (next === undefined) return undefined;
        dev = next;
      }
    }),
  );
}

/**
 * Nodes a reader asks first (the proxy's `readAffinity`): devices on a node listed earlier come first, devices
 * on nodes not listed after them; among equals, ring order.
 */
export class ReadAffinity {
  readonly #byAddress: ReadonlyMap<string, number>;
  /** Each ring device's place, worked out once: a ring hands out the same device objects for every partition. */
  readonly #ranks = new WeakMap<RingDevice, number>();

  constructor(nodes: readonly string[]) {
    this.#byAddress = new Map(nodes.map((address, i) => [address, i]));
  }

  /** `devices` in this affinity's order (a new array; `devices` is left as it is). */
  order(devices: readonly RingDevice[]): RingDevice[] {
    // Array#sort is stable: devices of equal rank keep their ring order.
    return [...devices].sort((a, b) => this.#rank(a) - this.#rank(b));
  }

  #rank(d: RingDevice): number {
    let rank = this.#ranks.get(d);
    if (rank === undefined) {
      rank = this.#byAddress.get(`${d.ip}:${d.port}`) ?? this.#byAddress.size;
      this.#ranks.set(d, rank);
    }
    return rank;
  }
}

/**
 * The listing replica each object replica (or fragment archive) sends its listing update to, by its index
 * among `primaries`. One on the same node (ip and port) as a listing replica gets that one, so its update
 * needs no request between nodes (the node merges it itself); the others get the least-loaded of the rest,
 * in ring order. Each listing replica takes at most ⌊primaries ÷ targets⌋ (at least 1) of the same-node
 * pairs, so with at least as many primaries as targets every listing replica is still updated: with three
 * and three, each by exactly one object replica, as when Swift pairs them by index; with an EC policy's six
 * archives and three listing replicas, each by two. The answer has one entry per primary, in their order
 * (each undefined when there are no targets).
 */
export function pairListingUpdates<T extends { ip: string; port: number }>(primaries: ReadonlyArray<{ ip: string; port: number }>, targets: readonly T[]): T[] {
  if (targets.length === 0) return primaries.map(() => undefined as unknown as T);
  const cap = Math.max(1, Math.floor(primaries.length / targets.length));
  const load = targets.map(() => 0);
  const paired = primaries.map((p) => {
    const j = targets.findIndex((t, k) => load[k] < cap && t.ip === p.ip && t.port === p.port);
    if (j < 0) return undefined;
    load[j]++;
    return targets[j];
  });
  return paired.map((t) => {
    if (t) return t;
    let j = 0;
    for (let k = 1; k < targets.length; k++) if (load[k] < load[j]) j = k;
    load[j]++;
    return targets[j];
  });
}
