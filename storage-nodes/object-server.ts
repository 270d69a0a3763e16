/**
 * The object server: PUT, GET/HEAD, DELETE and POST (metadata, EC commit) of objects or fragment archives on
 * this node's devices, as wire.ts defines them. It streams bodies into and out of DiskFiles, verifies what it
 * received against the footer trailer (and, for fragment archives, checks every fragment against its
 * checksum before sending it), and keeps the bucket's listing replicas up to date (queueing the update
 * durably when a replica does not take it).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { ArcaError, isArcaError } from '../src/common/errors.js';
import { freeBytes } from '../src/common/free-bytes.js';
import { isTimestamp, type Timestamp } from '../src/common/timestamp.js';
import { fragmentArchiveSize, segmentCount } from '../src/erasure/index.js';
import {
  BackendHeader,
  type ContainerUpdateTarget,
  decodeHeaderJson,
  encodeHeaderJson,
  type ListingRow,
  type ObjectFooter,
  type ObjectMeta,
  type ParsedBackendPath,
} from '../src/common/wire.js';
import { createXxh64 } from '../src/common/xxh64.js';
import type { AsyncPendingRecord } from './async-pending.js';
import { type ArchiveRef, type CommitOutcome, CorruptDataFileError, type DataFile, type DeleteOutcome, type DiskFiles, type ObjectLocation } from './disk-file.js';
import { alignedRange, archiveInfo, archiveLayout, FragmentHasher, FragmentMismatchError, fullFragmentSize, verifiedFragments } from './fragments.js';
import { unpatchableFields } from './hash-dir.js';
import { BadRequestError, header, send } from './http-util.js';
import { parseContainerUpdates } from './listing-updates.js';
import { decideRange } from './range.js';
import { type ExpiryRecord, expiryTimestamp } from './expirer.js';
import { withFragmentChecksums } from './stored-meta.js';

export type ObjectPath = Extract<ParsedBackendPath, { kind: 'object' }>;

/** A PUT body longer than this is checked against the hash dir before the rest of it is read (early 409). */
const earlyConflictCheckBytes = 64 * 1024;

/** The hash dir already holds a version as new or newer than the PUT's (found before the body ended). */
class EarlyConflict extends Error {
  constructor(readonly existingTs: Timestamp) {
    super(`a version at ${existingTs} exists`);
  }
}

export interface ObjectServerDeps {
  files: DiskFiles;
  /** Sends rows to one listing replica; resolves to its status (0 when unreachable). */
  sendRows(target: ContainerUpdateTarget, account: string, bucket: string, rows: ListingRow[]): Promise<number>;
  /** Queues a listing update durably on `device` for the updater. */
  queueUpdate(device: string, record: AsyncPendingRecord): Promise<void>;
  /** Queues a version with `deleteAt` for the expirer (expirer.ts); none: nothing expires on its own. */
  queueExpiry?(device: string, record: ExpiryRecord): Promise<void>;
  /** The clock expiry is judged by (ms; tests). */
  now?: () => number;
  /** Policy indexes configured on this node. */
  policies: ReadonlySet<number>;
  /** The erasure-coded ones among them, with their k and m (their objects are fragment archives). */
  ecPolicies: ReadonlyMap<number, { k: number; m: number }>;
  /** Told of each write that is not a replicator's sync write (the replicators' passes wait for quiet). */
  onClientWrite?: () => void;
  log: (line: string) => void;
}

