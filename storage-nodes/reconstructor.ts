/**
 * The object reconstructor (Swift's object-reconstructor) for erasure-coded policies. For each EC partition
 * of each local device — every partition dir on disk, and every partition the ring makes the device a
 * primary of (a wiped or new device holds no dirs yet):
 *
 * - **primary** of fragment index i: compare suffix hashes with the other primaries (they hash a hash dir's
 *   state without its fragment index, so primaries in sync hash alike); for the suffixes that differ, fetch
 *   the peers' inventories (state and name of each object) and settle each object:
 *   - a newer tombstone elsewhere: write it here (the name comes with the inventory);
 *   - newer durable data elsewhere: if a pending archive i of that version is here, mark it durable (its
 *     commit did not reach this node); otherwise **rebuild archive i**: fetch k archives of the version from
 *     the other primaries, decode segment by segment (`reconstruct`), and write the result here as a
 *     durable sync PUT;
 *   - the same version with an older (or no) `.meta` on a peer: push the local `.meta` (sync POST).
 *   Pending archives older than the reclaim age (writes whose commit never came) are removed; tombstones
 *   older than it, once every primary holds them or nothing of the object. Every tenth pass also walks the
 *   whole partition for archives of indexes this device is not the primary of.
 * - **handoff** (or an archive index the device is not primary of): push each archive as it is — no
 *   rebuild — to the primary of its index, with its `.meta`, and remove it once that primary holds it or
 *   something newer; tombstones go to every primary first. Pending archives older than the reclaim age go.
 *
 * Each node only ever rebuilds its own archives, so no two nodes do the same work; a corrupt archive the
 * auditor quarantined is rebuilt like a missing one.
 */
import { Readable } from 'node:stream';
import { type PolicyConfig, parsePolicyName } from '../src/common/config.js';
import { ExactReader } from '../src/common/exact-reader.js';
import { formatTimestamp, type Timestamp } from '../src/common/timestamp.js';
import type { ObjectMeta, SuffixHashes, SuffixInventory } from '../src/common/wire.js';
import { createXxh64 } from '../src/common/xxh64.js';
import { createCodec, type ErasureCodec, segments } from '../src/erasure/index.js';
import type { Device } from '../ring/index.js';
import { CorruptDataFileError, DeviceUnavailableError } from './disk-file.js';
import { archiveInfo } from './fragments.js';
import type { FsDiskFiles } from './fs-disk-file.js';
import type { FsPartitions, HashDirRef, PartitionRef } from './fs-partitions.js';
import { parseFileName, parseSummary, type SummaryParts } from './hash-dir.js';
import type { LocalDevices, NodeRing, NodeRings } from './node-rings.js';
import { Pacer, type QuietOptions } from './pacer.js';
import { PeerChanges, rescanEvery } from './peer-changes.js';
import type { PeerDevice, ReplicationClient } from './replication-client.js';
import { entrySummary, type HashDirEntry, hashMap, type SuffixEntry } from './suffix-hashes.js';

export interface ObjectReconstructorDeps {
  devices: readonly string[];
  /** Configured policies; only `ec-K+M` ones are reconstructed here. */
  policies: readonly PolicyConfig[];
  files: FsDiskFiles;
  partitions: FsPartitions;
  rings: NodeRings;
  self: LocalDevices;
  client: ReplicationClient;
  /** Seconds before a pending archive (no commit came) or a tombstone may be reclaimed. */
  reclaimAgeSec: number;
  maxPartitionsPerSec: number;
  tranquility: number;
  /** Yield to client writes between partitions (pacer.ts). */
  quiet?: QuietOptions;
  log: (line: string) => void;
  /**
   * Milliseconds between passes that compare every partition with every peer whatever changed (default 10
   * minutes; 0 = every pass).
   */
  fullPassIntervalMs?: number;
  /** Milliseconds since the epoch (tests move time forward). */
  now?: () => number;
}

