/**
 * What the parts of the EC policy share: the policy's settings, placement of an object's partition, and how
 * one storage node's answer about one fragment archive is read (a probe).
 */
import type { IncomingMessage } from 'node:http';
import { ArcaError } from '../../common/errors.js';
import type { Timestamp } from '../../common/timestamp.js';
import { BackendHeader, decodeHeaderJson, type FragmentArchiveInfo, type ObjectMeta, objectPath } from '../../common/wire.js';
import type { ErasureCodec } from '../../erasure/index.js';
import type { NodeClient } from '../node-client.js';
import type { ClusterRings, DeviceHealth, PlacementRing, RingDevice } from '../placement.js';
import { ringPath } from '../placement.js';
import type { ObjectTarget } from './policy.js';

/** An EC policy's settings and collaborators. */
export interface EcContext {
  readonly name: string;
  readonly index: number;
  readonly k: number;
  readonly m: number;
  /** Segment size of new objects (existing ones carry theirs in `ec.segmentSize`). */
  readonly segmentSize: number;
  readonly codec: ErasureCodec;
  readonly client: NodeClient;
  readonly rings: ClusterRings;
  /** The proxy's error limiter, which reads and writes feed and heed (error-limiter.ts; none: every device is asked). */
  readonly limiter?: DeviceHealth;
}

export interface Placement {
  ring: PlacementRing;
  part: number;
  /** Primary i keeps fragment archive i. */
  primaries: RingDevice[];
}

export function place(ctx: EcContext, t: ObjectTarget): Placement {
  const ring = ctx.rings.object(ctx.index);
  const part = ring.partition(ringPath(t.account, t.bucket, t.key));
  const primaries = ring.primaries(part);
  if (primaries.length !== ctx.k + ctx.m) {
    throw new ArcaError('Internal', `the ring of ${ctx.name} has ${primaries.length} replicas, not ${ctx.k + ctx.m}`);
  }
  return { ring, part, primaries };
}

/** The handoffs of a partition, lazily, skipping devices that are primaries of it (small rings repeat them). */
export function* handoffsOf(p: Placement): Generator<RingDevice> {
  const primaryIds = new Set(p.primaries.map((d) => d.id));
  for (const dev of p.ring.handoffs(p.part)) if (!primaryIds.has(dev.id)) yield dev;
}

export function archivePath(dev: RingDevice, part: number, t: ObjectTarget): string {
  return objectPath(dev.device, part, t.account, t.bucket, t.key);
}

/** What one device said about the object: a fragment archive (with its body for a GET), a tombstone, or nothing. */
export interface ArchiveProbe {
  dev: RingDevice;
  status: number;
  /** The version's timestamp (data or tombstone). */
  ts?: Timestamp;
  metaTs?: Timestamp;
  deleted: boolean;
  meta?: ObjectMeta;
  ec?: FragmentArchiveInfo;
  /** Fragment index of the archive answered. */
  frag?: number;
  /** The archive bytes (GET 200/206), to consume or destroy. */
  stream?: IncomingMessage;
  /** First and last archive byte of `stream`. */
  offset?: number;
  end?: number;
}

/** Reads a node's status and headers as a probe; 5xx and unexpected statuses throw (the device counts as failed). */
export function probeOf(dev: RingDevice, status: number, headers: Record<string, string | string[] | undefined>): ArchiveProbe {
  if (![200, 206, 404, 412, 416].includes(status)) throw new ArcaError('Internal', `device ${dev.ip}:${dev.port}/${dev.device} answered ${status}`);
  const probe: ArchiveProbe = { dev, status, deleted: headers[BackendHeader.deleted] === '1' };
  const ts = headers[BackendHeader.timestamp];
  if (typeof ts === 'string') probe.ts = ts;
  const metaTs = headers[BackendHeader.metaTimestamp];
  if (typeof metaTs === 'string') probe.metaTs = metaTs;
  if (status === 200 || status === 206 || status === 416) {
    probe.meta = decodeHeaderJson<ObjectMeta>(headers[BackendHeader.meta]);
    const ec = probe.meta?.ec as FragmentArchiveInfo | undefined;
    if (ec && typeof ec === 'object') probe.ec = ec;
    const frag = Number(headers[BackendHeader.fragmentIndex]);
    if (Number.isInteger(frag)) probe.frag = frag;
    else if (ec) probe.frag = ec.frag;
  }
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\//.exec(String(headers['content-range'] ?? ''));
    if (m) {
      probe.offset = Number(m[1]);
      probe.end = Number(m[2]);
    }
  } else if (status === 200) {
    probe.offset = 0;
    probe.end = Number(headers['content-length'] ?? 0) - 1;
  }
  return probe;
}

/** Releases probe bodies that will not be read. */
export function dropStreams(probes: Iterable<ArchiveProbe>, keep?: ReadonlySet<ArchiveProbe>): void {
  for (const p of probes) {
    if (keep?.has(p)) continue;
    p.stream?.destroy();
    p.stream = undefined;
  }
}
