/**
 * The object replicator (Swift's object-replicator with ssync-style pushes) for replicated policies. For each
 * partition a local device holds:
 *
 * - **primary**: compare suffix hashes with the other primaries (one request per peer), recompute the local
 *   hashes of the suffixes that differ, then for each still differing suffix ask the peer for the newest
 *   version of each of its hash dirs and push every local version that is newer or missing there, as a sync
 *   write of exactly that file. Tombstones older than the reclaim age are removed once every primary holds
 *   them, something newer, or nothing at all for that object.
 * - **handoff** (not a primary, or no longer one after a ring change): push everything to the primaries the
 *   same way, and remove each local version once every primary acknowledged holding it or something newer;
 *   the partition dir goes when it is empty.
 *
 * Pushes only ever go from newer to older, so newest wins; a tombstone beats older data, and no push can
 * resurrect a deleted object because the receiver refuses any version older than what it holds.
 *
 * **Idle passes are cheap.** A primary partition whose every peer held exactly the same suffix hashes is
 * remembered as in sync, with a digest of its local hashes. At the start of each pass the replicator asks
 * each peer device once which partitions changed there since it last asked (`changes`: the peer's change
 * generation, and its epoch, new when it restarted or its device was wiped and made new). A partition is then
 * looked at only when its local hashes changed, a peer reports it changed, a peer's epoch changed (everything
 * is compared with that peer again), it holds tombstones old enough to reclaim, or it was not in sync. Every
 * `fullPassIntervalMs` (and after a ring change) a pass compares every partition with every peer whatever
 * they reported — Swift's every-pass behaviour — for what happened behind the caches' backs (files changed
 * or lost on disk with no write through a node).
 *
 * **Busy passes are cheap too.** The peers' answers to `changes` carry the suffix hashes of the partitions
 * they report, so after a burst of writes (every partition changed everywhere) a partition is compared with
 * what its peers reported at the start of the pass, without a request per partition and peer; only a
 * partition that differs (or that a peer did not report) is asked about, and its differing suffixes are
 * then read from the peer as they are now before anything is pushed.
 */

import { type PolicyConfig, parsePolicyName } from '../src/common/config.js';
import { formatTimestamp, type Timestamp } from '../src/common/timestamp.js';
import type { SuffixContents, SuffixHashes } from '../src/common/wire.js';
import { CorruptDataFileError, DeviceUnavailableError } from './disk-file.js';
import type { FsPartitions, HashDirRef, PartitionRef } from './fs-partitions.js';
import { parseFileName, parseSummary } from './hash-dir.js';
import { type LocalDevices, type NodeRing, type NodeRings, nextHandoff } from './node-rings.js';
import { Pacer, type QuietOptions } from './pacer.js';
import { PeerChanges, rescanEvery } from './peer-changes.js';
import type { PeerDevice, ReplicationClient } from './replication-client.js';
import { differingSuffixes, entrySummary, type HashDirEntry, hashMap, type SuffixEntry } from './suffix-hashes.js';

export interface ObjectReplicatorDeps {
  /** Devices this node serves. */
  devices: readonly string[];
  /** Configured policies; only `replica-N` ones are replicated here (EC has the reconstructor). */
  policies: readonly PolicyConfig[];
  partitions: FsPartitions;
  rings: NodeRings;
  self: LocalDevices;
  client: ReplicationClient;
  /** Seconds a tombstone is kept before it may be reclaimed. */
  reclaimAgeSec: number;
  /** Pacing per device: most partitions per second (0 = no cap) and tranquility. */
  maxPartitionsPerSec: number;
  tranquility: number;
  /** Yield to client writes between partitions (pacer.ts). */
  quiet?: QuietOptions;
  log: (line: string) => void;
  /**
   * Milliseconds between passes that compare every partition with every peer whatever changed (default 10
   * minutes; 0 = every pass, as before idle passes were cheap).
   */
  fullPassIntervalMs?: number;
  /** Milliseconds since the epoch (tests move time forward). */
  now?: () => number;
}

