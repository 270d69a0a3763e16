/**
 * The replicators' requests to other storage nodes (wire.ts, "Replication"): suffix hashes and contents,
 * sync writes of single versions, and listing sync. Every call resolves — to a status of 0 when the peer could
 * not be reached or went silent for the node timeout — so a replicator decides per peer, never per exception.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Timestamp } from '../src/common/timestamp.js';
import {
  BackendHeader,
  decodeHeaderJson,
  encodeHeaderJson,
  type ListingReplicateBatch,
  type ListingSyncRequest,
  type ListingSyncResponse,
  listingPath,
  type ObjectMeta,
  objectPath,
  type PartitionChanges,
  partitionPath,
  type SuffixContents,
  type SuffixHashes,
  type SuffixInventory,
} from '../src/common/wire.js';
import type { DataFile } from './disk-file.js';
import type { MetaFileContent } from './hash-dir.js';

/** Where a peer device is. */
export interface PeerDevice {
  ip: string;
  port: number;
  device: string;
}

interface CallOptions {
  method: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | Readable;
  /** Trailers after the body; a function is called once the body has ended (what only then is known). */
  trailers?: Record<string, string> | (() => Record<string, string>);
  /** Largest response body kept (JSON answers); longer ones count as failures. */
  maxResponseBytes?: number;
}

interface Reply {
  status: number;
  body: Buffer;
}

/** Requests of the replicators, over the node's keep-alive agent. */
export class ReplicationClient {
  constructor(
    private readonly agent: http.Agent,
    private readonly timeoutMs: number,
  ) {}

  /** The peer's suffix hashes of a partition (recomputing `recalculate` first); undefined with the status when it failed. */
  async hashes(peer: PeerDevice, policyIndex: number, partition: number, recalculate: readonly string[] = []): Promise<{ status: number; hashes?: SuffixHashes }> {
    const q = recalculate.length > 0 ? `?hashes&recalculate=${recalculate.join(',')}` : '?hashes';
    const reply = await this.#call(peer, { method: 'GET', path: partitionPath('o', peer.device, partition) + q, headers: policyHeader(policyIndex) });
    const hashes = reply.status === 200 ? parseJson<SuffixHashes>(reply.body) : undefined;
    return hashes ? { status: 200, hashes } : { status: reply.status === 200 ? 0 : reply.status };
  }

  /**
   * Which partitions of a policy changed on the peer's device after generation `since` (with `digests`, and the
   * digests of their suffix hashes; with `all`, every partition it holds); no `changes` (with the status) when
   * it failed.
   */
  async changes(peer: PeerDevice, policyIndex: number, since: number, opts: { digests?: boolean; all?: boolean } = {}): Promise<{ status: number; changes?: PartitionChanges }> {
    const q = `?changes&since=${since}${opts.digests ? '&digests' : ''}${opts.all ? '&all' : ''}`;
    const reply = await this.#call(peer, { method: 'GET', path: `/o/${encodeURIComponent(peer.device)}${q}`, headers: policyHeader(policyIndex) });
    const c = reply.status === 200 ? parseJson<PartitionChanges>(reply.body) : undefined;
    const ok =
      c &&
      typeof c.epoch === 'string' &&
      Number.isSafeInteger(c.gen) &&
      Array.isArray(c.partitions) &&
      (c.digests === undefined || (typeof c.digests === 'object' && c.digests !== null));
    return ok ? { status: 200, changes: c } : { status: reply.status === 200 ? 0 : reply.status };
  }

