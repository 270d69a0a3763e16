/**
 * `replica-N`: every object is written whole to the partition's N primaries in parallel (a handoff stands in
 * for a primary that cannot be reached), acknowledged at a write quorum W = ⌊N/2⌋+1. A read asks one device
 * and serves what it holds, as Swift does; it asks R = N − W + 1 devices (R + W > N: at least one of them took
 * the last acknowledged write) when that device holds no live version, and when the caller asks for the
 * newest (`newest`, Swift's `X-Newest`).
 */
import type { Readable } from 'node:stream';
import { rangeHeader } from '../../common/byte-range.js';
import { ArcaError, isArcaError } from '../../common/errors.js';
import { HeldBody } from '../../common/read-stream.js';
import { compareTimestamps, type Timestamp } from '../../common/timestamp.js';
import { BackendHeader, type ContainerUpdateTarget, decodeHeaderJson, encodeHeaderJson, type ObjectMeta, objectPath } from '../../common/wire.js';
import { createXxh64, xxh64Hex } from '../../common/xxh64.js';
import type { NodeClient, NodeReply, NodeUpload } from '../node-client.js';
import type { ErrorLimiter } from '../../common/error-limiter.js';
import type { RangeSpec } from '../object-store.js';
import { type ClusterRings, candidates, pairListingUpdates, type PlacementRing, type ReadAffinity, type RingDevice, ringPath, withStandIns } from '../placement.js';
import { drainQuorum } from './drain.js';
import { type LockOptions, lockHeaders, newestReplaced, type ObjectTarget, type PolicyPutInput, type PolicyReadOptions, type PolicyReadResult, type Replaced, type StoragePolicy, throwIfLocked } from './policy.js';

/** Bodies up to this size are sent to each device in one request (writes). */
const heldBodyBytes = 64 * 1024;
/**
 * Bodies up to this size are read whole from the node, in one frame, and held (reads); larger ones stream over
 * HTTP, after a first framed answer that they are larger (proxy.md, "Frames"). 1 MiB was measured too: 1 MiB
 * GETs gained up to 10 %, but holding them whole kept ~10 MiB more in the proxy through 64 uploads after them.
 */
const heldReadBytes = 256 * 1024;

/** What one device said about an object. */
interface Probe {
  dev: RingDevice;
  status: number;
  ts?: Timestamp;
  /** Timestamp of the `.meta` patch applied to `meta` (x-backend-meta-timestamp). */
  metaTs?: Timestamp;
  meta?: ObjectMeta;
  deleted: boolean;
  /** Object size when the device refused the range (416). */
  unsatisfiableSize?: number;
  /** The body, when the probe was a GET that the device answered with data. */
  stream?: Readable;
  range?: { start: number; end: number };
}

/** Errors of the client's body stream that mean "the client went away". */
function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error)?.message === 'aborted';
}

/** The next chunk of the client's body; ArcaError `ClientAborted` when the client went away. */
async function clientRead(source: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
  try {
    return await source.next();
  } catch (err) {
    if (isClientGone(err)) throw new ArcaError('ClientAborted', 'the client went away during the upload');
    throw err;
  }
}

/**
 * What the replies to a metadata POST add up to: the merged metadata of the newest 202 once `quorum` devices
 * took it, undefined once `quorum` found no live version (404), else Conflict (a newer write won) or
 * InsufficientReplicas.
 */
export function postOutcome(replies: Array<NodeReply | undefined>, quorum: number, devices: number): ObjectMeta | undefined {
  const accepted = replies.filter((r): r is NodeReply => r?.status === 202);
  if (accepted.length >= quorum) {
    let best: ObjectMeta | undefined;
    for (const r of accepted) {
      const m = decodeHeaderJson<ObjectMeta>(r.headers[BackendHeader.meta]);
      if (m && (!best || m.ts > best.ts)) best = m;
    }
    if (best) return best;
  }
  if (replies.filter((r) => r?.status === 404).length >= quorum) return undefined;
  const conflicts = replies.filter((r) => r?.status === 409).length;
  if (conflicts > 0 && accepted.length + conflicts >= quorum) throw new ArcaError('Conflict', `a newer write of the object won over the metadata update`);
  throw new ArcaError('InsufficientReplicas', `${accepted.length} of ${devices} devices took the metadata update`);
}