/** What one pass did. */
export interface ReconstructionStats {
  primaryPartitions: number;
  handoffPartitions: number;
  /** Primary partitions left alone: unchanged here and on the peers compared since they were last found in sync. */
  unchangedPartitions: number;
  /** 1 when this pass compared every partition whatever changed (the periodic full pass), else 0. */
  fullPass: number;
  /** Peer devices asked which partitions changed there (also counted in `requests`). */
  changeRequests: number;
  /** Suffixes whose inventories were compared with a peer. */
  suffixesSynced: number;
  /** Archives rebuilt from k others, and their bytes. */
  rebuilt: number;
  bytesRebuilt: number;
  /** Pending archives marked durable because a peer held the version durable. */
  madeDurable: number;
  /** Tombstones written here because a peer held them. */
  tombstonesPulled: number;
  /** Archives handed over to their primary and removed here. */
  reverted: number;
  tombstonesPushed: number;
  metasPushed: number;
  /** Pending archives removed after the reclaim age, and tombstones reclaimed. */
  pendingReclaimed: number;
  tombstonesReclaimed: number;
  partitionsRemoved: number;
  requests: number;
  failures: number;
}

const suffixBatch = 16;
/** The suffix entries of a partition that holds nothing (one object, so PeerChanges digests it once). */
const noEntries: Record<string, SuffixEntry> = Object.freeze({});
/** Suffixes of a batch settled at once (each may rebuild archives). */
const suffixConcurrency = 4;

/** One other primary of a partition, with what it said. */
interface Peer {
  dev: Device;
  /** Its fragment index (its place among the primaries). */
  index: number;
  hashes?: SuffixHashes;
  /** Suffixes whose hash differs from the local one (either side may lack it). */
  differing: Set<string>;
}

export class ObjectReconstructor {
  #pass = 0;
  readonly #now: () => number;
  readonly #codecs = new Map<string, ErasureCodec>();
  readonly #changes: PeerChanges;

  constructor(private readonly deps: ObjectReconstructorDeps) {
    this.#now = deps.now ?? Date.now;
    this.#changes = new PeerChanges(deps.client, { fullPassIntervalMs: deps.fullPassIntervalMs, now: deps.now });
  }

