/**
 * What the policies need to know of the rings, as structural types so the proxy depends on the ring's
 * behaviour rather than its classes: a device's address and the partition → devices mapping.
 */
export interface RingDevice {
  id: number;
  region: number;
  zone: number;
  ip: string;
  port: number;
  device: string;
  weight: number;
}

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

/**
 * Primaries first, then as many handoffs as asked for, lazily: the order in which a reader or writer tries
 * the devices of a partition.
 */
export function* candidates(ring: PlacementRing, part: number, maxHandoffs: number): Generator<RingDevice> {
  yield* ring.primaries(part);
  let n = 0;
  for (const dev of ring.handoffs(part)) {
    if (n++ >= maxHandoffs) return;
    yield dev;
  }
}
