/**
 * The EC read path. A GET asks the k primaries of the data fragments first (fragment index i from primary
 * i), so a healthy read concatenates data fragments and never decodes. When they do not agree on one
 * version the parity primaries are asked too, then handoffs for fragments still missing. The version served
 * is the newest one (data or tombstone) of which k distinct fragment archives answered — a write that never
 * reached k durable archives is not served. Each segment is read as one fragment from each of k archives;
 * an archive that fails mid-way (a node gone, or a fragment the node found corrupt and did not send) is
 * replaced by another at the segment where it stopped, and segments are decoded whenever a data fragment is
 * missing. Ranges read only the segments covering them (`mapRange`).
 */
import { Readable } from 'node:stream';
import { ArcaError } from '../../common/errors.js';
import { ExactReader } from '../../common/exact-reader.js';
import type { Timestamp } from '../../common/timestamp.js';
import { BackendHeader, type FragmentArchiveInfo, type ObjectMeta } from '../../common/wire.js';
import { fragmentSize, mapRange, segments } from '../../erasure/index.js';
import { type RangeSpec, resolveRange } from '../../common/byte-range.js';
import type { RingDevice } from '../placement.js';
import { type ArchiveProbe, archivePath, dropStreams, type EcContext, handoffsOf, type Placement, place, probeOf } from './ec-common.js';
import type { ObjectTarget, PolicyReadResult } from './policy.js';

/** What the probes add up to. */
type Decision =
  | { kind: 'absent' }
  | { kind: 'data'; ts: Timestamp; frags: Map<number, ArchiveProbe>; meta: ObjectMeta; ec: FragmentArchiveInfo }
  /** The newest version has fewer than k archives among the devices asked. */
  | { kind: 'short'; ts: Timestamp };

/**
 * Decides from the probes: the newest version; data only when k distinct fragment archives of it answered.
 * A newest version without k archives gives way to an older one that has them (the newest was a write that
 * failed before it became durable on k+1 nodes) — unless that newest is a tombstone, which always wins.
 */
export function decide(probes: readonly ArchiveProbe[], k: number): Decision {
  const versions = new Map<Timestamp, { deleted: boolean; frags: Map<number, ArchiveProbe> }>();
  for (const p of probes) {
    if (!p.ts) continue;
    const data = p.meta !== undefined && p.frag !== undefined && (p.status === 200 || p.status === 206 || p.status === 416);
    if (!data && !p.deleted) continue;
    let v = versions.get(p.ts);
    if (!v) versions.set(p.ts, (v = { deleted: false, frags: new Map() }));
    if (p.deleted) v.deleted = true;
    else if (!v.frags.has(p.frag!)) v.frags.set(p.frag!, p);
  }
  const order = [...versions.keys()].sort().reverse();
  let short: Timestamp | undefined;
  for (const ts of order) {
    const v = versions.get(ts)!;
    if (v.deleted) return short ? { kind: 'short', ts: short } : { kind: 'absent' };
    if (v.frags.size >= k) {
      // The metadata: the archive with the newest `.meta` patch.
      let best: ArchiveProbe | undefined;
      for (const p of v.frags.values()) if (!best || (p.metaTs ?? '') > (best.metaTs ?? '')) best = p;
      return { kind: 'data', ts, frags: v.frags, meta: best!.meta!, ec: best!.ec! };
    }
    short ??= ts;
  }
  return short ? { kind: 'short', ts: short } : { kind: 'absent' };
}

/** A request for one archive: GET (with a range) or HEAD, by fragment index or any. */
interface ProbeRequest {
  method: 'GET' | 'HEAD';
  range?: string;
  frag?: number;
  ifTs?: Timestamp;
}

async function probe(ctx: EcContext, p: Placement, t: ObjectTarget, dev: RingDevice, r: ProbeRequest): Promise<ArchiveProbe | undefined> {
  const headers: Record<string, string> = { [BackendHeader.policyIndex]: String(ctx.index) };
  if (r.frag !== undefined) headers[BackendHeader.fragmentIndex] = String(r.frag);
  if (r.range) headers.range = r.range;
  if (r.ifTs) headers[BackendHeader.ifTimestamp] = r.ifTs;
  try {
    if (r.method === 'HEAD') {
      const reply = await ctx.client.request(dev, { method: 'HEAD', path: archivePath(dev, p.part, t), headers });
      return probeOf(dev, reply.status, reply.headers);
    }
    const res = await ctx.client.stream(dev, { method: 'GET', path: archivePath(dev, p.part, t), headers });
    let got: ArchiveProbe;
    try {
      got = probeOf(dev, res.statusCode ?? 0, res.headers);
    } catch (err) {
      res.destroy();
      throw err;
    }
    if (got.status === 200 || got.status === 206) got.stream = res;
    else res.resume();
    return got;
  } catch {
    ctx.limiter?.failed(dev);
    return undefined;
  }
}

