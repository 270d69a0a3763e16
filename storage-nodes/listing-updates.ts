/**
 * The storage node's own outgoing requests: listing updates (`POST ?rows`) to the listing replicas an
 * object write names, over one keep-alive agent owned by the composition root.
 */
import http from 'node:http';
import { type ContainerUpdateTarget, type ListingRow, listingPath } from '../src/common/wire.js';

/** Sends listing rows to listing servers. */
export class ListingUpdateClient {
  constructor(
    private readonly agent: http.Agent,
    private readonly timeoutMs: number,
  ) {}

  /**
   * POSTs `rows` to the container listing of `account/bucket` on `target`; resolves to the reply status, or
   * 0 when the replica could not be reached or did not answer within the timeout.
   */
  sendRows(target: ContainerUpdateTarget, account: string, bucket: string, rows: ListingRow[]): Promise<number> {
    const body = Buffer.from(JSON.stringify({ rows }));
    return new Promise((resolve) => {
      let settled = false;
      const done = (status: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(status);
      };
      const req = http.request(
        {
          host: target.ip,
          port: target.port,
          method: 'POST',
          path: `${listingPath(target.device, target.partition, account, bucket)}?rows`,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          agent: this.agent,
        },
        (res) => {
          res.resume();
          res.once('end', () => done(res.statusCode ?? 0));
          res.once('error', () => done(0));
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        done(0);
      }, this.timeoutMs);
      req.once('error', () => done(0));
      req.end(body);
    });
  }
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