/** Handles `/o/…` requests. */
export class ObjectServer {
  constructor(private readonly deps: ObjectServerDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !isReplication(req)) this.deps.onClientWrite?.();
    switch (req.method) {
      case 'PUT':
        return this.#put(req, res, path);
      case 'GET':
      case 'HEAD':
        return this.#get(req, res, path);
      case 'DELETE':
        return this.#delete(req, res, path);
      case 'POST':
        return hasQueryFlag(req, 'commit') ? this.#commit(req, res, path) : this.#post(req, res, path);
      default:
        send(res, 405, { allow: 'GET, HEAD, PUT, DELETE, POST' });
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
    const archive = this.#archiveRef(req, location);
    let hasher: FragmentHasher | undefined;
    let fragmentBytes = 0;
    if (archive) {
      const ec = archiveLayout(headerMeta);
      if (!ec) throw new BadRequestError(`a fragment archive needs its ${BackendHeader.meta} "ec" field (k, segmentSize)`);
      fragmentBytes = fullFragmentSize(ec);
      hasher = new FragmentHasher(fragmentBytes);
    }
    // Fragment archives update the listings when they become durable (the commit), not here.
    const updates = replication || archive ? [] : requireUpdates(req);

    const writer = await this.deps.files.create(location, archive);
    const hash = createXxh64();
    let size = 0;
    let checked = false;
    try {
      await pumpBody(req, async (chunk) => {
        // Refuse what commit would refuse anyway before a large body crosses the wire (a small one is
        // refused by the commit: one look at the hash dir instead of two).
        if (!checked && size + chunk.length > earlyConflictCheckBytes) {
          checked = true;
          const newest = await this.deps.files.newest(location);
          // An archive may join a data version of its own timestamp (another fragment index); commit decides exactly.
          if (newest && (newest.ts > ts || (newest.ts === ts && (!archive || newest.kind === 'tombstone')))) throw new EarlyConflict(newest.ts);
        }
        size += chunk.length;
        hash.update(chunk);
        hasher?.update(chunk);
        return writer.write(chunk);
      });
    } catch (err) {
      await writer.abort();
      if (isArcaError(err, 'ClientAborted')) {
        res.destroy();
        return;
      }
      if (err instanceof EarlyConflict) {
        send(res, 409, { [BackendHeader.timestamp]: err.existingTs, connection: 'close' });
        return;
      }
      throw err;
    }
    // A small body the proxy held whole comes with Content-Length and the footer as a header instead.
    const footer = decodeHeaderJson<ObjectFooter>(req.trailers[BackendHeader.footer] ?? req.headers[BackendHeader.footer]);
    if (typeof footer !== 'object' || footer === null) {
      await writer.abort();
      throw new BadRequestError(`the body ended without an ${BackendHeader.footer} trailer or header`);
    }
    const xxh64 = hash.digestHex();
    if (footer.size !== size || footer.xxh64 !== xxh64) {
      await writer.abort();
      send(res, 422, { 'content-type': 'text/plain' }, `received ${size} bytes with xxh64 ${xxh64}; the footer says ${footer.size} bytes with xxh64 ${footer.xxh64}\n`);
      return;
    }
    let meta = { ...headerMeta, ...footer, name: location.name, ts } as ObjectMeta;
    if (archive && hasher) {
      const checked = checkArchive(meta, archive.frag, fragmentBytes, size, hasher.digests());
      if (typeof checked === 'string') {
        await writer.abort();
        send(res, 422, { 'content-type': 'text/plain' }, `${checked}\n`);
        return;
      }
      meta = checked.meta;
      writer.put(withFragmentChecksums(meta, checked.checksums));
    } else {
      writer.put(meta);
    }
    let replaced: CommitOutcome;
    try {
      replaced = await writer.commit();
    } catch (err) {
      await writer.abort();
      if (isArcaError(err, 'Conflict')) {
        send(res, 409, { [BackendHeader.timestamp]: err.detail.existingTs as string });
        return;
      }
      if (isArcaError(err, 'Locked')) return sendLocked(res, err);
      throw err;
    }
    await this.#updateListings(location.device, path, updates, listingRow(path, meta));
    if (!archive) await this.#queueExpiry(location, path, meta, updates);
    send(res, 201, { [BackendHeader.timestamp]: ts, etag: String(meta.etag ?? ''), ...replacedHeader(replaced) });
  }

