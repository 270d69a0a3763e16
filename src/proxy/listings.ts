/**
 * Client of the listing replicas (account and container listings), placed by the account and container
 * rings. Writes go to every replica (a handoff stands in for one that cannot be reached) and succeed at a
 * majority; reads take the first replica that knows the listing, starting with the first primary or, for the
 * heavy reads (object listing pages), with each primary in turn, replicas that failed lately last.
 */
import { ArcaError } from '../common/errors.js';
import { type ContainerUpdateTarget, listingPath } from '../common/wire.js';
import type { NodeClient, NodeReply } from './node-client.js';
import { type ClusterRings, candidates, type PlacementRing, type RingDevice, ringPath, withStandIns } from './placement.js';

export interface ListingCall {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  body?: unknown;
}

function queryString(q: ListingCall['query']): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    parts.push(v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** How long a replica that failed a read is tried after the others by spread reads. */
const failedReadMs = 10_000;

export class ListingClient {
  /** Spread reads so far: which primary the next one starts with. */
  #turn = 0;
  /** Replicas (`ip:port/device`) whose last read failed, until when they go last. */
  readonly #failed = new Map<string, number>();

  constructor(
    private readonly rings: ClusterRings,
    private readonly client: NodeClient,
  ) {}

  private place(account: string, bucket?: string): { ring: PlacementRing; part: number } {
    const ring = bucket === undefined ? this.rings.account : this.rings.container;
    return { ring, part: ring.partition(ringPath(account, bucket)) };
  }

  private send(dev: RingDevice, part: number, account: string, bucket: string | undefined, call: ListingCall): Promise<NodeReply> {
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const headers = { ...call.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.client.request(dev, {
      method: call.method,
      path: listingPath(dev.device, part, account, bucket) + queryString(call.query),
      headers,
      body,
    });
  }

  /** The listing replicas an object server should update for objects of this bucket. */
  updateTargets(account: string, bucket: string): ContainerUpdateTarget[] {
    const { ring, part } = this.place(account, bucket);
    return ring.primaries(part).map((d) => ({ ip: d.ip, port: d.port, device: d.device, partition: part }));
  }

  /**
   * Sends a write to every replica; resolves with the replies that arrived (a handoff replaces a replica that
   * could not be reached). Throws InsufficientReplicas when fewer than a majority answered below 500.
   */
  async write(account: string, bucket: string | undefined, call: ListingCall): Promise<NodeReply[]> {
    const { ring, part } = this.place(account, bucket);
    const attempts = await withStandIns(ring.primaries(part), ring.handoffs(part)[Symbol.iterator](), async (dev) => {
      const reply = await this.send(dev, part, account, bucket, call);
      return reply.status < 500 ? reply : undefined;
    });
    const replies = attempts.filter((r): r is NodeReply => r !== undefined);
    const quorum = Math.floor(ring.replicaCount / 2) + 1;
    if (replies.length < quorum) {
      throw new ArcaError('InsufficientReplicas', `${replies.length} of ${ring.replicaCount} listing replicas answered`);
    }
    return replies;
  }

  /** How many replicas (primaries) a listing has. */
  replicaCount(account: string, bucket: string | undefined): number {
    return this.place(account, bucket).ring.replicaCount;
  }

  /**
   * Sends a call to replica `index` (the index-th primary) of a listing, and to no other: for state that is
   * each replica's own (change logs). Undefined when it could not be reached or answered 5xx.
   */
  async callReplica(account: string, bucket: string | undefined, index: number, call: ListingCall): Promise<NodeReply | undefined> {
    const { ring, part } = this.place(account, bucket);
    const dev = ring.primaries(part)[index];
    if (!dev) return undefined;
    try {
      const reply = await this.send(dev, part, account, bucket, call);
      return reply.status < 500 ? reply : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Reads from the replicas in turn until one answers 2xx; resolves with that reply, or with a 404 when every
   * replica that answered said 404 and a primary was among them. Throws InsufficientReplicas when none
   * answered, or only handoffs did: a handoff's 404 says only that it holds no copy, so with every primary
   * failing (down, or slower than the node timeout) a bucket that exists would read as missing; the client
   * gets a 503 to retry instead of NoSuchBucket. A primary that failed a read in the last `failedReadMs` is
   * asked after the others (a hung replica costs one read a timeout, not every read). With `spread`, the
   * primaries that did not fail take turns at being asked first, so the listing reads of a busy bucket load
   * every replica rather than one, as Swift's proxy shuffles them.
   */
  async read(account: string, bucket: string | undefined, call: ListingCall, opts: { spread?: boolean } = {}): Promise<NodeReply> {
    const { ring, part } = this.place(account, bucket);
    let notFound: NodeReply | undefined;
    const devices = [...candidates(ring, part, ring.replicaCount)];
    const primaries = new Set(ring.primaries(part).map(deviceKey));
    const order = this.#order(devices, primaries.size, opts.spread === true);
    let primarySaid404 = false;
    for (const dev of order) {
      const key = deviceKey(dev);
      try {
        const reply = await this.send(dev, part, account, bucket, call);
        if (reply.status < 500) this.#failed.delete(key);
        else this.#failed.set(key, Date.now() + failedReadMs);
        if (reply.status >= 200 && reply.status < 300) return reply;
        if (reply.status === 404) {
          notFound ??= reply;
          if (primaries.has(key)) primarySaid404 = true;
        }
      } catch {
        this.#failed.set(key, Date.now() + failedReadMs);
        // next replica
      }
    }
    if (notFound && primarySaid404) return notFound;
    throw new ArcaError('InsufficientReplicas', `no ${notFound ? 'primary ' : ''}listing replica of ${ringPath(account, bucket)} answered${notFound ? ' (only handoffs, which hold no copy)' : ''}`);
  }

  /**
   * The primaries (the first `primaries` devices) that did not fail a read lately — rotated by one more each
   * call with `spread`, in ring order without — then those that did; then the rest.
   */
  #order(devices: RingDevice[], primaries: number, spread: boolean): RingDevice[] {
    if (!spread && this.#failed.size === 0) return devices;
    const now = Date.now();
    const healthy: RingDevice[] = [];
    const failed: RingDevice[] = [];
    for (const dev of devices.slice(0, primaries)) {
      const until = this.#failed.get(deviceKey(dev));
      if (until !== undefined && until <= now) this.#failed.delete(deviceKey(dev));
      (until !== undefined && until > now ? failed : healthy).push(dev);
    }
    const start = !spread || healthy.length === 0 ? 0 : this.#turn++ % healthy.length;
    return [...healthy.slice(start), ...healthy.slice(0, start), ...failed, ...devices.slice(primaries)];
  }
}

function deviceKey(dev: RingDevice): string {
  return `${dev.ip}:${dev.port}/${dev.device}`;
}