  async runOnce(signal?: AbortSignal): Promise<ReconstructionStats> {
    this.#pass++;
    const stats: ReconstructionStats = {
      primaryPartitions: 0,
      handoffPartitions: 0,
      unchangedPartitions: 0,
      fullPass: 0,
      changeRequests: 0,
      suffixesSynced: 0,
      rebuilt: 0,
      bytesRebuilt: 0,
      madeDurable: 0,
      tombstonesPulled: 0,
      reverted: 0,
      tombstonesPushed: 0,
      metasPushed: 0,
      pendingReclaimed: 0,
      tombstonesReclaimed: 0,
      partitionsRemoved: 0,
      requests: 0,
      failures: 0,
    };
    let reloaded = false;
    try {
      reloaded = this.deps.rings.reloadIfChanged();
      if (reloaded) this.deps.log('reconstructor: rings reloaded');
    } catch (err) {
      this.deps.log(`reconstructor: ring reload failed: ${(err as Error).message}`);
    }
    if (this.#changes.startPass(reloaded)) stats.fullPass = 1;
    await Promise.all(this.deps.devices.map((device) => this.#device(device, stats, signal)));
    return stats;
  }

  async #device(device: string, stats: ReconstructionStats, signal?: AbortSignal): Promise<void> {
    const pacer = new Pacer({ maxPerSec: this.deps.maxPartitionsPerSec, tranquility: this.deps.tranquility, quiet: this.deps.quiet });
    for (const policy of this.deps.policies) {
      const code = parsePolicyName(policy.name);
      if (code?.kind !== 'ec') continue;
      let ring: NodeRing;
      let partitions: number[];
      let held: ReadonlySet<number>;
      try {
        ring = this.deps.rings.object(policy.index);
        held = new Set(await this.deps.partitions.partitions(device, policy.index));
        partitions = [...new Set([...held, ...this.#primaryPartitions(ring, device)])].sort((a, b) => a - b);
      } catch (err) {
        this.deps.log(`reconstructor: ${device} policy ${policy.index}: ${(err as Error).message}`);
        if (err instanceof DeviceUnavailableError) return;
        continue;
      }
      const peers = partitions.flatMap((p) => {
        const primaries = p < ring.partitionCount ? ring.primaries(p) : [];
        return primaries.some((d) => this.deps.self.is(d, device)) ? primaries.filter((d) => !this.deps.self.is(d, device)) : [];
      });
      await this.#changes.refresh(device, policy.index, peers, stats);
      for (const partition of partitions) {
        if (signal?.aborted) return;
        if (partition >= ring.partitionCount) continue;
        pacer.begin();
        try {
          await this.#partition({ device, policyIndex: policy.index, partition }, ring, code, stats, held.has(partition));
        } catch (err) {
          this.deps.log(`reconstructor: ${device}/${policy.index}/${partition}: ${(err as Error).stack ?? err}`);
          if (err instanceof DeviceUnavailableError) return;
        }
        await pacer.end(signal);
      }
    }
  }

  /** Partitions of which the ring makes `device` a primary. */
  #primaryPartitions(ring: NodeRing, device: string): number[] {
    const out: number[] = [];
    for (let p = 0; p < ring.partitionCount; p++) if (ring.primaries(p).some((d) => this.deps.self.is(d, device))) out.push(p);
    return out;
  }

  /** `held`: the partition's dir was there when the pass listed the device's partitions of the policy. */
  async #partition(ref: PartitionRef, ring: NodeRing, code: { k: number; m: number }, stats: ReconstructionStats, held: boolean): Promise<void> {
    const primaries = ring.primaries(ref.partition);
    const mine = new Set(primaries.flatMap((d, i) => (this.deps.self.is(d, ref.device) ? [i] : [])));
    const rescan = (this.#pass + ref.partition) % rescanEvery === 0;
    if (mine.size === 0) {
      stats.handoffPartitions++;
      await this.#revertPartition(ref, primaries, mine, stats);
      if (await this.deps.partitions.removePartitionIfEmpty(ref)) stats.partitionsRemoved++;
      return;
    }
    stats.primaryPartitions++;
    // Other devices of this node are peers like any other (asked through this node's own server): with
    // several devices per node, skipping them would leave fewer than k sources after two losses.
    const others = [...primaries.entries()].filter(([index]) => !mine.has(index));
    // A partition the device held nothing of when the pass listed it, found in sync (empty) with its first m
    // peers since: nothing to do, and no need to ask the disk again (a policy that stores nothing here costs a
    // pass ~1,500 such partitions per node). One written since the listing waits for the next pass; the
    // rescans still look.
    if (!held && !rescan && this.#changes.unchanged(ref, noEntries, others.slice(0, code.m).map(([, dev]) => dev))) {
      stats.unchangedPartitions++;
      return;
    }
    let local = await this.deps.partitions.hashes(ref, { listdir: rescan || this.#changes.fullPass });
    // A partition empty here whose first m peers hold nothing either holds no object this device lacks (an
    // object has k+1 durable archives, so at most m-1 of the other primaries can lack it): those m are
    // compared first, the rest only if one of them has something.
    const empty = Object.keys(local).length === 0;
    const first = empty ? others.slice(0, code.m) : others;
    const cutoff = this.#cutoff();
    if (
      !(rescan && !empty) &&
      this.#changes.unchanged(
        ref,
        local,
        first.map(([, dev]) => dev),
      ) &&
      !Object.values(local).some((e) => isOld(e.oldestPending, cutoff) || isOld(e.oldestTombstone, cutoff))
    ) {
      stats.unchangedPartitions++;
      return;
    }
    // Peers are asked at once (those whose changes answer of this pass carried the partition's hashes, not).
    const ask = (list: typeof others) => {
      const localHashes = hashMap(local);
      return Promise.all(
        list.map(async ([index, dev]): Promise<Peer> => {
          let hashes = this.#changes.reported(dev, ref, localHashes);
          if (!hashes) {
            stats.requests++;
            hashes = (await this.deps.client.hashes(dev, ref.policyIndex, ref.partition)).hashes;
            if (!hashes) stats.failures++;
          }
          return { dev, index, hashes, differing: hashes ? differing(localHashes, hashes) : new Set() };
        }),
      );
    };
    const remember = (peers: readonly Peer[]) => this.#changes.remember(ref, local, peers, true, (line) => this.deps.log(`reconstructor: ${line}`));
    const peers = await ask(first);
    if (empty && peers.length >= code.m && peers.every((p) => p.hashes && Object.keys(p.hashes).length === 0)) {
      remember(peers);
      return;
    }
    if (empty) peers.push(...(await ask(others.slice(code.m))));
    const changed = new Set(peers.flatMap((p) => [...p.differing]));
    if (changed.size > 0) {
      local = await this.deps.partitions.hashes(ref, { recalculate: [...changed].filter((s) => s in local) });
      const recalculated = hashMap(local);
      for (const p of peers) if (p.hashes) p.differing = differing(recalculated, p.hashes);
    }
    remember(peers);
    const allAnswered = peers.every((p) => p.hashes !== undefined);
    const work = new Set<string>(peers.flatMap((p) => [...p.differing]));
    for (const [suffix, entry] of Object.entries(local)) {
      if (isOld(entry.oldestPending, cutoff) || (allAnswered && isOld(entry.oldestTombstone, cutoff)) || rescan) work.add(suffix);
    }
    const sorted = [...work].sort();
    for (let i = 0; i < sorted.length; i += suffixBatch) {
      const batch = sorted.slice(i, i + suffixBatch);
      const inventories = await Promise.all(
        peers.map(async (p) => {
          const wanted = batch.filter((s) => p.differing.has(s));
          if (!p.hashes || wanted.length === 0) return {} as SuffixInventory;
          stats.requests++;
          const got = await this.deps.client.suffixInventory(p.dev, ref.policyIndex, ref.partition, wanted);
          if (!got) stats.failures++;
          return got;
        }),
      );
      // Suffixes of a batch are settled a few at a time: a rebuild mostly waits (k fetches, a durable write),
      // so one at a time would leave a wiped device's rebuild bound by latency (memory: a segment per rebuild).
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(suffixConcurrency, batch.length) }, async () => {
          while (next < batch.length) {
            const suffix = batch[next++];
            if (peers.some((p) => p.differing.has(suffix))) stats.suffixesSynced++;
            await this.#suffix(ref, suffix, primaries, mine, peers, inventories, code, cutoff, rescan, stats);
          }
        }),
      );
    }
  }

  /** Settles every object of one suffix with the peers (see the module comment). */
  async #suffix(
    ref: PartitionRef,
    suffix: string,
    primaries: Device[],
    mine: ReadonlySet<number>,
    peers: Peer[],
    inventories: Array<SuffixInventory | undefined>,
    code: { k: number; m: number },
    cutoff: Timestamp,
    rescan: boolean,
    stats: ReconstructionStats,
  ): Promise<void> {
    const localEntries = new Map((await this.deps.partitions.listSuffix(ref, suffix)).map((e) => [e.hash, e]));
    const hashes = new Set(localEntries.keys());
    for (const inv of inventories) for (const h of Object.keys(inv?.[suffix] ?? {})) hashes.add(h);
    for (const hash of [...hashes].sort()) {
      const hashRef: HashDirRef = { ...ref, suffix, hash };
      const entry = localEntries.get(hash);
      const localState = parseSummary(entry && entrySummary(entry));
      // What each peer holds: its inventory where its suffix differs, else the same as here.
      const remote = peers.map((p, k) => {
        if (!p.hashes) return { known: false, state: undefined as SummaryParts | undefined, name: undefined as string | undefined };
        if (!p.differing.has(suffix)) return { known: true, state: localState, name: undefined };
        const item = inventories[k]?.[suffix]?.[hash];
        return { known: inventories[k] !== undefined, state: parseSummary(item?.state), name: item?.name };
      });
      const name = remote.find((r) => r.name)?.name;
      let newest = localState;
      for (const r of remote) if (r.state && (!newest || r.state.ts > newest.ts || (r.state.ts === newest.ts && r.state.kind === 'tombstone'))) newest = r.state;

      if (newest?.kind === 'tombstone' && (!localState || localState.ts < newest.ts)) {
        if (name && (await this.#pullTombstone(ref, name, newest.ts))) stats.tombstonesPulled++;
      } else if (newest?.kind === 'data') {
        const held = localState?.ts === newest.ts ? new Set((entry?.files ?? []).map((f) => parseFileName(f)).map((f) => (f?.kind === 'data' ? f.frag : undefined))) : new Set();
        const holders = peers.filter((_, k) => remote[k].state?.kind === 'data' && remote[k].state!.ts === newest!.ts);
        for (const index of mine) if (!held.has(index)) await this.#obtain(hashRef, entry, name, newest.ts, index, holders, code, stats);
        if (entry?.meta && localState?.ts === newest.ts) {
          for (const [k, p] of peers.entries()) {
            const r = remote[k].state;
            if (r?.kind === 'data' && r.ts === localState.ts && (r.metaTs ?? '') < (localState.metaTs ?? '')) await this.#pushMeta(hashRef, entry.meta, p.dev, stats);
          }
        }
      }

      if (entry) {
        await this.#reclaimPending(hashRef, entry, cutoff, stats);
        const everyoneHasIt = remote.every((r) => r.known && (!r.state || r.state.ts >= (localState?.ts ?? '')));
        if (localState?.kind === 'tombstone' && localState.ts < cutoff && everyoneHasIt && entry.newest) {
          if (await this.deps.partitions.removeVersion(hashRef, entrySummary(entry)!)) stats.tombstonesReclaimed++;
        }
        if (rescan) await this.#revertForeign(hashRef, entry, primaries, mine, stats);
      }
    }
  }

  /** Gets archive `index` of version `ts` here: marks a pending copy durable, or rebuilds it from k others. */
  async #obtain(hashRef: HashDirRef, entry: HashDirEntry | undefined, name: string | undefined, ts: Timestamp, index: number, holders: Peer[], code: { k: number; m: number }, stats: ReconstructionStats): Promise<void> {
    const pending = entry?.pending?.map((f) => parseFileName(f)).find((f) => f?.kind === 'data' && f.ts === ts && f.frag === index);
    const objectName = name ?? (entry ? await this.deps.partitions.nameOf(hashRef, entry) : undefined);
    if (!objectName) return;
    const location = { device: hashRef.device, policyIndex: hashRef.policyIndex, partition: hashRef.partition, name: objectName };
    if (pending) {
      try {
        if (await this.deps.files.markDurable(location, ts, index)) stats.madeDurable++;
        return;
      } catch (err) {
        this.deps.log(`reconstructor: marking ${objectName} ${ts} #${index} durable: ${(err as Error).message}`);
        return;
      }
    }
    if (holders.length < code.k) {
      this.deps.log(`reconstructor: ${objectName} at ${ts}: only ${holders.length} archives found, ${code.k} needed to rebuild #${index}`);
      stats.failures++;
      return;
    }
    const self = await this.#selfDevice(hashRef, index);
    if (!self) return;
    const ok = await this.#rebuild(hashRef, objectName, ts, index, holders, code, self, stats);
    if (!ok) stats.failures++;
  }

  /** This device as a peer address (its own object server takes the rebuilt archive like any sync write). */
  async #selfDevice(ref: PartitionRef, index: number): Promise<PeerDevice | undefined> {
    const dev = this.deps.rings.object(ref.policyIndex).primaries(ref.partition)[index];
    return dev && { ip: dev.ip, port: dev.port, device: ref.device };
  }

  /**
   * Rebuilds archive `index` of an object's version `ts` from k archives of the holders and writes it to
   * `self` as a durable sync PUT, segment by segment (memory: one segment's fragments). True when written.
   */
  async #rebuild(ref: HashDirRef, name: string, ts: Timestamp, index: number, holders: Peer[], code: { k: number; m: number }, self: PeerDevice, stats: ReconstructionStats): Promise<boolean> {
    const sources: Array<{ frag: number; meta: ObjectMeta; reader: ExactReader }> = [];
    try {
      // k archives opened at once; holders that fail are replaced by the next ones, a wave at a time.
      for (let next = 0; sources.length < code.k && next < holders.length; ) {
        const wave = holders.slice(next, next + code.k - sources.length);
        next += wave.length;
        const opened = await Promise.all(
          wave.map(async (h) => {
            stats.requests++;
            try {
              const got = await this.deps.client.fetchArchive(h.dev, ref.policyIndex, ref.partition, name, h.index, ts);
              return got && { frag: h.index, meta: got.meta, reader: new ExactReader(got.body) };
            } catch (err) {
              this.deps.log(`reconstructor: fetching ${name} ${ts} #${h.index}: ${(err as Error).message}`);
              return undefined;
            }
          }),
        );
        for (const o of opened) if (o) sources.push(o);
      }
      const ec = sources[0] && archiveInfo(sources[0].meta);
      if (sources.length < code.k || !ec || ec.k !== code.k || ec.m !== code.m) {
        this.deps.log(`reconstructor: ${name} at ${ts}: could not open ${code.k} archives to rebuild #${index}`);
        return false;
      }
      const codec = this.#codec(ec.k, ec.m);
      const hash = createXxh64();
      let size = 0;
      async function* archive(): AsyncGenerator<Buffer> {
        for (const seg of segments(ec!.size, ec!.k, ec!.segmentSize)) {
          const fragments: Array<Buffer | undefined> = new Array(ec!.k + ec!.m).fill(undefined);
          await Promise.all(
            sources.map(async (s) => {
              fragments[s.frag] = await s.reader.read(seg.fragmentSize);
            }),
          );
          const [rebuilt] = await codec.reconstruct(fragments, [index]);
          hash.update(rebuilt);
          size += rebuilt.length;
          yield rebuilt;
        }
      }
      const { size: _size, xxh64: _xxh64, ...meta } = sources[0].meta;
      stats.requests++;
      const status = await this.deps.client.pushArchive(self, ref.policyIndex, ref.partition, { ...meta, name, ts, ec: { ...ec, frag: index } }, index, Readable.from(archive()), () => ({ size, xxh64: hash.digestHex() }));
      if (status === 201) {
        stats.rebuilt++;
        stats.bytesRebuilt += size;
        return true;
      }
      if (status === 409) return true; // written meanwhile
      this.deps.log(`reconstructor: writing rebuilt ${name} ${ts} #${index}: ${status || 'unreachable'}`);
      return false;
    } catch (err) {
      this.deps.log(`reconstructor: rebuilding ${name} ${ts} #${index}: ${(err as Error).message}`);
      return false;
    } finally {
      for (const s of sources) s.reader.destroy();
    }
  }

