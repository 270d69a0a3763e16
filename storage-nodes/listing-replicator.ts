/**
 * The listing replicator (Swift's container and account replicators, with its incoming/outgoing sync points).
 * Each replica of a listing numbers its own changes (`seq`: every row, info or metadata change); a peer
 * records, per listing, up to which change of each replica it has merged. A pass, per partition held locally
 * and per ring (account listings by the account ring, container listings by the container ring):
 *
 * 1. one `sync` request per peer asks those points for up to 256 listings at once, with each listing's latest
 *    change and digest: a peer that holds the same rows and info (the same digest; listing-merge.ts) records
 *    that change as merged and answers it. Every row reaches each replica directly when the proxy's or the
 *    object server's update does, so after a burst of writes this is the common case, as in Swift;
 * 2. for every listing where a peer is behind, the changes after its point go to it in batches of rows
 *    (with the info and metadata), and the peer records the new point — so repeated passes send only what is
 *    new, and an unchanged partition costs one small request per peer;
 * 3. a handoff (a device that is not a primary for the partition) removes a listing once every primary has
 *    merged all of its changes; a primary reclaims deleted rows past the reclaim age once every other primary
 *    has merged them.
 *
 * Merging is idempotent (newest timestamp per row name, per metadata key; newest create and delete), so a
 * lost point or a batch sent twice costs only traffic.
 */
import { formatTimestamp, type Timestamp } from '../src/common/timestamp.js';
import type { ListingSyncRequest } from '../src/common/wire.js';
import { DeviceUnavailableError } from './disk-file.js';
import type { ListingRef, ListingStore, ListingSyncState } from './listing-store.js';
import type { LocalDevices, NodeRing, NodeRings } from './node-rings.js';
import { Pacer, type QuietOptions } from './pacer.js';
import type { PeerDevice, ReplicationClient } from './replication-client.js';

export interface ListingReplicatorDeps {
  devices: readonly string[];
  listings: ListingStore;
  rings: NodeRings;
  self: LocalDevices;
  client: ReplicationClient;
  /** Seconds a deleted row is kept before it may be reclaimed. */
  reclaimAgeSec: number;
  maxPartitionsPerSec: number;
  tranquility: number;
  /** Yield to client writes between partitions (pacer.ts). */
  quiet?: QuietOptions;
  log: (line: string) => void;
  /** Milliseconds since the epoch (tests move time forward). */
  now?: () => number;
}

/** What one pass did. */
export interface ListingReplicationStats {
  /** Partitions looked at, as a primary and as a handoff (a partition may count once per ring). */
  primaryPartitions: number;
  handoffPartitions: number;
  /** Listings looked at. */
  listings: number;
  /** Batches of changes and rows sent. */
  batchesPushed: number;
  rowsPushed: number;
  /** Listings removed from handoffs after every primary merged them. */
  removed: number;
  /** Deleted rows reclaimed. */
  reclaimed: number;
  /** Requests sent to peers, and those that failed. */
  requests: number;
  failures: number;
}

/** Listings asked about per sync request. */
const listingsPerSync = 256;
/** Rows per replicate batch. */
const rowsPerBatch = 1000;

/** Replicates account and container listings; `runOnce` is one pass over every local device. */
export class ListingReplicator {
  readonly #now: () => number;

  constructor(private readonly deps: ListingReplicatorDeps) {
    this.#now = deps.now ?? Date.now;
  }

  async runOnce(signal?: AbortSignal): Promise<ListingReplicationStats> {
    const stats: ListingReplicationStats = { primaryPartitions: 0, handoffPartitions: 0, listings: 0, batchesPushed: 0, rowsPushed: 0, removed: 0, reclaimed: 0, requests: 0, failures: 0 };
    try {
      if (this.deps.rings.reloadIfChanged()) this.deps.log('listing replicator: rings reloaded');
    } catch (err) {
      this.deps.log(`listing replicator: ring reload failed: ${(err as Error).message}`);
    }
    await Promise.all(this.deps.devices.map((device) => this.#device(device, stats, signal)));
    return stats;
  }

  async #device(device: string, stats: ListingReplicationStats, signal?: AbortSignal): Promise<void> {
    const pacer = new Pacer({ maxPerSec: this.deps.maxPartitionsPerSec, tranquility: this.deps.tranquility, quiet: this.deps.quiet });
    let partitions: number[];
    try {
      partitions = await this.deps.listings.partitions(device);
    } catch (err) {
      this.deps.log(`listing replicator: ${device}: ${(err as Error).message}`);
      return;
    }
    for (const partition of partitions) {
      if (signal?.aborted) return;
      pacer.begin();
      try {
        await this.#partition(device, partition, stats);
      } catch (err) {
        this.deps.log(`listing replicator: ${device}/${partition}: ${(err as Error).stack ?? err}`);
        if (err instanceof DeviceUnavailableError) return;
      }
      await pacer.end(signal);
    }
  }

  async #partition(device: string, partition: number, stats: ListingReplicationStats): Promise<void> {
    const seen = { account: false, container: false };
    let after: ListingRef | undefined;
    for (;;) {
      const refs = await this.deps.listings.listingsIn(device, partition, listingsPerSync, after);
      if (refs.length === 0) break;
      after = refs[refs.length - 1];
      for (const kind of ['account', 'container'] as const) {
        const group = refs.filter((r) => (r.bucket === undefined) === (kind === 'account'));
        if (group.length === 0) continue;
        let ring: NodeRing;
        try {
          ring = this.deps.rings[kind];
        } catch (err) {
          this.deps.log(`listing replicator: no ${kind} ring: ${(err as Error).message}`);
          continue;
        }
        if (partition >= ring.partitionCount) {
          this.deps.log(`listing replicator: ${device} holds ${kind} partition ${partition}, beyond its ring; left alone`);
          continue;
        }
        const isPrimary = await this.#group(device, partition, ring, group, stats);
        if (!seen[kind]) {
          seen[kind] = true;
          if (isPrimary) stats.primaryPartitions++;
          else stats.handoffPartitions++;
        }
      }
    }
  }