/** What one pass did. */
export interface ReplicationStats {
  /** Partitions looked at, as a primary and as a handoff. */
  primaryPartitions: number;
  handoffPartitions: number;
  /** Primary partitions left alone: unchanged here and on every peer since they were last found in sync. */
  unchangedPartitions: number;
  /** 1 when this pass compared every partition whatever changed (the periodic full pass), else 0. */
  fullPass: number;
  /** Peer devices asked which partitions changed there (also counted in `requests`). */
  changeRequests: number;
  /** Suffixes whose contents were compared with a peer. */
  suffixesSynced: number;
  /** Versions pushed to peers (data files and tombstones) and body bytes sent. */
  dataPushed: number;
  tombstonesPushed: number;
  /** `.meta` files pushed (metadata updates a peer missed). */
  metasPushed: number;
  bytesPushed: number;
  /** Versions removed from handoffs after every primary held them, and handoff partition dirs removed. */
  reverted: number;
  partitionsRemoved: number;
  /** Tombstones past the reclaim age removed. */
  reclaimed: number;
  /** Requests sent to peers, and those that failed (unreachable, timed out, refused). */
  requests: number;
  failures: number;
}

/** Suffixes compared per request for suffix contents (bounds memory per step). */
const suffixBatch = 16;

interface Peer {
  dev: PeerDevice;
  /** Suffix hashes of the peer; undefined when it did not answer. */
  hashes?: SuffixHashes;
  /** Local suffixes whose hash differs from the peer's. */
  differing: Set<string>;
}

/** Replicates the objects of replicated policies; `runOnce` is one pass over every local device. */
export class ObjectReplicator {
  readonly #now: () => number;
  readonly #changes: PeerChanges;
  #pass = 0;

  constructor(private readonly deps: ObjectReplicatorDeps) {
    this.#now = deps.now ?? Date.now;
    this.#changes = new PeerChanges(deps.client, { fullPassIntervalMs: deps.fullPassIntervalMs, now: deps.now });
  }