  /** Phase 2 of an EC write (`POST …?commit`): marks the archive durable, then updates the listings. */
  async #commit(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    const ts = requireTimestamp(req);
    const location = this.#location(req, path);
    const archive = this.#archiveRef(req, location);
    if (!archive) throw new BadRequestError(`a commit needs an EC policy and ${BackendHeader.fragmentIndex}`);
    const updates = isReplication(req) ? [] : requireUpdates(req);
    let outcome: Awaited<ReturnType<DiskFiles['markDurable']>>;
    try {
      outcome = await this.deps.files.markDurable(location, ts, archive.frag);
    } catch (err) {
      if (isArcaError(err, 'Conflict')) {
        send(res, 409, { [BackendHeader.timestamp]: err.detail.existingTs as string });
        return;
      }
      if (isArcaError(err, 'Locked')) return sendLocked(res, err);
      throw err;
    }
    if (!outcome) {
      send(res, 404);
      return;
    }
    if (updates.length > 0) {
      const opened = await this.deps.files.open(location, { frag: archive.frag }).catch(() => undefined);
      if (opened?.kind === 'data') {
        await opened.close();
        if (opened.meta.ts === ts) {
          await this.#updateListings(location.device, path, updates, listingRow(path, opened.meta));
          await this.#queueExpiry(location, path, opened.meta, updates);
        }
      }
    }
    send(res, 202, { [BackendHeader.timestamp]: ts, ...replacedHeader(outcome) });
  }

  /** A metadata update (Swift's fast-POST): a `.meta` patch over the live version. */
  async #post(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    const ts = requireTimestamp(req);
    const location = this.#location(req, path);
    const patch = decodeHeaderJson<Record<string, unknown>>(header(req, BackendHeader.meta));
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new BadRequestError(`bad ${BackendHeader.meta}`);
    const fixed = Object.keys(patch).filter((k) => unpatchableFields.has(k) || k === 'ec');
    if (fixed.length > 0) throw new BadRequestError(`${fixed.join(', ')} cannot be patched`);
    let outcome: Awaited<ReturnType<DiskFiles['post']>>;
    try {
      // A sync POST carries a `.meta` another replica took: it may pass a governance retention, never compliance.
      outcome = await this.deps.files.post(location, ts, patch, { bypassGovernance: bypassesGovernance(req) || isReplication(req) });
    } catch (err) {
      if (isArcaError(err, 'Conflict')) {
        send(res, 409, { [BackendHeader.timestamp]: err.detail.existingTs as string });
        return;
      }
      if (isArcaError(err, 'Locked')) return sendLocked(res, err);
      throw err;
    }
    if (outcome.kind === 'absent') {
      send(res, 404);
      return;
    }
    send(res, 202, {
      [BackendHeader.timestamp]: outcome.meta.ts,
      [BackendHeader.metaTimestamp]: ts,
      [BackendHeader.meta]: encodeHeaderJson(outcome.meta),
    });
  }

  async #get(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    const location = this.#location(req, path);
    const fragHeader = header(req, BackendHeader.fragmentIndex);
    const frag = fragHeader === undefined ? undefined : parseFragment(fragHeader, this.deps.ecPolicies.get(location.policyIndex));
    let opened: Awaited<ReturnType<DiskFiles['open']>>;
    try {
      opened = await this.deps.files.open(location, { frag });
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
    // Past its X-Delete-At the version is gone for readers, whether or not the expirer ran yet.
    const deleteAt = opened.meta.deleteAt;
    if (typeof deleteAt === 'number' && deleteAt <= (this.deps.now ?? Date.now)()) {
      await opened.close();
      send(res, 404, { [BackendHeader.timestamp]: expiryTimestamp(deleteAt), [BackendHeader.deleted]: '1' });
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
    if (opened.metaTs !== undefined) headers[BackendHeader.metaTimestamp] = opened.metaTs;
    if (opened.frag !== undefined) headers[BackendHeader.fragmentIndex] = String(opened.frag);
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
    if (opened.fragmentChecksums && size > 0) {
      res.writeHead(status, headers);
      await this.#sendVerified(res, opened, range.kind === 'partial' ? range : { start: 0, end: size - 1 }, location);
      return;
    }
    res.writeHead(status, headers);
    // A framed request whose reply would be too large for a frame has its answer already (frame-server.ts).
    if (res.destroyed) {
      await opened.close();
      return;
    }
    const body = opened.read(range.kind === 'partial' ? range : undefined);
    if (Buffer.isBuffer(body)) {
      res.end(body);
      return;
    }
    try {
      await sendStream(res, body);
    } catch {
      // The client went away mid-body, or the read failed: both ends were destroyed and the file was closed.
    }
  }

  /**
   * Sends bytes of a fragment archive, each fragment only once it matched its checksum; at the first that
   * does not, the response is cut (the reader sees a short body and takes another archive).
   */
  async #sendVerified(res: ServerResponse, data: DataFile, range: { start: number; end: number }, location: ObjectLocation): Promise<void> {
    const ec = archiveInfo(data.meta);
    const checksums = data.fragmentChecksums ?? [];
    if (!ec) {
      await data.close();
      res.destroy();
      return;
    }
    const fragmentBytes = fullFragmentSize(ec);
    const body = data.read(alignedRange(fragmentBytes, data.size, range));
    try {
      for await (const piece of verifiedFragments(body, fragmentBytes, data.size, checksums, range)) {
        if (res.destroyed) return;
        if (!res.write(piece)) await waitDrain(res);
      }
      res.end();
    } catch (err) {
      if (err instanceof FragmentMismatchError) {
        this.deps.log(`object server: ${location.device} ${location.name} archive ${data.frag} at ${data.meta.ts}: ${err.message}; response cut`);
      }
      res.destroy();
    }
  }

  async #delete(req: IncomingMessage, res: ServerResponse, path: ObjectPath): Promise<void> {
    const ts = requireTimestamp(req);
    const location = this.#location(req, path);
    const updates = isReplication(req) ? [] : requireUpdates(req);
    let outcome: DeleteOutcome;
    try {
      outcome = await this.deps.files.delete(location, ts, { bypassGovernance: bypassesGovernance(req) });
    } catch (err) {
      if (isArcaError(err, 'Conflict')) {
        send(res, 409, { [BackendHeader.timestamp]: err.detail.existingTs as string });
        return;
      }
      if (isArcaError(err, 'Locked')) return sendLocked(res, err);
      throw err;
    }
    await this.#updateListings(location.device, path, updates, { name: path.key, ts, deleted: true });
    send(res, outcome.previous === 'data' ? 204 : 404, { [BackendHeader.timestamp]: ts, ...replacedHeader(outcome) });
  }

  /** Queues a version with `deleteAt` for the expirer (a sync write's version was queued where it was written). */
  async #queueExpiry(location: ObjectLocation, path: ObjectPath, meta: ObjectMeta, targets: ContainerUpdateTarget[]): Promise<void> {
    if (typeof meta.deleteAt !== 'number' || !this.deps.queueExpiry) return;
    const record: ExpiryRecord = { location, account: path.account, bucket: path.bucket, key: path.key, ts: meta.ts, deleteAt: meta.deleteAt, targets };
    try {
      await this.deps.queueExpiry(location.device, record);
    } catch (err) {
      this.deps.log(`object server: cannot queue the expiry of ${location.name}: ${(err as Error).message}`);
    }
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

  /** The fragment archive a write names (`x-backend-fragment-index`), required for EC policies and refused otherwise. */
  #archiveRef(req: IncomingMessage, location: ObjectLocation): ArchiveRef | undefined {
    const ec = this.deps.ecPolicies.get(location.policyIndex);
    const text = header(req, BackendHeader.fragmentIndex);
    if (!ec) {
      if (text !== undefined) throw new BadRequestError(`policy ${location.policyIndex} is not erasure coded`);
      return undefined;
    }
    if (text === undefined) throw new BadRequestError(`policy ${location.policyIndex} needs ${BackendHeader.fragmentIndex}`);
    return { frag: parseFragment(text, ec), durable: header(req, BackendHeader.durable) === '1' };
  }

  #location(req: IncomingMessage, path: ObjectPath): ObjectLocation {
    const policyHeader = header(req, BackendHeader.policyIndex);
    const policyIndex = policyHeader === undefined ? 0 : Number(policyHeader);
    if (!this.deps.policies.has(policyIndex)) throw new BadRequestError(`unknown storage policy index ${policyHeader}`);
    return { device: path.device, policyIndex, partition: path.partition, name: `/${path.account}/${path.bucket}/${path.key}` };
  }
}