  /** Syncs listings of one partition and ring with the ring's primaries; returns whether this device is one. */
  async #group(device: string, partition: number, ring: NodeRing, group: ListingRef[], stats: ListingReplicationStats): Promise<boolean> {
    const primaries = ring.primaries(partition);
    const isPrimary = primaries.some((d) => this.deps.self.is(d, device));
    const peers = primaries.filter((d) => !this.deps.self.is(d, device));
    const listings: Array<{ ref: ListingRef; state: ListingSyncState; points: Array<number | undefined> }> = [];
    for (const ref of group) {
      const state = await this.deps.listings.syncState(ref);
      if (state) listings.push({ ref, state, points: [] });
    }
    stats.listings += listings.length;
    if (listings.length === 0) return isPrimary;

    for (const [k, peer] of peers.entries()) {
      stats.requests++;
      const answer = await this.deps.client.listingSync(peer, partition, {
        listings: listings.map((l) => syncEntry(l.ref, l.state)),
      });
      if (!answer) {
        stats.failures++;
        this.deps.log(`listing replicator: ${peer.ip}:${peer.port}/${peer.device} partition ${partition}: sync request failed`);
        continue;
      }
      for (const [i, l] of listings.entries()) {
        const point = answer.points[i];
        l.points[k] = point >= l.state.seq ? point : await this.#push(l.ref, l.state.id, peer, point, stats);
      }
    }

    const cutoff = this.#reclaimCutoff();
    for (const l of listings) {
      const points = peers.map((_, k) => l.points[k]);
      if (points.some((p) => p === undefined)) continue;
      if (!isPrimary) {
        // Gone only if nothing changed since every primary merged it all.
        if (await this.deps.listings.removeListing(l.ref, Math.min(...(points as number[])))) stats.removed++;
      } else {
        // With no other replica (replica-1) there is nobody to wait for.
        const merged = peers.length === 0 ? undefined : Math.min(...(points as number[]));
        stats.reclaimed += await this.deps.listings.reclaim(l.ref, cutoff, merged);
      }
    }
    return isPrimary;
  }

  /** Sends the listing's changes after `since` to `peer`; resolves to the point reached, undefined on failure. */
  async #push(ref: ListingRef, id: string, peer: PeerDevice, since: number, stats: ListingReplicationStats): Promise<number | undefined> {
    let cursor = since;
    for (;;) {
      const changes = await this.deps.listings.changesSince(ref, cursor, rowsPerBatch);
      if (!changes) return undefined; // removed meanwhile
      stats.requests++;
      const status = await this.deps.client.listingReplicate(peer, ref.partition, ref.account, ref.bucket, { id, upTo: changes.upTo, info: changes.info, rows: changes.rows });
      if (status !== 204) {
        stats.failures++;
        this.deps.log(`listing replicator: replicating /${ref.account}${ref.bucket === undefined ? '' : `/${ref.bucket}`} to ${peer.ip}:${peer.port}/${peer.device}: ${status || 'unreachable'}`);
        return undefined;
      }
      stats.batchesPushed++;
      stats.rowsPushed += changes.rows.length;
      cursor = changes.upTo;
      if (!changes.more) return cursor;
      // Between batches, compare digests again: the rows being sent may have reached the peer directly
      // meanwhile (a push begun while writes were still arriving on every replica ends once they stop).
      const caught = await this.#caughtUp(ref, id, peer, stats);
      if (caught !== undefined) return caught;
    }
  }

  /** The peer's point for the listing when its digest now equals ours (it then holds every change of ours). */
  async #caughtUp(ref: ListingRef, id: string, peer: PeerDevice, stats: ListingReplicationStats): Promise<number | undefined> {
    const state = await this.deps.listings.syncState(ref);
    if (state?.digest === undefined || state.id !== id) return undefined;
    stats.requests++;
    const answer = await this.deps.client.listingSync(peer, ref.partition, { listings: [syncEntry(ref, state)] });
    const point = answer?.points[0];
    return point !== undefined && point >= state.seq ? point : undefined;
  }

  #reclaimCutoff(): Timestamp {
    return formatTimestamp(BigInt(Math.max(0, this.#now() - this.deps.reclaimAgeSec * 1000)) * 1000n);
  }
}

/** A listing as a `?sync` request names it: the listing, this replica's id, its latest change and digest. */
function syncEntry(ref: ListingRef, state: ListingSyncState): ListingSyncRequest['listings'][number] {
  return { account: ref.account, bucket: ref.bucket, id: state.id, seq: state.seq, digest: state.digest };
}