  /** One pass over every device, policy and partition; stops early (between partitions) when `signal` aborts. */
  async runOnce(signal?: AbortSignal): Promise<ReplicationStats> {
    this.#pass++;
    const stats: ReplicationStats = {
      primaryPartitions: 0,
      handoffPartitions: 0,
      unchangedPartitions: 0,
      fullPass: 0,
      changeRequests: 0,
      suffixesSynced: 0,
      dataPushed: 0,
      tombstonesPushed: 0,
      metasPushed: 0,
      bytesPushed: 0,
      reverted: 0,
      partitionsRemoved: 0,
      reclaimed: 0,
      requests: 0,
      failures: 0,
    };
    let reloaded = false;
    try {
      reloaded = this.deps.rings.reloadIfChanged();
      if (reloaded) this.deps.log('replicator: rings reloaded');
    } catch (err) {
      this.deps.log(`replicator: ring reload failed: ${(err as Error).message}`);
    }
    // A full pass compares everything again (and remembers anew what it finds in sync).
    if (this.#changes.startPass(reloaded)) stats.fullPass = 1;
    await Promise.all(this.deps.devices.map((device) => this.#device(device, stats, signal)));
    return stats;
  }

  async #device(device: string, stats: ReplicationStats, signal?: AbortSignal): Promise<void> {
    const pacer = new Pacer({ maxPerSec: this.deps.maxPartitionsPerSec, tranquility: this.deps.tranquility, quiet: this.deps.quiet });
    for (const policy of this.deps.policies) {
      if (parsePolicyName(policy.name)?.kind !== 'replica') continue;
      let ring: NodeRing;
      let partitions: number[];
      try {
        ring = this.deps.rings.object(policy.index);
        partitions = await this.deps.partitions.partitions(device, policy.index);
      } catch (err) {
        this.deps.log(`replicator: ${device} policy ${policy.index}: ${(err as Error).message}`);
        if (err instanceof DeviceUnavailableError) return;
        continue;
      }
      await this.#peerChanges(device, policy.index, ring, partitions, stats);
      for (const partition of partitions) {
        if (signal?.aborted) return;
        if (partition >= ring.partitionCount) {
          this.deps.log(`replicator: ${device} holds partition ${partition} of policy ${policy.index}, beyond its ring; left alone`);
          continue;
        }
        pacer.begin();
        try {
          await this.#partition({ device, policyIndex: policy.index, partition }, ring, stats);
        } catch (err) {
          this.deps.log(`replicator: ${device}/${policy.index}/${partition}: ${(err as Error).stack ?? err}`);
          if (err instanceof DeviceUnavailableError) return;
        }
        await pacer.end(signal);
      }
    }
  }

  /** Refreshes the peers' changes (PeerChanges.refresh) for the peer devices of the device's primary partitions. */
  async #peerChanges(device: string, policyIndex: number, ring: NodeRing, partitions: readonly number[], stats: ReplicationStats): Promise<void> {
    const peers: PeerDevice[] = [];
    for (const partition of partitions) {
      if (partition >= ring.partitionCount) continue;
      const primaries = ring.primaries(partition);
      if (!primaries.some((d) => this.deps.self.is(d, device))) continue;
      for (const d of primaries) if (!this.deps.self.is(d, device)) peers.push(d);
    }
    await this.#changes.refresh(device, policyIndex, peers, stats);
  }

  async #partition(ref: PartitionRef, ring: NodeRing, stats: ReplicationStats): Promise<void> {
    const primaries = ring.primaries(ref.partition);
    const isPrimary = primaries.some((d) => this.deps.self.is(d, ref.device));
    const rescan = (this.#pass + ref.partition) % rescanEvery === 0;
    let local = await this.deps.partitions.hashes(ref, { listdir: rescan || this.#changes.fullPass });
    if (isPrimary) stats.primaryPartitions++;
    else stats.handoffPartitions++;
    if (Object.keys(local).length === 0) {
      this.#changes.forget(ref);
      if (!isPrimary && (await this.deps.partitions.removePartitionIfEmpty(ref))) stats.partitionsRemoved++;
      return;
    }
    const cutoff = this.#reclaimCutoff();
    if (
      isPrimary &&
      this.#changes.unchanged(
        ref,
        local,
        primaries.filter((d) => !this.deps.self.is(d, ref.device)),
      ) &&
      !Object.values(local).some((e) => isReclaimable(e, cutoff))
    ) {
      stats.unchangedPartitions++;
      return;
    }

    // Ask every peer for its hashes, all at once; a primary whose device failed (507) is stood in for by a
    // handoff.
    const used = new Set(primaries.map((d) => d.id));
    let substituted = false;
    const localHashes = hashMap(local);
    const peers: Peer[] = await Promise.all(
      primaries
        .filter((dev) => !(isPrimary && this.deps.self.is(dev, ref.device)))
        .map(async (dev) => {
          const reported = this.#changes.reported(dev, ref, localHashes);
          let peer = reported ? this.#peerOf(dev, 200, reported, localHashes) : await this.#peer(dev, ref, localHashes, stats);
          while (isPrimary && peer.hashes === undefined && peer.status === 507) {
            const stand = nextHandoff(ring, ref.partition, used, this.deps.self);
            if (!stand) break;
            substituted = true;
            peer = await this.#peer(stand, ref, localHashes, stats);
          }
          if (peer.hashes === undefined) stats.failures++;
          return peer;
        }),
    );

    // Before pushing, make sure the local hashes of differing suffixes are not stale.
    const differing = new Set(peers.flatMap((p) => [...p.differing]));
    if (isPrimary && differing.size > 0) {
      local = await this.deps.partitions.hashes(ref, { recalculate: [...differing] });
      const recalculated = hashMap(local);
      for (const p of peers) if (p.hashes) p.differing = new Set(differingSuffixes(recalculated, p.hashes));
    }
    const allAnswered = peers.every((p) => p.hashes !== undefined);
    if (isPrimary) this.#changes.remember(ref, local, peers, !substituted, (line) => this.deps.log(`replicator: ${line}`));
    const work = Object.keys(local)
      .filter((s) => !isPrimary || peers.some((p) => p.differing.has(s)) || (allAnswered && !substituted && isReclaimable(local[s], cutoff)))
      .sort();

    for (let i = 0; i < work.length; i += suffixBatch) {
      const batch = work.slice(i, i + suffixBatch);
      const contents = await Promise.all(
        peers.map(async (p) => {
          const wanted = batch.filter((s) => p.differing.has(s));
          if (!p.hashes || wanted.length === 0) return {} as SuffixContents;
          stats.requests++;
          const got = await this.deps.client.suffixContents(p.dev, ref.policyIndex, ref.partition, wanted);
          if (!got) stats.failures++;
          return got;
        }),
      );
      for (const suffix of batch) {
        if (peers.some((p) => p.differing.has(suffix))) stats.suffixesSynced++;
        for (const entry of await this.deps.partitions.listSuffix(ref, suffix)) {
          const summary = entrySummary(entry);
          if (summary === undefined) continue;
          let heldByAll = true;
          for (const [k, p] of peers.entries()) {
            const c = contents[k];
            if (!p.hashes || !c) heldByAll = false;
            else if (p.differing.has(suffix)) heldByAll = (await this.#settle(ref, suffix, entry, p.dev, c[suffix]?.[entry.hash], cutoff, stats)) && heldByAll;
          }
          if (!heldByAll || !allAnswered) continue;
          const hashRef = { ...ref, suffix, hash: entry.hash };
          if (!isPrimary) {
            if (await this.deps.partitions.removeVersion(hashRef, summary)) stats.reverted++;
          } else if (!substituted && isOldTombstone(summary, cutoff)) {
            if (await this.deps.partitions.removeVersion(hashRef, summary)) stats.reclaimed++;
          }
        }
      }
    }
    if (!isPrimary && allAnswered && (await this.deps.partitions.removePartitionIfEmpty(ref))) stats.partitionsRemoved++;
  }

  async #peer(dev: PeerDevice, ref: PartitionRef, localHashes: SuffixHashes, stats: ReplicationStats): Promise<Peer & { status: number }> {
    stats.requests++;
    const { status, hashes } = await this.deps.client.hashes(dev, ref.policyIndex, ref.partition);
    if (!hashes) {
      this.deps.log(`replicator: ${dev.ip}:${dev.port}/${dev.device} partition ${ref.partition}: hashes request failed (${status || 'unreachable'})`);
      return { dev, status, differing: new Set() };
    }
    return this.#peerOf(dev, status, hashes, localHashes);
  }

  #peerOf(dev: PeerDevice, status: number, hashes: SuffixHashes, localHashes: SuffixHashes): Peer & { status: number } {
    return { dev, status, hashes, differing: new Set(differingSuffixes(localHashes, hashes)) };
  }

  /**
   * Makes sure the peer holds the local version `entry` (or something newer), and the `.meta` applying to it:
   * pushes what the peer's state (`remote`, a SuffixContents summary) lacks — the data file or tombstone,
   * then the `.meta` — unless the version is a tombstone past the reclaim age for an object the peer does not
   * have at all. True when the peer holds it all afterwards.
   */
  async #settle(ref: PartitionRef, suffix: string, entry: HashDirEntry, peer: PeerDevice, remote: string | undefined, cutoff: Timestamp, stats: ReplicationStats): Promise<boolean> {
    const mine = entry.newest === undefined ? undefined : parseFileName(entry.newest);
    if (!mine) return false;
    const myMetaTs = entry.meta === undefined ? undefined : parseFileName(entry.meta)?.ts;
    const theirs = parseSummary(remote);
    if (theirs && theirs.ts > mine.ts) return true;
    if (!theirs && mine.kind === 'tombstone' && mine.ts < cutoff) return true;
    const hashRef = { ...ref, suffix, hash: entry.hash };
    const needsVersion = !theirs || theirs.ts < mine.ts;
    if (needsVersion && !(await this.#pushVersion(hashRef, entry, peer, stats))) return false;
    if (myMetaTs === undefined || (!needsVersion && theirs?.metaTs !== undefined && theirs.metaTs >= myMetaTs)) return true;
    return this.#pushMeta(hashRef, entry.meta!, peer, stats);
  }

  /** Pushes the local data file or tombstone `entry.newest` to the peer; true when the peer holds it (or newer). */
  async #pushVersion(hashRef: HashDirRef, entry: HashDirEntry, peer: PeerDevice, stats: ReplicationStats): Promise<boolean> {
    let opened: Awaited<ReturnType<FsPartitions['openVersion']>>;
    try {
      opened = await this.deps.partitions.openVersion(hashRef, entry.newest!);
    } catch (err) {
      if (!(err instanceof CorruptDataFileError)) throw err;
      // The auditor quarantines it; a good copy comes back from a peer.
      this.deps.log(`replicator: not pushing ${err.message}`);
      return false;
    }
    if (!opened) return false; // replaced meanwhile: the next pass pushes the new version
    stats.requests++;
    let status: number;
    if (opened.kind === 'data') {
      const size = opened.file.size;
      status = await this.deps.client.pushData(peer, hashRef.policyIndex, hashRef.partition, opened.file);
      if (status === 201) {
        stats.dataPushed++;
        stats.bytesPushed += size;
      }
    } else {
      status = await this.deps.client.pushTombstone(peer, hashRef.policyIndex, hashRef.partition, opened.name, opened.ts);
      if (status === 204 || status === 404) stats.tombstonesPushed++;
    }
    // 409: the peer already has this version or a newer one.
    if (status === 201 || status === 204 || status === 404 || status === 409) return true;
    stats.failures++;
    this.deps.log(`replicator: pushing ${hashRef.suffix}/${hashRef.hash}/${entry.newest} to ${peer.ip}:${peer.port}/${peer.device}: ${status || 'unreachable'}`);
    return false;
  }

  /** Pushes the local `.meta` file to the peer (a sync POST); true when the peer holds it (or newer). */
  async #pushMeta(hashRef: HashDirRef, file: string, peer: PeerDevice, stats: ReplicationStats): Promise<boolean> {
    const content = await this.deps.partitions.readMeta(hashRef, file);
    if (!content) return false;
    stats.requests++;
    const status = await this.deps.client.pushMeta(peer, hashRef.policyIndex, hashRef.partition, content);
    if (status === 202) stats.metasPushed++;
    if (status === 202 || status === 409) return true;
    stats.failures++;
    this.deps.log(`replicator: pushing ${hashRef.suffix}/${hashRef.hash}/${file} to ${peer.ip}:${peer.port}/${peer.device}: ${status || 'unreachable'}`);
    return false;
  }

  #reclaimCutoff(): Timestamp {
    return formatTimestamp(BigInt(Math.max(0, this.#now() - this.deps.reclaimAgeSec * 1000)) * 1000n);
  }
}

function isReclaimable(entry: SuffixEntry | undefined, cutoff: Timestamp): boolean {
  return entry?.oldestTombstone !== undefined && entry.oldestTombstone < cutoff;
}

function isOldTombstone(summary: string, cutoff: Timestamp): boolean {
  const v = parseSummary(summary);
  return v?.kind === 'tombstone' && v.ts < cutoff;
}