export class ReplicatedPolicy implements StoragePolicy {
  readonly writeQuorum: number;
  readonly readQuorum: number;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly replicas: number,
    private readonly rings: ClusterRings,
    private readonly client: NodeClient,
    /**
     * The order in which reads ask an object's primaries (ring order without an affinity), and the error
     * limiter that reads and writes feed and heed.
     */
    private readonly routing: { affinity?: ReadAffinity; limiter?: ErrorLimiter } = {},
  ) {
    this.writeQuorum = Math.floor(replicas / 2) + 1;
    this.readQuorum = replicas - this.writeQuorum + 1;
  }

  private place(t: ObjectTarget): { ring: PlacementRing; part: number } {
    const ring = this.rings.object(this.index);
    return { ring, part: ring.partition(ringPath(t.account, t.bucket, t.key)) };
  }

  private path(dev: RingDevice, part: number, t: ObjectTarget): string {
    return objectPath(dev.device, part, t.account, t.bucket, t.key);
  }

  async put(t: ObjectTarget, input: PolicyPutInput): Promise<{ meta: ObjectMeta } & Replaced> {
    // Read up to heldBodyBytes first: a body that ends within them goes to each device as one request.
    const source = (input.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let held = 0;
    for (;;) {
      const n = await clientRead(source);
      if (n.done) return this.putHeld(t, input, head.length === 1 ? head[0] : Buffer.concat(head));
      head.push(n.value);
      held += n.value.length;
      if (held > heldBodyBytes) return this.putStreamed(t, input, head, source);
    }
  }

  /**
   * A body held whole: one request per device with Content-Length and the footer as a header, so headers,
   * body and footer leave in one write, and no 100-continue round trip. A device that fails (an error, a 5xx,
   * a node timeout) is replaced by the next handoff with the same bytes. The price: a node that takes
   * connections but serves nothing costs a node timeout before its handoff takes over, not a connect timeout.
   */
  private async putHeld(t: ObjectTarget, input: PolicyPutInput, body: Buffer): Promise<{ meta: ObjectMeta } & Replaced> {
    const { ring, part } = this.place(t);
    const finished = await input.finish({ size: body.length });
    const footer = { ...finished, size: body.length, xxh64: xxh64Hex(body) };
    const headers = {
      [BackendHeader.timestamp]: input.ts,
      [BackendHeader.policyIndex]: String(this.index),
      [BackendHeader.meta]: encodeHeaderJson(input.meta),
      [BackendHeader.footer]: encodeHeaderJson(footer),
    };
    const primaries = ring.primaries(part);
    const updates = pairListingUpdates(primaries, t.containerUpdates);
    const replies = await withStandIns(primaries, ring.handoffs(part)[Symbol.iterator](), async (dev, i) => {
      const reply = await this.client.request(dev, {
        method: 'PUT',
        path: this.path(dev, part, t),
        headers: { ...headers, [BackendHeader.containerUpdates]: JSON.stringify([updates[i]]) },
        body,
      });
      return reply.status < 500 ? reply : undefined;
    }, this.routing.limiter);
    return this.committed(t, input, footer, replies);
  }

  /**
   * A larger body streams to every device in parallel as it arrives (`head`: what was read already), chunked,
   * with the footer as a trailer.
   */
  private async putStreamed(t: ObjectTarget, input: PolicyPutInput, head: Buffer[], source: AsyncIterator<Buffer>): Promise<{ meta: ObjectMeta } & Replaced> {
    const { ring, part } = this.place(t);
    const meta = encodeHeaderJson(input.meta);
    const primaries = ring.primaries(part);
    const updates = pairListingUpdates(primaries, t.containerUpdates);
    // 100-continue: a node that takes connections (or holds a kept-alive one) but serves nothing — cut off,
    // hung — is passed over for a handoff before the body starts.
    const open = (dev: RingDevice, i: number): Promise<NodeUpload> =>
      this.client.upload(
        dev,
        this.path(dev, part, t),
        {
          [BackendHeader.timestamp]: input.ts,
          [BackendHeader.policyIndex]: String(this.index),
          [BackendHeader.meta]: meta,
          [BackendHeader.containerUpdates]: JSON.stringify([updates[i]]),
        },
        { expectContinue: true },
      );
    const uploads = (await withStandIns(primaries, ring.handoffs(part)[Symbol.iterator](), open, this.routing.limiter)).filter((u): u is NodeUpload => u !== undefined);
    let live = uploads;
    const checkQuorum = () => {
      live = live.filter((u) => !u.failed);
      if (live.length < this.writeQuorum) {
        throw new ArcaError('InsufficientReplicas', `only ${live.length} of ${this.replicas} devices took the write`);
      }
    };
    try {
      checkQuorum();
      const xxh = createXxh64();
      let size = 0;
      const send = async (chunk: Buffer) => {
        size += chunk.length;
        xxh.update(chunk);
        let full = false;
        for (const u of live) if (!u.write(chunk)) full = true;
        // A device that stops taking the body is dropped once a quorum has drained (drain.ts).
        if (full) await drainQuorum(live, this.writeQuorum, this.client.nodeTimeoutMs / 2);
        checkQuorum();
      };
      for (const chunk of head) await send(chunk);
      for (let n = await clientRead(source); !n.done; n = await clientRead(source)) await send(n.value);
      const finished = await input.finish({ size });
      const footer = { ...finished, size, xxh64: xxh.digestHex() };
      const trailers = { [BackendHeader.footer]: encodeHeaderJson(footer) };
      const replies = await Promise.allSettled(live.map((u) => u.finish(trailers)));
      return this.committed(
        t,
        input,
        footer,
        replies.map((r) => (r.status === 'fulfilled' ? r.value : undefined)),
      );
    } catch (err) {
      for (const u of uploads) u.abort();
      throw err;
    }
  }

  /** What the devices' replies to a write add up to: the committed metadata once W took it (201). */
  private committed(t: ObjectTarget, input: PolicyPutInput, footer: Record<string, unknown>, replies: Array<NodeReply | undefined>): { meta: ObjectMeta } & Replaced {
    // A device that answers 409 with this write's own timestamp holds this very version already: a peer's
    // replicator pushed it there while this upload was on its way (a burst of writes races the passes).
    const acks = replies.filter((r) => r?.status === 201 || (r?.status === 409 && r.headers[BackendHeader.timestamp] === input.ts)).length;
    if (acks < this.writeQuorum) {
      throwIfLocked(replies);
      const conflict = replies.some((r) => r?.status === 409);
      throw new ArcaError(conflict ? 'Conflict' : 'InsufficientReplicas', `${acks} of ${this.replicas} devices committed the write`);
    }
    const meta = { ...input.meta, ...footer, name: ringPath(t.account, t.bucket, t.key), ts: input.ts } as ObjectMeta;
    const replaced = newestReplaced(replies.map((r) => (r?.status === 201 ? r : undefined)));
    return replaced ? { meta, replaced } : { meta };
  }

  private async headProbe(dev: RingDevice, part: number, t: ObjectTarget): Promise<Probe> {
    const reply = await this.client.request(dev, {
      method: 'HEAD',
      path: this.path(dev, part, t),
      headers: { [BackendHeader.policyIndex]: String(this.index) },
    });
    return this.probeOf(dev, reply.status, reply.headers);
  }

  private async getProbe(dev: RingDevice, part: number, t: ObjectTarget, range?: RangeSpec, ifTs?: Timestamp): Promise<Probe> {
    const headers: Record<string, string> = { [BackendHeader.policyIndex]: String(this.index) };
    if (range) headers.range = rangeHeader(range);
    if (ifTs) headers[BackendHeader.ifTimestamp] = ifTs;
    // A small body comes whole: what serves it sends it in one write, with no stream in between.
    const res = await this.client.read(dev, { method: 'GET', path: this.path(dev, part, t), headers }, heldReadBytes);
    // Only a 200 or 206 comes as a stream, and probeOf takes both.
    const probe = this.probeOf(dev, res.status, res.headers);
    if (probe.status === 200 || probe.status === 206) {
      probe.stream = res.stream ?? new HeldBody(res.body);
      const m = /^bytes (\d+)-(\d+)\//.exec(String(res.headers['content-range'] ?? ''));
      if (probe.status === 206 && m) probe.range = { start: Number(m[1]), end: Number(m[2]) };
    }
    return probe;
  }

  private probeOf(dev: RingDevice, status: number, headers: Record<string, string | string[] | undefined>): Probe {
    if (status >= 500 || (status !== 404 && status !== 200 && status !== 206 && status !== 416 && status !== 412)) {
      throw new ArcaError('Internal', `device ${dev.ip}:${dev.port}/${dev.device} answered ${status}`);
    }
    const ts = headers[BackendHeader.timestamp] as string | undefined;
    const probe: Probe = { dev, status, ts, deleted: headers[BackendHeader.deleted] === '1' };
    const metaTs = headers[BackendHeader.metaTimestamp];
    if (typeof metaTs === 'string') probe.metaTs = metaTs;
    if (status === 200 || status === 206) probe.meta = decodeHeaderJson<ObjectMeta>(headers[BackendHeader.meta]);
    if (status === 416) {
      const m = /\/(\d+)$/.exec(String(headers['content-range'] ?? ''));
      probe.unsatisfiableSize = m ? Number(m[1]) : 0;
    }
    return probe;
  }

  /**
   * Asks the devices what they hold, primaries first (in the read affinity's order, when there is one), the
   * next candidate taking the place of one that fails (an error, a 5xx, a timeout). A plain read asks one
   * device — the first primary, with GET when `get` is given, so a healthy read is one node request — and
   * stops there when it holds a live version. When it holds none (404, or a tombstone), or with `newest`,
   * the read asks R devices in all, as a quorum read: R + W > N, so they include one that took the last
   * acknowledged write. When none of those holds anything (no data, no tombstone), the other primaries and
   * the first handoffs are asked too, at once.
   */
  private async collect(t: ObjectTarget, get: { range?: RangeSpec } | undefined, newest: boolean): Promise<{ probes: Probe[]; part: number }> {
    const { ring, part } = this.place(t);
    const it = candidates(ring, part, ring.replicaCount, this.routing);
    const probes: Probe[] = [];
    let errors = 0;
    const asker = async (asGet: boolean) => {
      for (let n = it.next(); !n.done; n = it.next()) {
        try {
          const p = asGet ? await this.getProbe(n.value, part, t, get?.range) : await this.headProbe(n.value, part, t);
          probes.push(p);
          return;
        } catch {
          errors++;
          this.routing.limiter?.failed(n.value);
        }
      }
    };
    const askers = (count: number, firstAsGet: boolean) => Promise.all(Array.from({ length: count }, (_, i) => asker(i === 0 && firstAsGet)));
    if (newest) {
      await askers(this.readQuorum, get !== undefined);
    } else {
      await asker(get !== undefined);
      // Not a live version: the device may have missed a write (it was down, or its disk was replaced). Ask
      // the rest of a read quorum before taking the 404 or the tombstone for an answer.
      const first = probes[0];
      if (first && (!first.ts || first.deleted)) await askers(this.readQuorum - 1, false);
    }
    if (probes.length === 0 && errors > 0) {
      throw new ArcaError('InsufficientReplicas', `no device of partition ${part} answered`);
    }
    // Nothing where we looked (no data, no tombstone): before answering 404, ask the other primaries and the
    // first handoffs too (2 × replicas devices in all, Swift's request_node_count), at once. Right after a
    // rebalance the new primaries are empty while the old holders, now handoffs, still have the object; so is
    // a primary whose disk was replaced.
    if (probes.length > 0 && !probes.some((p) => p.ts)) {
      const more = await Promise.all(
        [...it].map((dev) =>
          this.headProbe(dev, part, t).catch(() => {
            this.routing.limiter?.failed(dev);
            return undefined;
          }),
        ),
      );
      for (const p of more) if (p) probes.push(p);
    }
    return { probes, part };
  }

  /** The probe of the newest version; among equals, the one with the newest metadata patch. */
  private static newest(probes: Probe[]): Probe | undefined {
    let best: Probe | undefined;
    for (const p of probes) {
      if (!p.ts) continue;
      const order = best?.ts ? compareTimestamps(p.ts, best.ts) : 1;
      if (order > 0 || (order === 0 && (p.metaTs ?? '') > (best?.metaTs ?? ''))) best = p;
    }
    return best;
  }

  async head(t: ObjectTarget, opts: PolicyReadOptions = {}): Promise<ObjectMeta | undefined> {
    const { probes } = await this.collect(t, undefined, opts.newest === true);
    const best = ReplicatedPolicy.newest(probes);
    return best && !best.deleted ? best.meta : undefined;
  }

  async get(t: ObjectTarget, range?: RangeSpec, opts: PolicyReadOptions = {}): Promise<PolicyReadResult | undefined> {
    const { probes, part } = await this.collect(t, { range }, opts.newest === true);
    const best = ReplicatedPolicy.newest(probes);
    const drop = (keep?: Probe) => {
      for (const p of probes) if (p !== keep) p.stream?.destroy();
    };
    if (!best || best.deleted) {
      drop();
      return undefined;
    }
    if (best.unsatisfiableSize !== undefined) {
      drop();
      throw new ArcaError('RangeNotSatisfiable', 'range not satisfiable', { size: best.unsatisfiableSize });
    }
    // Any device holding the newest version serves its bytes; the metadata is the newest patch seen.
    const serving = probes.find((p) => p.stream && p.ts === best.ts);
    if (serving?.stream && serving.meta) {
      drop(serving);
      return { meta: best.meta ?? serving.meta, body: serving.stream, range: serving.range };
    }
    drop();
    // The device we read from holds an older version: read the newest from a device that has it.
    for (const p of probes.filter((q) => q.ts === best.ts)) {
      try {
        const again = await this.getProbe(p.dev, part, t, range, best.ts);
        if (again.stream && again.meta) return { meta: again.meta, body: again.stream, range: again.range };
        if (again.unsatisfiableSize !== undefined) {
          throw new ArcaError('RangeNotSatisfiable', 'range not satisfiable', { size: again.unsatisfiableSize });
        }
      } catch (err) {
        if (isArcaError(err, 'RangeNotSatisfiable')) throw err;
      }
    }
    throw new ArcaError('InsufficientReplicas', 'the newest version could not be read');
  }

  /**
   * Sends one small request to every primary of the object's partition in parallel, a handoff standing in
   * for a primary that cannot be reached or answers 5xx; the replies (undefined where no device answered).
   * `request` is given the listing replica its primary's slot updates (pairListingUpdates).
   */
  private async toAll(t: ObjectTarget, request: (listingUpdate: ContainerUpdateTarget) => { method: string; headers: Record<string, string> }): Promise<Array<NodeReply | undefined>> {
    const { ring, part } = this.place(t);
    const primaries = ring.primaries(part);
    const updates = pairListingUpdates(primaries, t.containerUpdates);
    return withStandIns(primaries, ring.handoffs(part)[Symbol.iterator](), async (dev, i) => {
      const r = request(updates[i]);
      const reply = await this.client.request(dev, { method: r.method, path: this.path(dev, part, t), headers: r.headers });
      return reply.status < 500 ? reply : undefined;
    }, this.routing.limiter);
  }

  async delete(t: ObjectTarget, ts: Timestamp, opts?: LockOptions): Promise<{ existed: boolean } & Replaced> {
    const replies = await this.toAll(t, (listingUpdate) => ({
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
    if (acks < this.writeQuorum) {
      throw new ArcaError('InsufficientReplicas', `${acks} of ${this.replicas} devices took the delete`);
    }
    const replaced = newestReplaced(replies.map((r) => (r?.status === 204 ? r : undefined)));
    const existed = replies.some((r) => r?.status === 204);
    return replaced ? { existed, replaced } : { existed };
  }

  async post(t: ObjectTarget, ts: Timestamp, patch: Record<string, unknown>, opts?: LockOptions): Promise<ObjectMeta | undefined> {
    const replies = await this.toAll(t, () => ({
      method: 'POST',
      headers: { [BackendHeader.timestamp]: ts, [BackendHeader.policyIndex]: String(this.index), [BackendHeader.meta]: encodeHeaderJson(patch), ...lockHeaders(opts) },
    }));
    throwIfLocked(replies);
    return postOutcome(replies, this.writeQuorum, this.replicas);
  }
}
