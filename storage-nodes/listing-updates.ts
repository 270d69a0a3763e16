/**
 * The storage node's own outgoing requests: listing updates (`POST ?rows`) to the listing replicas an
 * object write names, framed (src/common/frames.ts) when a frame client is given and the peer takes frames,
 * else over one keep-alive agent owned by the composition root.
 */
import http from 'node:http';
import type { ErrorLimiter } from '../src/common/error-limiter.js';
import type { FrameClient } from '../src/common/frames.js';
import { type ContainerUpdateTarget, type ListingRow, listingPath } from '../src/common/wire.js';

/** Rows waiting for the request in flight to their listing replica, and the callers waiting on them. */
interface Queued {
  rows: ListingRow[];
  waiters: ((status: number) => void)[];
}

/**
 * Sends listing rows to listing servers. Updates of one listing replica go one request at a time: rows that
 * come while a request to the same replica is in flight wait for it and then go together in the next one
 * (the listing server merges a request's rows in one batch), so under load N concurrent writes to a bucket
 * cost a few requests instead of N. A row that comes when nothing is in flight goes at once.
 */
export class ListingUpdateClient {
  /** Per listing replica: present while a request is in flight, with the rows queued behind it (if any). */
  readonly #busy = new Map<string, Queued | undefined>();

  constructor(
    private readonly agent: http.Agent,
    private readonly timeoutMs: number,
    /** Its request timeout should be `timeoutMs`. */
    private readonly frames?: FrameClient,
    /**
     * Counts each request that fails (no answer in time, an error status) against its listing replica; a
     * limited replica is answered 0 at once, without a request (src/common/error-limiter.ts).
     */
    private readonly limiter?: ErrorLimiter,
  ) {}

  /**
   * Sends `rows` to the container listing of `account/bucket` on `target`; resolves to the reply status, or
   * 0 when the replica could not be reached or did not answer within the timeout (counted from this call,
   * queueing included). Rows without `ifAbsent` only (a batch shares one status).
   */
  sendRows(target: ContainerUpdateTarget, account: string, bucket: string, rows: ListingRow[]): Promise<number> {
    const path = listingPath(target.device, target.partition, account, bucket);
    const key = `${target.ip}:${target.port}${path}`;
    if (this.limiter?.limited(target)) return Promise.resolve(0);
    if (!this.#busy.has(key)) return this.#send(key, target, path, rows);
    let queued = this.#busy.get(key);
    if (!queued) {
      queued = { rows: [], waiters: [] };
      this.#busy.set(key, queued);
    }
    queued.rows.push(...rows);
    const waiters = queued.waiters;
    return new Promise((resolve) => waiters.push(settleOnce(resolve, this.timeoutMs)));
  }

  /** One request; when it ends, the rows queued meanwhile for the same replica go in the next. */
  #send(key: string, target: ContainerUpdateTarget, path: string, rows: ListingRow[]): Promise<number> {
    this.#busy.set(key, undefined);
    const sent = this.#post(target, path, rows).then((status) => {
      if (status === 0 || status >= 500) this.limiter?.failed(target);
      return status;
    });
    void sent.then(() => {
      const queued = this.#busy.get(key);
      this.#busy.delete(key);
      if (!queued) return;
      void this.#send(key, target, path, queued.rows).then((status) => {
        for (const w of queued.waiters) w(status);
      });
    });
    return sent;
  }

  #post(target: ContainerUpdateTarget, path: string, rows: ListingRow[]): Promise<number> {
    const body = Buffer.from(JSON.stringify({ rows }));
    const frames = this.frames;
    if (!frames) return this.#postHttp(target, path, body);
    return new Promise((resolve) => {
      // The timeout counts from here, the connection's set-up included.
      const done = settleOnce(resolve, this.timeoutMs);
      frames.request(target.ip, target.port, 'POST', `${path}?rows`, { 'content-type': 'application/json' }, body).then(
        (reply) => (reply ? done(reply.status) : this.#postHttp(target, path, body).then(done)),
        () => done(0),
      );
    });
  }

  #postHttp(target: ContainerUpdateTarget, path: string, body: Buffer): Promise<number> {
    return new Promise((resolve) => {
      const req = http.request(
        {
          host: target.ip,
          port: target.port,
          method: 'POST',
          path: `${path}?rows`,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          agent: this.agent,
        },
        (res) => {
          res.resume();
          res.once('end', () => done(res.statusCode ?? 0));
          res.once('error', () => done(0));
        },
      );
      const done = settleOnce(resolve, this.timeoutMs, () => req.destroy());
      req.once('error', () => done(0));
      req.end(body);
    });
  }
}

/**
 * `resolve` wrapped to take the first status it is given, or 0 after `timeoutMs` (calling `onTimeout` then);
 * later calls do nothing.
 */
function settleOnce(resolve: (status: number) => void, timeoutMs: number, onTimeout?: () => void): (status: number) => void {
  let settled = false;
  const done = (status: number) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    resolve(status);
  };
  const timer = setTimeout(() => {
    onTimeout?.();
    done(0);
  }, timeoutMs);
  return done;
}

/** Parses `x-backend-container-updates`: a JSON array of targets, plain or base64url-encoded. */
export function parseContainerUpdates(value: string | undefined): ContainerUpdateTarget[] | undefined {
  if (value === undefined || value === '') return [];
  let parsed: unknown;
  try {
    const text = value.trimStart().startsWith('[') ? value : Buffer.from(value, 'base64url').toString('utf8');
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  for (const t of parsed) {
    if (typeof t !== 'object' || t === null) return undefined;
    const { ip, port, device, partition } = t as Record<string, unknown>;
    if (typeof ip !== 'string' || typeof device !== 'string' || !Number.isInteger(port) || !Number.isInteger(partition)) return undefined;
  }
  return parsed as ContainerUpdateTarget[];
}