function parseFragment(text: string, ec: { k: number; m: number } | undefined): number {
  const frag = Number(text);
  if (!ec || !/^\d{1,2}$/.test(text) || frag >= ec.k + ec.m) throw new BadRequestError(`bad ${BackendHeader.fragmentIndex} ${text}`);
  return frag;
}

/** The listing row of an object version. */
function listingRow(path: ObjectPath, meta: ObjectMeta): ListingRow {
  return { name: path.key, ts: meta.ts, size: meta.objectSize ?? meta.size, etag: meta.etag, contentType: meta.contentType, value: meta.listing };
}

/** `x-backend-replaced-meta` (and `-timestamp` of its `.meta`) when a write replaced a live version. */
function replacedHeader(outcome: CommitOutcome): OutgoingHttpHeaders {
  if (!outcome.replaced) return {};
  const headers: OutgoingHttpHeaders = { [BackendHeader.replacedMeta]: encodeHeaderJson(outcome.replaced) };
  if (outcome.replacedMetaTs) headers[BackendHeader.replacedMetaTimestamp] = outcome.replacedMetaTs;
  return headers;
}

/**
 * Checks a received fragment archive against its `ec` metadata — as many fragment checksums as segments,
 * the archive size the object size implies — and stamps the fragment index; a reason when it does not fit.
 */