  /** Writes a tombstone a peer holds here (a sync delete of this device's own copy). */
  async #pullTombstone(ref: PartitionRef, name: string, ts: Timestamp): Promise<boolean> {
    try {
      await this.deps.files.delete({ device: ref.device, policyIndex: ref.policyIndex, partition: ref.partition, name }, ts);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'Conflict') this.deps.log(`reconstructor: tombstone of ${name} at ${ts}: ${(err as Error).message}`);
      return false;
    }
  }

  /** Removes pending archives older than the reclaim age: their writes never committed. */
  async #reclaimPending(ref: HashDirRef, entry: HashDirEntry, cutoff: Timestamp, stats: ReconstructionStats): Promise<void> {
    for (const file of entry.pending ?? []) {
      const f = parseFileName(file);
      if (f && f.ts < cutoff && (await this.deps.partitions.removeFile(ref, file))) stats.pendingReclaimed++;
    }
  }

  /** Hands over the archives of a handoff partition (and its tombstones), then removes them here. */
  async #revertPartition(ref: PartitionRef, primaries: Device[], mine: ReadonlySet<number>, stats: ReconstructionStats): Promise<void> {
    const cutoff = this.#cutoff();
    const local = await this.deps.partitions.hashes(ref);
    for (const suffix of Object.keys(local).sort()) {
      for (const entry of await this.deps.partitions.listSuffix(ref, suffix)) {
        const hashRef: HashDirRef = { ...ref, suffix, hash: entry.hash };
        await this.#reclaimPending(hashRef, entry, cutoff, stats);
        const state = parseSummary(entrySummary(entry));
        if (state?.kind === 'tombstone') {
          await this.#revertTombstone(hashRef, entry, primaries, cutoff, stats);
          continue;
        }
        await this.#revertForeign(hashRef, entry, primaries, mine, stats);
      }
    }
  }

  /** Pushes a tombstone to every primary; removes it here once all hold it (or something newer). */
  async #revertTombstone(ref: HashDirRef, entry: HashDirEntry, primaries: Device[], cutoff: Timestamp, stats: ReconstructionStats): Promise<void> {
    const opened = await this.deps.partitions.openVersion(ref, entry.newest!);
    if (opened?.kind !== 'tombstone') return;
    let all = true;
    if (opened.ts >= cutoff) {
      for (const dev of primaries) {
        stats.requests++;
        const status = await this.deps.client.pushTombstone(dev, ref.policyIndex, ref.partition, opened.name, opened.ts);
        if (status === 204 || status === 404) stats.tombstonesPushed++;
        if (!(status === 204 || status === 404 || status === 409)) all = false;
      }
    }
    if (all && (await this.deps.partitions.removeVersion(ref, entrySummary(entry)!))) stats.reverted++;
  }

  /** Pushes each archive of an index this device is not primary of to that index's primary, then removes it. */
  async #revertForeign(ref: HashDirRef, entry: HashDirEntry, primaries: Device[], mine: ReadonlySet<number>, stats: ReconstructionStats): Promise<void> {
    for (const file of [...(entry.files ?? []), ...(entry.pending ?? [])]) {
      const f = parseFileName(file);
      if (f?.kind !== 'data' || f.frag === undefined || mine.has(f.frag)) continue;
      // The primary may be another device of this node: it takes the archive through this node's server.
      const target = primaries[f.frag];
      if (!target || this.deps.self.is(target, ref.device)) continue;
      let opened: Awaited<ReturnType<FsPartitions['openVersion']>>;
      try {
        opened = await this.deps.partitions.openVersion(ref, file);
      } catch (err) {
        if (!(err instanceof CorruptDataFileError)) throw err;
        this.deps.log(`reconstructor: not handing over ${err.message}`);
        continue;
      }
      if (opened?.kind !== 'data') continue;
      // An archive of a durable version is durable, whatever its own name says.
      const durable = entry.files?.includes(file) ?? false;
      stats.requests++;
      const status = await this.deps.client.pushData(target, ref.policyIndex, ref.partition, opened.file, { frag: f.frag, durable });
      if (status !== 201 && status !== 409) {
        stats.failures++;
        this.deps.log(`reconstructor: handing ${ref.hash}/${file} to ${target.ip}:${target.port}/${target.device}: ${status || 'unreachable'}`);
        continue;
      }
      if (entry.meta && durable && !(await this.#pushMeta(ref, entry.meta, target, stats))) continue;
      if (await this.deps.partitions.removeFile(ref, file)) stats.reverted++;
    }
  }

  /** Pushes a `.meta` (sync POST); true when the peer holds it or something newer. */
  async #pushMeta(ref: HashDirRef, file: string, peer: PeerDevice, stats: ReconstructionStats): Promise<boolean> {
    const content = await this.deps.partitions.readMeta(ref, file);
    if (!content) return false;
    stats.requests++;
    const status = await this.deps.client.pushMeta(peer, ref.policyIndex, ref.partition, content);
    if (status === 202) stats.metasPushed++;
    if (status === 202 || status === 409) return true;
    stats.failures++;
    return false;
  }

  #codec(k: number, m: number): ErasureCodec {
    const key = `${k}+${m}`;
    let codec = this.#codecs.get(key);
    if (!codec) this.#codecs.set(key, (codec = createCodec(k, m)));
    return codec;
  }

  #cutoff(): Timestamp {
    return formatTimestamp(BigInt(Math.max(0, this.#now() - this.deps.reclaimAgeSec * 1000)) * 1000n);
  }
}

/** Suffixes whose hash differs between two sides, including those only one side holds. */
function differing(local: SuffixHashes, remote: SuffixHashes): Set<string> {
  const out = new Set<string>();
  for (const s of Object.keys(local)) if (remote[s] !== local[s]) out.add(s);
  for (const s of Object.keys(remote)) if (local[s] !== remote[s]) out.add(s);
  return out;
}

function isOld(ts: Timestamp | undefined, cutoff: Timestamp): boolean {
  return ts !== undefined && ts < cutoff;
}
