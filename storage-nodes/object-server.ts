/**
 * The object server: PUT, GET/HEAD and DELETE of objects (or fragment archives) on this node's devices, as
 * wire.ts defines them. It streams bodies into and out of DiskFiles, verifies what it received against the
 * footer trailer, and keeps the bucket's listing replicas up to date (queueing the update durably when a
 * replica does not take it).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ArcaError, isArcaError } from '../src/common/errors.js';
import { isTimestamp, type Timestamp } from '../src/common/timestamp.js';
import {
  BackendHeader,
  type ContainerUpdateTarget,
  decodeHeaderJson,
  type ListingRow,
  type ObjectFooter,
  type ObjectMeta,
  type ParsedBackendPath,
} from '../src/common/wire.js';
import { createXxh64 } from '../src/common/xxh64.js';
import type { AsyncPendingRecord } from './async-pending.js';
import { CorruptDataFileError, type DiskFiles, type ObjectLocation } from './disk-file.js';
import { BadRequestError, header, send } from './http-util.js';
import { parseContainerUpdates } from './listing-updates.js';
import { decideRange } from './range.js';

export type ObjectPath = Extract<ParsedBackendPath, { kind: 'object' }>;

export interface ObjectServerDeps {
  files: DiskFiles;
  /** Sends rows to one listing replica; resolves to its status (0 when unreachable). */
  sendRows(target: ContainerUpdateTarget, account: string, bucket: string, rows: ListingRow[]): Promise<number>;
  /** Queues a listing update durably on `device` for the updater. */
  queueUpdate(device: string, record: AsyncPendingRecord): Promise<void>;
  /** Policy indexes configured on this node. */
  policies: ReadonlySet<number>;
  log: (line: string) => void;
}

/** Handles `/o/…` requests. */
export class ObjectServer {
  constructor(private readonly deps: ObjectServerDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    switch (req.method) {
      case 'PUT':
        return this.#put(req, res, path);
      case 'GET':
      case 'HEAD':
        return this.#get(req, res, path);
      case 'DELETE':
        return this.#delete(req, res, path);
      default:
        send(res, 405, { allow: 'GET, HEAD, PUT, DELETE' });
    }
  }

  async #put(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    const ts = requireTimestamp(req);
    const location = this.#location(req, path);
    const metaHeader = header(req, BackendHeader.meta);
    const headerMeta = metaHeader === undefined ? {} : decodeHeaderJson<Record<string, unknown>>(metaHeader);
    if (typeof headerMeta !== 'object' || headerMeta === null || Array.isArray(headerMeta)) throw new BadRequestError(`bad ${BackendHeader.meta}`);
    const replication = isReplication(req);
    if (replication && headerMeta.ts !== ts) throw new BadRequestError(`a sync write needs the stored ${BackendHeader.meta} of version ${ts}`);
    const updates = replication ? [] : requireUpdates(req);