/**
 * How long a round of probes may keep the next one waiting (Swift's concurrency_timeout): a node that
 * accepted the connection but does not answer (hung, overloaded) costs this, not the node timeout.
 */
const straggleMs = 500;

/**
 * Asks devices in rounds until a version can be decided: the data primaries; then, unless they agreed on one
 * version with k archives, the parity primaries; then, while the newest version is short of archives,
 * handoffs (any fragment index, that version only). A round does not wait for stragglers longer than
 * `straggleMs` once the answers in hand decide the read; a straggler's late answer is dropped.
 *
 * With an error limiter, a primary it holds back is skipped: when one is a data primary, the first round
 * asks the parity primaries as well; the held ones are asked only when the others leave the read undecided.
 * Every probe that fails (no answer, an error status) is counted against its device.
 */
async function collect(ctx: EcContext, t: ObjectTarget, r: ProbeRequest): Promise<{ p: Placement; probes: ArchiveProbe[]; decision: Decision; failures: number; asked: Set<number> }> {
  const { k } = ctx;
  const p = place(ctx, t);
  const probes: ArchiveProbe[] = [];
  const asked = new Set<number>();
  const pending = new Set<Promise<void>>();
  let failures = 0;
  let closed = false;
  const launch = (dev: RingDevice, req: ProbeRequest): Promise<void> => {
    asked.add(dev.id);
    const done: Promise<void> = probe(ctx, p, t, dev, req).then((got) => {
      pending.delete(done);
      if (closed) got?.stream?.destroy();
      else if (got) probes.push(got);
      else failures++;
    });
    pending.add(done);
    return done;
  };
  /** Waits until the probes `of` answered, or `ms` passed. */
  const settle = async (of: Iterable<Promise<void>>, ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...of]), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  };
  /**
   * Waits for a round: its own probes get `straggleMs`; once the answers decide the read, earlier stragglers
   * (which had their time) are not waited for; otherwise every probe in flight is, up to the node timeout.
   */
  const round = async (launched: Promise<void>[]): Promise<Decision> => {
    await settle(launched, straggleMs);
    for (;;) {
      const decision = decide(probes, k);
      if (pending.size === 0 || decision.kind === 'data') return decision;
      await settle(pending, ctx.client.nodeTimeoutMs);
    }
  };
  // Primaries the error limiter holds back are asked after the others, before any handoff.
  const held = new Set(p.primaries.flatMap((dev, i) => (ctx.limiter?.limited(dev) ? [i] : [])));
  const ask = (from: number, to: number, limited = false): Promise<void>[] => {
    const launched: Promise<void>[] = [];
    for (let i = from; i < to; i++) if (held.has(i) === limited) launched.push(launch(p.primaries[i], { ...r, frag: r.method === 'GET' ? i : undefined }));
    return launched;
  };
  let decision: Decision;
  if ([...held].some((i) => i < k)) {
    // A data primary is held back: the read decodes, so the parity primaries are asked at once.
    decision = await round(ask(0, k + ctx.m));
  } else {
    await settle(ask(0, k), straggleMs);
    decision = decide(probes, k);
    const agreed = decision.kind === 'data' ? decision.ts : undefined;
    const unanimous = pending.size === 0 && agreed !== undefined && probes.length === k && probes.every((q) => q.ts === agreed && q.meta);
    if (!unanimous) decision = await round(ask(k, k + ctx.m));
  }
  // They are asked when the others did not decide the read: the newest version is short of archives, or its
  // absence rests on too few answers. Otherwise they count as failures.
  let unasked = held.size;
  if (unasked > 0 && (decision.kind === 'short' || (decision.kind === 'absent' && failures + pending.size + unasked > ctx.m))) {
    decision = await round(ask(0, k + ctx.m, true));
    unasked = 0;
  }
  if (decision.kind === 'short') {
    const ts = decision.ts;
    const launched: Promise<void>[] = [];
    for (const dev of handoffsOf(p)) {
      if (launched.length >= ctx.k + ctx.m) break;
      launched.push(launch(dev, { ...r, frag: undefined, ifTs: ts }));
    }
    decision = await round(launched);
  }
  closed = true;
  failures += pending.size + (decision.kind === 'data' ? 0 : unasked);
  return { p, probes, decision, failures, asked };
}

