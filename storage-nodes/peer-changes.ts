/**
 * What a partition walker (the object replicator, the EC reconstructor) knows of its peers between passes, so
 * that a pass compares only what changed (docs/repair.md, "Idle passes"):
 *
 * - **feeds**: per local device and policy, each peer device's epoch and change generation as last asked
 *   (`changes`), and this pass's answer: a digest of the suffix hashes of each partition that changed there;
 * - **in sync**: per local device and policy, each partition last found in sync — the digest of its local
 *   hashes then, and the peers that held exactly the same.
 *
 * A partition is left alone while its local hashes have the same digest and every peer of it is still in its
 * record: a peer drops out of a partition's record when it reports that partition changed, and out of every
 * record when its epoch changes (it restarted, or its device was wiped and made new) or its device failed.
 * Every `fullPassIntervalMs` everything is forgotten, so a full pass compares every partition with every peer
 * for what happened behind the caches' backs.
 */
import type { SuffixHashes } from '../src/common/wire.js';
import type { PartitionRef } from './fs-partitions.js';
import type { PeerDevice, ReplicationClient } from './replication-client.js';
import { hashesDigest, hashMap, type SuffixEntry } from './suffix-hashes.js';

/** Default of `fullPassIntervalMs`. */
export const defaultFullPassIntervalMs = 10 * 60 * 1000;

/**
 * One pass in this many per partition lists the partition's dir (SuffixHashOptions.listdir), catching what
 * changed behind the node's back; the reconstructor then also walks each of its suffixes.
 */
export const rescanEvery = 10;

/** The counters a pass keeps that PeerChanges adds to. */
export interface FeedStats {
  requests: number;
  failures: number;
  /** Peer devices asked which partitions changed there (also counted in `requests`). */
  changeRequests: number;
}

interface PeerFeed {
  epoch: string;
  gen: number;
  /** This pass's `changes` answer: by partition, the digest of the suffix hashes the peer held then. */
  digests: Record<string, string>;
  /** The answer listed every partition the peer held (a full pass asks so): one not in `digests` is empty there. */
  complete: boolean;
}

interface InSync {
  local: string;
  peers: Set<string>;
}

export function peerKey(dev: PeerDevice): string {
  return `${dev.ip}:${dev.port}/${dev.device}`;
}

export class PeerChanges {
  readonly #now: () => number;
  readonly #fullPassIntervalMs: number;
  #lastFull = Number.NEGATIVE_INFINITY;
  /** The pass running is a full one: its `changes` requests ask for every partition's digest. */
  #full = false;
  /** By `device/policy`, then peer key. */
  readonly #feeds = new Map<string, Map<string, PeerFeed>>();
  /** By `device/policy`, then partition. */
  readonly #inSync = new Map<string, Map<number, InSync>>();

  constructor(
    private readonly client: ReplicationClient,
    opts: { fullPassIntervalMs?: number; now?: () => number } = {},
  ) {
    this.#now = opts.now ?? Date.now;
    this.#fullPassIntervalMs = opts.fullPassIntervalMs ?? defaultFullPassIntervalMs;
  }

  /** The pass running is a full one. */
  get fullPass(): boolean {
    return this.#full;
  }