    // Refuse what commit would refuse anyway before the body crosses the wire; the tmp file opens meanwhile.
    const [newestResult, writerResult] = await Promise.allSettled([this.deps.files.newest(location), this.deps.files.create(location)]);
    if (newestResult.status === 'rejected' || writerResult.status === 'rejected') {
      if (writerResult.status === 'fulfilled') await writerResult.value.abort();
      throw newestResult.status === 'rejected' ? newestResult.reason : (writerResult as PromiseRejectedResult).reason;
    }
    const newest = newestResult.value;
    const writer = writerResult.value;
    if (newest && newest.ts >= ts) {
      await writer.abort();
      send(res, 409, { [BackendHeader.timestamp]: newest.ts, connection: 'close' });
      return;
    }
    const hash = createXxh64();
    let size = 0;
    try {
      await pumpBody(req, (chunk) => {
        size += chunk.length;
        hash.update(chunk);
        return writer.write(chunk);
      });
    } catch (err) {
      await writer.abort();
      if (isArcaError(err, 'ClientAborted')) {
        res.destroy();
        return;
      }
      throw err;
    }
    const footer = decodeHeaderJson<ObjectFooter>(req.trailers[BackendHeader.footer]);
    if (typeof footer !== 'object' || footer === null) {
      await writer.abort();
      throw new BadRequestError(`the body ended without an ${BackendHeader.footer} trailer`);
    }
    const xxh64 = hash.digestHex();
    if (footer.size !== size || footer.xxh64 !== xxh64) {
      await writer.abort();
      send(res, 422, { 'content-type': 'text/plain' }, `received ${size} bytes with xxh64 ${xxh64}; the footer says ${footer.size} bytes with xxh64 ${footer.xxh64}\n`);
      return;
    }
    const meta = { ...headerMeta, ...footer, name: location.name, ts } as ObjectMeta;
    writer.put(meta);
    try {
      await writer.commit();
    } catch (err) {
      await writer.abort();
      if (isArcaError(err, 'Conflict')) {
        send(res, 409, { [BackendHeader.timestamp]: err.detail.existingTs as string });
        return;
      }
      throw err;
    }
    const row: ListingRow = { name: path.key, ts, size: meta.objectSize ?? meta.size, etag: meta.etag, contentType: meta.contentType, value: meta.listing };
    await this.#updateListings(location.device, path, updates, row);
    send(res, 201, { [BackendHeader.timestamp]: ts, etag: String(meta.etag ?? '') });
  }

  async #get(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    const location = this.#location(req, path);
    let opened: Awaited<ReturnType<DiskFiles['open']>>;
    try {
      opened = await this.deps.files.open(location);
    } catch (err) {
      if (!(err instanceof CorruptDataFileError)) throw err;
      // The auditor quarantines it; meanwhile the proxy reads another replica.
      this.deps.log(`object server: ${err.message}`);
      opened = undefined;
    }
    if (!opened) {
      send(res, 404);
      return;
    }
    if (opened.kind === 'tombstone') {
      send(res, 404, { [BackendHeader.timestamp]: opened.ts, [BackendHeader.deleted]: '1' });
      return;
    }
    const ifTs = header(req, BackendHeader.ifTimestamp);
    if (ifTs !== undefined && ifTs !== opened.meta.ts) {
      await opened.close();
      send(res, 412, { [BackendHeader.timestamp]: opened.meta.ts });
      return;
    }
    const size = opened.size;
    const raw = opened.rawMeta;
    const headers: OutgoingHttpHeaders = {
      [BackendHeader.timestamp]: opened.meta.ts,
      [BackendHeader.meta]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url'),
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
    };
    const range = decideRange(header(req, 'range'), size);
    if (range.kind === 'unsatisfiable') {
      await opened.close();
      send(res, 416, { ...headers, 'content-range': `bytes */${size}` });
      return;
    }
    let status = 200;
    if (range.kind === 'partial') {
      status = 206;
      headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
      headers['content-length'] = range.end - range.start + 1;
    } else {
      headers['content-length'] = size;
    }
    if (req.method === 'HEAD') {
      await opened.close();
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const body = opened.read(range.kind === 'partial' ? range : undefined);
    res.writeHead(status, headers);
    if (Buffer.isBuffer(body)) {
      res.end(body);
      return;
    }
    try {
      await pipeline(body, res);
    } catch {
      // The client went away mid-body; pipeline destroyed both ends and the file was closed.
    }
  }

  async #delete(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    const ts = requireTimestamp(req);
    const location = this.#location(req, path);
    const updates = isReplication(req) ? [] : requireUpdates(req);
    let previous: 'data' | 'tombstone' | undefined;
    try {
      ({ previous } = await this.deps.files.delete(location, ts));
    } catch (err) {
      if (isArcaError(err, 'Conflict')) {
        send(res, 409, { [BackendHeader.timestamp]: err.detail.existingTs as string });
        return;
      }
      throw err;
    }
    await this.#updateListings(location.device, path, updates, { name: path.key, ts, deleted: true });
    send(res, previous === 'data' ? 204 : 404, { [BackendHeader.timestamp]: ts });
  }

  /** Sends the row to every listing replica named; whatever is not taken goes to async pending. */
  async #updateListings(device: string, path: ObjectPath, targets: ContainerUpdateTarget[], row: ListingRow): Promise<void> {
    await Promise.all(
      targets.map(async (target) => {
        const status = await this.deps.sendRows(target, path.account, path.bucket, [row]);
        if (status >= 200 && status < 300) return;
        try {
          await this.deps.queueUpdate(device, { target, account: path.account, bucket: path.bucket, row });
        } catch (err) {
          // The object is durable either way; only this listing update is lost, so say so loudly.
          this.deps.log(`object server: LOST listing update of /${path.account}/${path.bucket}/${path.key} at ${row.ts} for ${target.ip}:${target.port}/${target.device}: ${(err as Error).message}`);
        }
      }),
    );
  }

  #location(req: IncomingMessage, path: ObjectPath): ObjectLocation {
    const policyHeader = header(req, BackendHeader.policyIndex);
    const policyIndex = policyHeader === undefined ? 0 : Number(policyHeader);
    if (!this.deps.policies.has(policyIndex)) throw new BadRequestError(`unknown storage policy index ${policyHeader}`);
    return { device: path.device, policyIndex, partition: path.partition, name: `/${path.account}/${path.bucket}/${path.key}` };
  }
}

function requireTimestamp(req: IncomingMessage): Timestamp {
  const ts = header(req, BackendHeader.timestamp);
  if (!isTimestamp(ts)) throw new BadRequestError(`missing or bad ${BackendHeader.timestamp}`);
  return ts;
}

/**
 * A replicator's sync write: it stores a version another replica already holds, whose listing update was sent
 * when that replica took the client's write — listings replicate among themselves, so none is sent again.
 */
function isReplication(req: IncomingMessage): boolean {
  return header(req, BackendHeader.replication) === '1';
}

function requireUpdates(req: IncomingMessage): ContainerUpdateTarget[] {
  const updates = parseContainerUpdates(header(req, BackendHeader.containerUpdates));
  if (!updates) throw new BadRequestError(`bad ${BackendHeader.containerUpdates}`);
  return updates;
}

/**
 * Feeds the request body to `onChunk`, pausing the socket until each chunk is taken (backpressure). Rejects
 * with ArcaError `ClientAborted` when the client goes away before the body (and its trailers) ended.
 */
function pumpBody(req: IncomingMessage, onChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let busy = false;
    let ended = false;
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('aborted', onGone);
      req.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (chunk: Buffer) => {
      busy = true;
      req.pause();
      onChunk(chunk).then(
        () => {
          busy = false;
          if (ended) settle();
          else req.resume();
        },
        (err) => settle(err),
      );
    };
    const onEnd = () => {
      ended = true;
      if (!busy) settle();
    };
    const onGone = () => settle(new ArcaError('ClientAborted', 'the client went away during the body'));
    const onClose = () => {
      if (!req.complete) onGone();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('aborted', onGone);
    req.on('close', onClose);
  });
}