/** The newest live version's metadata, read from enough archives. */
export async function headErasureCoded(ctx: EcContext, t: ObjectTarget): Promise<ObjectMeta | undefined> {
  const { decision, failures } = await collect(ctx, t, { method: 'HEAD' });
  if (decision.kind === 'data') return decision.meta;
  if (decision.kind === 'short' || failures > ctx.m) throw new ArcaError('InsufficientReplicas', `fewer than ${ctx.k} fragment archives of the object answered`);
  return undefined;
}

/** The archive byte range asking for `range` of an object cut in segments of `segmentSize` (before its size is known). */
function archiveRangeHeader(range: RangeSpec | undefined, k: number, segmentSize: number): string | undefined {
  if (!range || 'suffix' in range) return undefined;
  const full = fragmentSize(segmentSize, k);
  const start = Math.floor(range.start / segmentSize) * full;
  if (range.end === undefined) return `bytes=${start}-`;
  return `bytes=${start}-${(Math.floor(range.end / segmentSize) + 1) * full - 1}`;
}


/** Reads an object (or a range of it); see the module comment. */
export async function readErasureCoded(ctx: EcContext, t: ObjectTarget, range?: RangeSpec): Promise<PolicyReadResult | undefined> {
  const { k } = ctx;
  const { p, probes, decision, failures, asked } = await collect(ctx, t, { method: 'GET', range: archiveRangeHeader(range, k, ctx.segmentSize) });
  if (decision.kind !== 'data') {
    dropStreams(probes);
    if (decision.kind === 'short' || failures > ctx.m) throw new ArcaError('InsufficientReplicas', `fewer than ${k} fragment archives of the object answered`);
    return undefined;
  }
  const { ec, meta, ts } = decision;
  const size = ec.size;
  const wanted = range ? resolveRange(range, size) : size === 0 ? undefined : { start: 0, end: size - 1 };
  if (range && !wanted) {
    dropStreams(probes);
    throw new ArcaError('RangeNotSatisfiable', 'range not satisfiable', { size });
  }
  if (!wanted) {
    dropStreams(probes);
    return { meta, body: Readable.from([]) };
  }
  const plan = mapRange(size, ec.k, wanted.start, wanted.end, ec.segmentSize);
  // Sources: data fragments first, then parity; each with its body if it already covers the plan.
  const candidates = [...decision.frags.values()].sort((a, b) => a.frag! - b.frag!);
  // A body already open serves when it covers the plan (it does unless the object's segment size is not the
  // one the request assumed).
  const usable = (q: ArchiveProbe) => q.stream !== undefined && q.offset === plan.archiveStart && q.end !== undefined && q.end >= plan.archiveEnd;
  const chosen = new Set(candidates.slice(0, k));
  dropStreams(probes, new Set([...chosen].filter(usable)));
  // Archives to fall back on: other archives of the version that answered, then devices not asked yet.
  const spare: Array<{ dev: RingDevice; frag?: number }> = candidates.slice(k).map((q) => ({ dev: q.dev, frag: q.frag }));
  const answered = new Set(probes.map((q) => q.dev.id));
  const limited = (dev: RingDevice) => ctx.limiter?.limited(dev) === true;
  for (const [i, dev] of p.primaries.entries()) if (!asked.has(dev.id) && !decision.frags.has(i) && !limited(dev)) spare.push({ dev, frag: i });
  // Devices that did not answer in time come last, and those the error limiter holds back after them.
  for (const [i, dev] of p.primaries.entries()) if (asked.has(dev.id) && !answered.has(dev.id)) spare.push({ dev, frag: i });
  for (const [i, dev] of p.primaries.entries()) if (!asked.has(dev.id) && limited(dev)) spare.push({ dev, frag: i });
  type Source = ExactReader & { frag: number; dev: RingDevice };
  const sources = new Map<number, Source>();
  const reopen = async (q: { dev: RingDevice; frag?: number }, from: number): Promise<Source | undefined> => {
    const again = await probe(ctx, p, t, q.dev, { method: 'GET', frag: q.frag, ifTs: ts, range: `bytes=${from}-${plan.archiveEnd}` });
    const fits = again?.stream && again.offset === from && again.frag !== undefined && (q.frag === undefined || again.frag === q.frag) && !sources.has(again.frag);
    if (fits) return Object.assign(new ExactReader(again.stream!), { frag: again.frag!, dev: q.dev });
    again?.stream?.destroy();
    return undefined;
  };
  for (const q of chosen) {
    const reader = usable(q) ? Object.assign(new ExactReader(q.stream!), { frag: q.frag!, dev: q.dev }) : await reopen(q, plan.archiveStart);
    if (reader) sources.set(q.frag!, reader);
  }
  // A source that failed is asked once more, after the spares and before the handoffs: its archive answered,
  // and the failure may be its connection's idle timeout while the probes waited for a straggler.
  const retry: Array<{ dev: RingDevice; frag: number }> = [];
  const retried = new Set<number>();
  const drop = (s: Source): void => {
    s.destroy();
    sources.delete(s.frag);
    if (!retried.has(s.dev.id)) {
      retried.add(s.dev.id);
      retry.push({ dev: s.dev, frag: s.frag });
    }
  };
  let handoffs: Generator<RingDevice> | undefined;
  /** Replaces failed sources with spare archives reading from `from`; false when fewer than k remain. */
  const refill = async (from: number): Promise<boolean> => {
    while (sources.size < k) {
      let q = spare.shift() ?? retry.shift();
      if (!q) {
        handoffs ??= handoffsOf(p);
        const next = handoffs.next();
        if (next.done) break;
        q = { dev: next.value };
      }
      const reader = await reopen(q, from);
      if (reader) sources.set(reader.frag, reader);
    }
    return sources.size >= k;
  };
  if (!(await refill(plan.archiveStart))) {
    for (const s of sources.values()) s.destroy();
    throw new ArcaError('InsufficientReplicas', `fewer than ${k} fragment archives of the object could be read`);
  }
  const codec = ctx.codec.k === ec.k && ctx.codec.m === ec.m ? ctx.codec : undefined;
  if (!codec) throw new ArcaError('Internal', `object coded ${ec.k}+${ec.m} under policy ${ctx.name}`);

  async function* body(): AsyncGenerator<Buffer> {
    let skip = plan.skip;
    let left = plan.length;
    try {
      for (const seg of segments(size, ec.k, ec.segmentSize, plan.firstSegment, plan.lastSegment)) {
        const fragments = await readSegment(seg.fragmentSize, seg.archiveOffset);
        // Data fragments all there: the segment is their concatenation, no decode.
        const pieces: Buffer[] = [];
        if (fragments.slice(0, ec.k).every((f) => f !== undefined)) pieces.push(...(fragments.slice(0, ec.k) as Buffer[]));
        else pieces.push(await codec!.decode(fragments));
        let segLeft = seg.length;
        for (const piece of pieces) {
          let bytes = piece.subarray(0, Math.min(piece.length, segLeft));
          segLeft -= bytes.length;
          if (skip > 0) {
            const drop = Math.min(skip, bytes.length);
            bytes = bytes.subarray(drop);
            skip -= drop;
          }
          if (bytes.length > left) bytes = bytes.subarray(0, left);
          left -= bytes.length;
          if (bytes.length > 0) yield bytes;
          if (left === 0 || segLeft === 0) break;
        }
        if (left === 0) return;
      }
    } finally {
      for (const s of sources.values()) s.destroy();
    }
  }

  /** One fragment of the segment from each of k sources; a failed source is replaced from this segment on. */
  async function readSegment(length: number, offset: number): Promise<Array<Buffer | undefined>> {
    const fragments: Array<Buffer | undefined> = new Array(ec.k + ec.m).fill(undefined);
    let pending = [...sources.entries()];
    for (;;) {
      const got = await Promise.allSettled(pending.map(([, r]) => r.read(length)));
      for (const [i, [frag, source]] of pending.entries()) {
        const r = got[i];
        if (r.status === 'fulfilled') fragments[frag] = r.value;
        else drop(source);
      }
      if (sources.size >= k) return fragments;
      const before = new Set(sources.keys());
      if (!(await refill(offset))) throw new ArcaError('InsufficientReplicas', `fewer than ${k} fragment archives could be read at archive byte ${offset}`);
      pending = [...sources.entries()].filter(([frag]) => !before.has(frag));
    }
  }

  return { meta, body: Readable.from(body(), { objectMode: false }), range: range ? wanted : undefined };
}
