/**
 * The EC write path. The body streams through: the proxy fills one segment at a time (zero-padded, so the
 * codec copies nothing), encodes it into k+m fragments, and appends fragment i to the fragment archive it
 * streams to the node holding archive i (a handoff stands in for a primary it cannot reach). While one
 * segment's fragments drain to the nodes, the next segment is read and encoded.
 *
 * Two-phase commit (Swift's): phase 1 ends each archive upload with its footer, and the node stores it as a
 * pending `<ts>#<i>.data`, never served; once k+1 nodes answered 201, phase 2 sends `POST …?commit` to each
 * of them, which marks the archive durable (`<ts>#<i>#d.data`) and updates the listings. The write succeeds
 * once k+1 archives are durable. An archive whose commit never came is reclaimed by the reconstructor.
 */
import { ArcaError } from '../../common/errors.js';
import { BackendHeader, encodeHeaderJson, type FragmentArchiveInfo, type ObjectMeta } from '../../common/wire.js';
import { createXxh64, type Xxh64Stream } from '../../common/xxh64.js';
import { allocSegment, fragmentArchiveSize, fragmentSize } from '../../erasure/index.js';
import type { NodeReply, NodeUpload } from '../node-client.js';
import { ringPath } from '../placement.js';
import { pairListingUpdates, type RingDevice, withStandIns } from '../placement.js';
import { drainQuorum } from './drain.js';
import { archivePath, type EcContext, handoffsOf, place } from './ec-common.js';
import { newestReplaced, type ObjectTarget, type PolicyPutInput, type Replaced } from './policy.js';

/** One fragment archive being written. */
interface ArchiveUpload {
  frag: number;
  dev: RingDevice;
  upload: NodeUpload;
  hash: Xxh64Stream;
}

/** Errors of the client's body stream that mean "the client went away". */
function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error)?.message === 'aborted';
}

/** Writes an object as k+m fragment archives with a two-phase commit; see the module comment. */
export async function writeErasureCoded(ctx: EcContext, t: ObjectTarget, input: PolicyPutInput): Promise<{ meta: ObjectMeta } & Replaced> {
  const { k, m, segmentSize } = ctx;
  const quorum = k + 1;
  const p = place(ctx, t);
  const layout = { scheme: ctx.codec.scheme, k, m, segmentSize };
  const open = async (dev: RingDevice, frag: number): Promise<ArchiveUpload> => {
    const headers = {
      [BackendHeader.timestamp]: input.ts,
      [BackendHeader.policyIndex]: String(ctx.index),
      [BackendHeader.fragmentIndex]: String(frag),
      [BackendHeader.meta]: encodeHeaderJson({ ...input.meta, ec: { ...layout, frag } }),
    };
    // 100-continue: a node that takes connections but serves nothing is passed over before the body starts.
    const upload = await ctx.client.upload(dev, archivePath(dev, p.part, t), headers, { expectContinue: true });
    return { frag, dev, upload, hash: createXxh64() };
  };
  const opened = (await withStandIns(p.primaries, handoffsOf(p), open, ctx.limiter)).filter((u): u is ArchiveUpload => u !== undefined);
  let live = opened;
  const checkQuorum = () => {
    live = live.filter((u) => !u.upload.failed);
    if (live.length < quorum) throw new ArcaError('InsufficientReplicas', `only ${live.length} of ${k + m} fragment archives are being written (need ${quorum})`);
  };

  try {
    checkQuorum();
    // Phase 1: stream the archives. An archive that stops taking data is dropped once k+1 have drained
    // (drain.ts), so one cut-off node cannot stall the others into their idle timeouts.
    const drain = () => drainQuorum(live.map((u) => u.upload), quorum, ctx.client.nodeTimeoutMs / 2);
    const send = async (segment: Buffer) => {
      const fragments = await ctx.codec.encode(segment);
      // One segment in flight: wait for the previous one to drain before queueing this one.
      await drain();
      checkQuorum();
      for (const u of live) {
        const fragment = fragments[u.frag];
        u.hash.update(fragment);
        u.upload.write(fragment);
      }
    };
    let size = 0;
    let segment = allocSegment(segmentSize, k);
    let filled = 0;
    try {
      for await (const chunk of input.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(segmentSize - filled, chunk.length - at);
          chunk.copy(segment, filled, at, at + n);
          filled += n;
          at += n;
          if (filled === segmentSize) {
            await send(segment);
            segment = allocSegment(segmentSize, k);
            filled = 0;
          }
        }
      }
    } catch (err) {
      if (isClientGone(err)) throw new ArcaError('ClientAborted', 'the client went away during the upload');
      throw err;
    }
    // The last, short segment: the buffer past `filled` is still zero, so its padded prefix is the segment.
    if (filled > 0) await send(segment.subarray(0, k * fragmentSize(filled, k)));
    await drain();
    checkQuorum();

    const finished = await input.finish({ size });
    const objectSize = typeof input.meta.objectSize === 'number' ? input.meta.objectSize : size;
    const archiveSize = fragmentArchiveSize(size, k, segmentSize);
    const ec = (frag: number): FragmentArchiveInfo => ({ ...layout, size, frag });
    const footers = live.map((u) => encodeHeaderJson({ ...finished, size: archiveSize, xxh64: u.hash.digestHex(), objectSize, ec: ec(u.frag) }));
    const written = await Promise.allSettled(live.map((u, i) => u.upload.finish({ [BackendHeader.footer]: footers[i] })));
    const stored = live.filter((_, i) => written[i].status === 'fulfilled' && (written[i] as PromiseFulfilledResult<NodeReply>).value.status === 201);
    if (stored.length < quorum) {
      const conflict = written.some((r) => r.status === 'fulfilled' && r.value.status === 409);
      throw new ArcaError(conflict ? 'Conflict' : 'InsufficientReplicas', `${stored.length} of ${k + m} fragment archives were stored (need ${quorum})`);
    }

    // Phase 2: mark them durable; each durable archive's node updates its listing replica.
    const updates = pairListingUpdates(p.primaries, t.containerUpdates);
    const commits = await Promise.allSettled(
      stored.map((u) =>
        ctx.client.request(u.dev, {
          method: 'POST',
          path: `${archivePath(u.dev, p.part, t)}?commit`,
          headers: {
            [BackendHeader.timestamp]: input.ts,
            [BackendHeader.policyIndex]: String(ctx.index),
            [BackendHeader.fragmentIndex]: String(u.frag),
            [BackendHeader.containerUpdates]: JSON.stringify([updates[u.frag]]),
          },
        }),
      ),
    );
    const durable = commits.filter((r) => r.status === 'fulfilled' && r.value.status === 202);
    if (durable.length < quorum) {
      const conflict = commits.some((r) => r.status === 'fulfilled' && r.value.status === 409);
      throw new ArcaError(conflict ? 'Conflict' : 'InsufficientReplicas', `${durable.length} of ${k + m} fragment archives became durable (need ${quorum})`);
    }
    const meta = {
      ...input.meta,
      ...finished,
      size: archiveSize,
      objectSize,
      ec: { ...layout, size },
      name: ringPath(t.account, t.bucket, t.key),
      ts: input.ts,
    } as unknown as ObjectMeta;
    const replaced = newestReplaced(durable.map((r) => (r as PromiseFulfilledResult<NodeReply>).value));
    return replaced ? { meta, replaced } : { meta };
  } catch (err) {
    for (const u of opened) u.upload.abort();
    throw err;
  }
}