function checkArchive(meta: ObjectMeta, frag: number, fragmentBytes: number, size: number, checksums: string[]): { meta: ObjectMeta; checksums: string[] } | string {
  const ec = archiveInfo(meta);
  if (!ec) return 'the footer left no valid "ec" field';
  if (fullFragmentSize(ec) !== fragmentBytes) return 'the footer changed k or the segment size';
  const want = fragmentArchiveSize(ec.size, ec.k, ec.segmentSize);
  if (size !== want) return `an archive of an object of ${ec.size} bytes is ${want} bytes, got ${size}`;
  if (checksums.length !== segmentCount(ec.size, ec.segmentSize)) return `got ${checksums.length} fragments for ${segmentCount(ec.size, ec.segmentSize)} segments`;
  return { meta: { ...meta, ec: { ...ec, frag } }, checksums };
}

/** 423: an object lock refuses the change (`x-backend-locked` names it); nothing was changed. */
function sendLocked(res: ServerResponse, err: ArcaError): void {
  send(res, 423, { [BackendHeader.locked]: String(err.detail.lock ?? 'locked') });
}

function bypassesGovernance(req: IncomingMessage): boolean {
  return header(req, BackendHeader.bypassGovernance) === '1';
}

function hasQueryFlag(req: IncomingMessage, flag: string): boolean {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q >= 0 && new URLSearchParams(url.slice(q + 1)).has(flag);
}

/**
 * Writes a data file's read stream as the rest of `res`, and frees each chunk once the socket has taken it
 * (free-bytes.ts): a large GET otherwise leaves its 256 KiB reads in the malloc heap until V8's next
 * collection. Rejects, both ends destroyed, when the read fails or the client goes away.
 */
async function sendStream(res: ServerResponse, body: Readable): Promise<void> {
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (res.destroyed) throw new Error('the client went away');
      if (!res.write(chunk, () => freeBytes(chunk))) await waitDrain(res);
    }
  } catch (err) {
    res.destroy();
    body.destroy();
    throw err;
  }
  res.end();
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
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