  /** The peer's newest version per hash dir of the given suffixes; undefined when it failed. */
  async suffixContents(peer: PeerDevice, policyIndex: number, partition: number, suffixes: readonly string[]): Promise<SuffixContents | undefined> {
    const reply = await this.#call(peer, {
      method: 'GET',
      path: `${partitionPath('o', peer.device, partition)}?suffixes=${suffixes.join(',')}`,
      headers: policyHeader(policyIndex),
    });
    return reply.status === 200 ? parseJson<SuffixContents>(reply.body) : undefined;
  }

  /**
   * Pushes a data file as a sync write: the body streamed from disk, the stored metadata as it is, the footer
   * carrying the stored size and XXH64 (so the peer refuses a body that rotted here). Takes over `file`. A
   * fragment archive names its index and whether it is durable (`archive`). Resolves to the peer's status
   * (0 when unreachable).
   */
  async pushData(peer: PeerDevice, policyIndex: number, partition: number, file: DataFile, archive?: { frag: number; durable: boolean }): Promise<number> {
    const path = pathOfName(peer.device, partition, file.meta.name);
    if (!path) {
      await file.close();
      return 400;
    }
    const raw = file.rawMeta;
    const reply = await this.#call(peer, {
      method: 'PUT',
      path,
      headers: {
        ...policyHeader(policyIndex),
        ...archiveHeaders(archive),
        [BackendHeader.timestamp]: file.meta.ts,
        [BackendHeader.meta]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url'),
        [BackendHeader.replication]: '1',
        'transfer-encoding': 'chunked',
        trailer: BackendHeader.footer,
      },
      body: file.read(),
      trailers: { [BackendHeader.footer]: encodeHeaderJson({ size: file.meta.size, xxh64: file.meta.xxh64 }) },
    });
    return reply.status;
  }

  /**
   * Writes a fragment archive made here (a rebuilt one) to a device as a durable sync write: `meta` is its
   * ObjectMeta (its `ts` the version), `body` streams it, and `footer()` — called once the body ended — gives
   * its size and XXH64. Resolves to the device's status (0 when unreachable).
   */
  async pushArchive(peer: PeerDevice, policyIndex: number, partition: number, meta: Record<string, unknown> & { name: string; ts: Timestamp }, frag: number, body: Readable, footer: () => { size: number; xxh64: string }): Promise<number> {
    const path = pathOfName(peer.device, partition, meta.name);
    if (!path) {
      body.destroy();
      return 400;
    }
    const reply = await this.#call(peer, {
      method: 'PUT',
      path,
      headers: {
        ...policyHeader(policyIndex),
        ...archiveHeaders({ frag, durable: true }),
        [BackendHeader.timestamp]: meta.ts,
        [BackendHeader.meta]: encodeHeaderJson(meta),
        [BackendHeader.replication]: '1',
        'transfer-encoding': 'chunked',
        trailer: BackendHeader.footer,
      },
      body,
      trailers: () => ({ [BackendHeader.footer]: encodeHeaderJson(footer()) }),
    });
    return reply.status;
  }

  /**
   * Opens fragment archive `frag` of version `ts` of an object on a peer: its metadata and a stream of its
   * bytes (to consume or destroy); undefined when the peer does not hold exactly that (or is unreachable).
   */
  async fetchArchive(peer: PeerDevice, policyIndex: number, partition: number, name: string, frag: number, ts: Timestamp): Promise<{ meta: ObjectMeta; body: IncomingMessage } | undefined> {
    const path = pathOfName(peer.device, partition, name);
    if (!path) return undefined;
    return new Promise((resolve) => {
      const req = http.request(
        {
          host: peer.ip,
          port: peer.port,
          method: 'GET',
          path,
          agent: this.agent,
          headers: { ...policyHeader(policyIndex), [BackendHeader.fragmentIndex]: String(frag), [BackendHeader.ifTimestamp]: ts },
        },
        (res) => {
          const meta = decodeHeaderJson<ObjectMeta>(res.headers[BackendHeader.meta]);
          if (res.statusCode !== 200 || !meta) {
            res.resume();
            resolve(undefined);
            return;
          }
          resolve({ meta, body: res });
        },
      );
      req.once('error', () => resolve(undefined));
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error('peer timed out')));
      req.end();
    });
  }

  /** Marks a pending fragment archive of a peer durable (`POST …?commit`, no listing update); the peer's status. */
  async commitArchive(peer: PeerDevice, policyIndex: number, partition: number, name: string, frag: number, ts: Timestamp): Promise<number> {
    const path = pathOfName(peer.device, partition, name);
    if (!path) return 400;
    const reply = await this.#call(peer, {
      method: 'POST',
      path: `${path}?commit`,
      headers: { ...policyHeader(policyIndex), ...archiveHeaders({ frag, durable: true }), [BackendHeader.timestamp]: ts, [BackendHeader.replication]: '1' },
    });
    return reply.status;
  }

  /** The peer's inventory of some suffixes of a partition (states and object names); undefined when it failed. */
  async suffixInventory(peer: PeerDevice, policyIndex: number, partition: number, suffixes: readonly string[]): Promise<SuffixInventory | undefined> {
    const reply = await this.#call(peer, {
      method: 'GET',
      path: `${partitionPath('o', peer.device, partition)}?suffixes=${suffixes.join(',')}&names`,
      headers: policyHeader(policyIndex),
    });
    return reply.status === 200 ? parseJson<SuffixInventory>(reply.body) : undefined;
  }

  /**
   * Pushes a `.meta` file as a sync POST: its merged patch at its timestamp, merged there over any older
   * patch. Resolves to the peer's status: 202 taken, 409 the peer has it or newer, 404 no data to apply it to.
   */
  async pushMeta(peer: PeerDevice, policyIndex: number, partition: number, content: MetaFileContent): Promise<number> {
    const path = pathOfName(peer.device, partition, content.name);
    if (!path) return 400;
    const reply = await this.#call(peer, {
      method: 'POST',
      path,
      headers: {
        ...policyHeader(policyIndex),
        [BackendHeader.timestamp]: content.ts,
        [BackendHeader.meta]: encodeHeaderJson(content.meta),
        [BackendHeader.replication]: '1',
      },
    });
    return reply.status;
  }

  /** Pushes a tombstone as a sync write; resolves to the peer's status (0 when unreachable). */
  async pushTombstone(peer: PeerDevice, policyIndex: number, partition: number, name: string, ts: Timestamp): Promise<number> {
    const path = pathOfName(peer.device, partition, name);
    if (!path) return 400;
    const reply = await this.#call(peer, {
      method: 'DELETE',
      path,
      headers: { ...policyHeader(policyIndex), [BackendHeader.timestamp]: ts, [BackendHeader.replication]: '1' },
    });
    return reply.status;
  }

  /** Asks a listing peer how far it has merged each listing's changes; undefined when it failed. */
  async listingSync(peer: PeerDevice, partition: number, request: ListingSyncRequest): Promise<ListingSyncResponse | undefined> {
    const reply = await this.#call(peer, {
      method: 'POST',
      path: `${partitionPath('l', peer.device, partition)}?sync`,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(request)),
    });
    const parsed = reply.status === 200 ? parseJson<ListingSyncResponse>(reply.body) : undefined;
    return parsed && Array.isArray(parsed.points) && parsed.points.length === request.listings.length ? parsed : undefined;
  }

  /** Sends a batch of a listing's changes; resolves to the peer's status (0 when unreachable). */
  async listingReplicate(peer: PeerDevice, partition: number, account: string, bucket: string | undefined, batch: ListingReplicateBatch): Promise<number> {
    const reply = await this.#call(peer, {
      method: 'POST',
      path: `${listingPath(peer.device, partition, account, bucket)}?replicate`,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(batch)),
    });
    return reply.status;
  }

  #call(peer: PeerDevice, opts: CallOptions): Promise<Reply> {
    const maxBytes = opts.maxResponseBytes ?? 64 * 1024 * 1024;
    return new Promise((resolve) => {
      let settled = false;
      let replied = false;
      const body = opts.body;
      const done = (reply: Reply) => {
        if (settled) return;
        settled = true;
        if (body && !Buffer.isBuffer(body)) {
          body.destroy();
          // Answered before the whole body went out (an early 409): this socket cannot carry another request.
          if (!req.writableFinished) req.destroy();
        }
        resolve(reply);
      };
      const headers = { ...opts.headers };
      if (Buffer.isBuffer(body) && !opts.trailers) headers['content-length'] = body.length;
      const req = http.request({ host: peer.ip, port: peer.port, method: opts.method, path: opts.path, headers, agent: this.agent }, (res) => {
        replied = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= maxBytes) chunks.push(c);
        });
        res.once('end', () => done({ status: size > maxBytes ? 0 : (res.statusCode ?? 0), body: Buffer.concat(chunks) }));
        res.once('error', () => done({ status: 0, body: Buffer.alloc(0) }));
      });
      // The peer may answer (409) and close before taking the whole body: what it said counts when it arrives
      // before the reset; otherwise the push counts as failed and the next pass finds the peer's newer version.
      req.once('error', () => {
        if (!replied) done({ status: 0, body: Buffer.alloc(0) });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error('peer timed out')));
      if (body === undefined || Buffer.isBuffer(body)) {
        if (body && opts.trailers) {
          // Chunked with a trailer: the body, then the footer.
          req.write(body);
          req.addTrailers(typeof opts.trailers === 'function' ? opts.trailers() : opts.trailers);
          req.end();
        } else {
          req.end(body);
        }
        return;
      }
      body.once('error', (err) => req.destroy(err));
      body.on('data', (chunk: Buffer) => {
        if (!req.write(chunk)) {
          body.pause();
          req.once('drain', () => body.resume());
        }
      });
      body.once('end', () => {
        if (opts.trailers) req.addTrailers(typeof opts.trailers === 'function' ? opts.trailers() : opts.trailers);
        req.end();
      });
    });
  }
}

/** The object path of a name `/account/bucket/key` on a peer device; undefined for a malformed name. */
export function pathOfName(device: string, partition: number, name: string): string | undefined {
  const i = name.indexOf('/', 1);
  const j = i < 0 ? -1 : name.indexOf('/', i + 1);
  if (!name.startsWith('/') || i <= 1 || j <= i + 1 || j === name.length - 1) return undefined;
  return objectPath(device, partition, name.slice(1, i), name.slice(i + 1, j), name.slice(j + 1));
}

function archiveHeaders(archive: { frag: number; durable: boolean } | undefined): http.OutgoingHttpHeaders {
  if (!archive) return {};
  return { [BackendHeader.fragmentIndex]: String(archive.frag), ...(archive.durable ? { [BackendHeader.durable]: '1' } : {}) };
}

function policyHeader(policyIndex: number): http.OutgoingHttpHeaders {
  return { [BackendHeader.policyIndex]: String(policyIndex) };
}

function parseJson<T>(body: Buffer): T | undefined {
  try {
    const v = JSON.parse(body.toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}