  /** Starts a pass: true when it is a full one (forced, or the interval passed), which forgets every record. */
  startPass(forceFull = false): boolean {
    const now = this.#now();
    this.#full = forceFull || this.#fullPassIntervalMs <= 0 || now - this.#lastFull >= this.#fullPassIntervalMs;
    if (!this.#full) return false;
    this.#inSync.clear();
    this.#lastFull = now;
    return true;
  }

  /**
   * Asks each of `peers` (peer devices of the local device's partitions of the policy) which partitions
   * changed there since it was last asked, with the digests of their suffix hashes (in a full pass: every
   * partition it holds, so the pass needs no request per partition either), and forgets that those are in
   * sync with it; a peer with a new epoch or a failed device (507) is forgotten for every partition. A peer
   * that does not answer keeps its records: it reports its changes once it answers again, and the partitions
   * changed here are compared with it meanwhile (and fail).
   */
  async refresh(device: string, policyIndex: number, peers: Iterable<PeerDevice>, stats: FeedStats): Promise<void> {
    const scope = `${device}/${policyIndex}`;
    let feeds = this.#feeds.get(scope);
    if (!feeds) this.#feeds.set(scope, (feeds = new Map()));
    const records = this.#inSync.get(scope);
    const byKey = new Map<string, PeerDevice>();
    for (const dev of peers) byKey.set(peerKey(dev), dev);
    await Promise.all(
      [...byKey].map(async ([key, dev]) => {
        const last = feeds.get(key);
        stats.requests++;
        stats.changeRequests++;
        const { status, changes } = await this.client.changes(dev, policyIndex, last?.gen ?? 0, { digests: true, all: this.#full });
        if (!changes) {
          stats.failures++;
          if (last) {
            last.digests = {};
            last.complete = false;
          }
          if (status === 507) {
            feeds.delete(key);
            for (const r of records?.values() ?? []) r.peers.delete(key);
          }
          return;
        }
        if (last?.epoch !== changes.epoch) {
          for (const r of records?.values() ?? []) r.peers.delete(key);
        } else {
          for (const p of changes.partitions) records?.get(p)?.peers.delete(key);
        }
        feeds.set(key, { epoch: changes.epoch, gen: changes.gen, digests: changes.digests ?? {}, complete: changes.complete === true });
      }),
    );
  }

  /** True when the partition was found in sync with every one of `peers` and its local hashes did not change since. */
  unchanged(ref: PartitionRef, local: Record<string, SuffixEntry>, peers: readonly PeerDevice[]): boolean {
    const record = this.#inSync.get(`${ref.device}/${ref.policyIndex}`)?.get(ref.partition);
    return record !== undefined && record.local === this.#digest(local) && peers.every((d) => record.peers.has(peerKey(d)));
  }

  /**
   * `localHashes` when the peer's `changes` answer of this pass reported the same for the partition (the same
   * digest; a partition a complete answer did not list is empty there); otherwise undefined: ask the peer.
   * An answer that differs is not taken: it dates from the start of the device's pass, and during writes it
   * misses what both sides took since (a pass during a burst of small PUTs would sync 750–850 suffixes per
   * node that every replica held; docs/repair.md, "Busy passes").
   */
  reported(dev: PeerDevice, ref: PartitionRef, localHashes: SuffixHashes): SuffixHashes | undefined {
    const feed = this.#feeds.get(`${ref.device}/${ref.policyIndex}`)?.get(peerKey(dev));
    if (!feed) return undefined;
    const digest = feed.digests[ref.partition] ?? (feed.complete ? hashesDigest(noHashes) : undefined);
    return digest !== undefined && digest === hashesDigest(localHashes) ? localHashes : undefined;
  }

  /**
   * Records which of `peers` hold exactly the local hashes (nothing when `keep` is false: a handoff stood in
   * for a failed primary). A peer that answers with nothing for a partition it held in sync lost it without a
   * new epoch (its files went behind its node's back): every partition is compared with it again.
   */
  remember(
    ref: PartitionRef,
    local: Record<string, SuffixEntry>,
    peers: ReadonlyArray<{ dev: PeerDevice; hashes?: SuffixHashes }>,
    keep: boolean,
    log: (line: string) => void,
  ): void {
    const scope = `${ref.device}/${ref.policyIndex}`;
    let records = this.#inSync.get(scope);
    if (!records) this.#inSync.set(scope, (records = new Map()));
    const record = records.get(ref.partition);
    const inSync = new Set<string>();
    const mine = hashMap(local);
    for (const p of peers) {
      if (!p.hashes) continue;
      const key = peerKey(p.dev);
      if (sameHashes(mine, p.hashes)) inSync.add(key);
      else if (record?.peers.has(key) && Object.keys(p.hashes).length === 0) {
        log(`${p.dev.ip}:${p.dev.port}/${p.dev.device} lost partition ${ref.partition}: comparing every partition with it`);
        for (const r of records.values()) r.peers.delete(key);
      }
    }
    if (!keep || inSync.size === 0) records.delete(ref.partition);
    else records.set(ref.partition, { local: this.#digest(local), peers: inSync });
  }

  /** Forgets what was known of a partition (it is gone here). */
  forget(ref: PartitionRef): void {
    this.#inSync.get(`${ref.device}/${ref.policyIndex}`)?.delete(ref.partition);
  }

  #digest(local: Record<string, SuffixEntry>): string {
    return hashesDigest(hashMap(local));
  }
}

/** The hashes of a partition that holds nothing. */
const noHashes: SuffixHashes = Object.freeze({});

function sameHashes(a: SuffixHashes, b: SuffixHashes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((s) => a[s] === b[s]);
}
