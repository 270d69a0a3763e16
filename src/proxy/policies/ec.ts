/**
 * `ec-K+M`: every object is cut into segments, each Reed–Solomon coded into k data and m parity fragments;
 * primary i of the object's partition keeps fragment archive i (fragment i of every segment). Writes
 * (ec-writer.ts) succeed once k+1 archives are durable (two-phase commit); reads (ec-reader.ts) take k
 * archives, data ones first, and decode only what is missing. Tombstones and metadata updates go to all k+m
 * archives' nodes and succeed at m+1: then any k archives a reader takes include one that has them, and at
 * most k-1 archives of the older state are left, too few to read it back.
 */
import type { Timestamp } from '../../common/timestamp.js';
import { BackendHeader, type ContainerUpdateTarget, encodeHeaderJson, type ObjectMeta } from '../../common/wire.js';
import { ArcaError } from '../../common/errors.js';
import { createCodec, type ErasureCodec } from '../../erasure/index.js';
import type { NodeClient, NodeReply } from '../node-client.js';
import type { RangeSpec } from '../object-store.js';
import { type ClusterRings, type DeviceHealth, pairListingUpdates, withStandIns } from '../placement.js';
import { archivePath, type EcContext, handoffsOf, place } from './ec-common.js';
import { headErasureCoded, readErasureCoded } from './ec-reader.js';
import { writeErasureCoded } from './ec-writer.js';
import { newestReplaced, type LockOptions, lockHeaders, type ObjectTarget, type PolicyPutInput, type PolicyReadResult, type Replaced, type StoragePolicy, throwIfLocked } from './policy.js';
import { postOutcome } from './replicated.js';

export class ErasureCodedPolicy implements StoragePolicy, EcContext {
  readonly codec: ErasureCodec;
  readonly segmentSize: number;
  readonly limiter?: DeviceHealth;
  /** Durable archives a PUT needs. */
  readonly writeQuorum: number;
  /** Nodes that must take a tombstone or a metadata update. */
  readonly updateQuorum: number;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly k: number,
    readonly m: number,
    readonly rings: ClusterRings,
    readonly client: NodeClient,
    opts: { segmentSize: number; limiter?: DeviceHealth },
  ) {
    this.codec = createCodec(k, m);
    this.segmentSize = opts.segmentSize;
    this.limiter = opts.limiter;
    this.writeQuorum = k + 1;
    this.updateQuorum = m + 1;
  }

  put(t: ObjectTarget, input: PolicyPutInput): Promise<{ meta: ObjectMeta } & Replaced> {
    return writeErasureCoded(this, t, input);
  }

  head(t: ObjectTarget): Promise<ObjectMeta | undefined> {
    return headErasureCoded(this, t);
  }

  get(t: ObjectTarget, range?: RangeSpec): Promise<PolicyReadResult | undefined> {
    return readErasureCoded(this, t, range);
  }

  async delete(t: ObjectTarget, ts: Timestamp, opts?: LockOptions): Promise<{ existed: boolean } & Replaced> {
    const replies = await this.#toAll(t, (listingUpdate) => ({
      method: 'DELETE',
      headers: {
        [BackendHeader.timestamp]: ts,
        [BackendHeader.policyIndex]: String(this.index),
        [BackendHeader.containerUpdates]: JSON.stringify([listingUpdate]),
        ...lockHeaders(opts),
      },
    }));
    throwIfLocked(replies);
    const acks = replies.filter((r) => r?.status === 204 || r?.status === 404 || r?.status === 409).length;
    if (acks < this.updateQuorum) throw new ArcaError('InsufficientReplicas', `${acks} of ${this.k + this.m} devices took the delete`);
    const replaced = newestReplaced(replies.map((r) => (r?.status === 204 ? r : undefined)));
    const existed = replies.some((r) => r?.status === 204);
    return replaced ? { existed, replaced } : { existed };
  }

  async post(t: ObjectTarget, ts: Timestamp, patch: Record<string, unknown>, opts?: LockOptions): Promise<ObjectMeta | undefined> {
    const replies = await this.#toAll(t, () => ({
      method: 'POST',
      headers: { [BackendHeader.timestamp]: ts, [BackendHeader.policyIndex]: String(this.index), [BackendHeader.meta]: encodeHeaderJson(patch), ...lockHeaders(opts) },
    }));
    throwIfLocked(replies);
    return postOutcome(replies, this.updateQuorum, this.k + this.m);
  }

  /**
   * One small request to each of the k+m primaries in parallel, a handoff standing in for a failed one;
   * `request` is given the listing replica its primary's slot updates (pairListingUpdates).
   */
  async #toAll(t: ObjectTarget, request: (listingUpdate: ContainerUpdateTarget) => { method: string; headers: Record<string, string> }): Promise<Array<NodeReply | undefined>> {
    const p = place(this, t);
    const updates = pairListingUpdates(p.primaries, t.containerUpdates);
    return withStandIns(p.primaries, handoffsOf(p), async (dev, frag) => {
      const r = request(updates[frag]);
      const reply = await this.client.request(dev, { method: r.method, path: archivePath(dev, p.part, t), headers: r.headers });
      return reply.status < 500 ? reply : undefined;
    }, this.limiter);
  }
}
