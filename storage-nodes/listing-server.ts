/**
 * The listing server: account and container listings on this node's devices, as wire.ts defines them. Bodies
 * are validated here, at the edge; the ListingStore below trusts its typed input.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatTimestamp, isTimestamp } from '../src/common/timestamp.js';
import {
  BackendHeader,
  encodeHeaderJson,
  type ListingCreate,
  type ListingInfo,
  type ListingMetaUpdate,
  type ListingReplicateBatch,
  type ListingRow,
  type ParsedBackendPath,
} from '../src/common/wire.js';
import { maxChangeRowsLookup, maxChangesPage } from './change-log.js';
import { BadRequestError, header, readJsonBody, send, sendJson } from './http-util.js';
import {
  checkListingRef,
  checkMeta,
  checkRow,
  type IncomingRow,
  isReplicaId,
  type ListingQuery,
  type ListingRef,
  type ListingStore,
  maxListingLimit,
} from './listing-store.js';

export type ListingPath = Extract<ParsedBackendPath, { kind: 'listing' }>;

export interface ListingServerOptions {
  /** Seconds deleted rows are kept (replicated deleted rows older than that are not taken back). */
  reclaimAgeSec?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** Handles `/l/…` requests. */
export class ListingServer {
  constructor(
    private readonly store: ListingStore,
    private readonly opts: ListingServerOptions = {},
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: ListingPath, query: URLSearchParams): Promise<void> {
    const ref: ListingRef = { device: path.device, partition: path.partition, account: path.account, bucket: path.bucket };
    const bad = checkListingRef(ref);
    if (bad) throw new BadRequestError(bad);
    switch (req.method) {
      case 'PUT':
        return this.#create(req, res, ref);
      case 'POST':
        if (query.has('changes')) return this.#changesPost(req, res, ref);
        if (query.has('replicate')) return this.#replicate(req, res, ref);
        return query.has('rows') ? this.#mergeRows(req, res, ref) : this.#updateMeta(req, res, ref);
      case 'HEAD':
        return this.#head(res, ref);
      case 'GET':
        return query.has('changes') ? this.#changes(res, ref, query) : this.#list(res, ref, query);
      case 'DELETE':
        return this.#delete(req, res, ref);
      default:
        send(res, 405, { allow: 'GET, HEAD, PUT, POST, DELETE' });
    }
  }

  async #create(req: IncomingMessage, res: ServerResponse, ref: ListingRef): Promise<void> {
    const body = (await readJsonBody(req)) as ListingCreate;
    if (!isObject(body) || !isTimestamp(body.ts) || checkMeta(body.meta)) throw new BadRequestError('body must be {ts, meta?}');
    const outcome = await this.store.create(ref, { ts: body.ts, meta: body.meta });
    if (outcome === 'deleted') return this.#notFound(res, ref);
    send(res, outcome === 'created' ? 201 : 202);
  }

  async #updateMeta(req: IncomingMessage, res: ServerResponse, ref: ListingRef): Promise<void> {
    const body = (await readJsonBody(req)) as ListingMetaUpdate;
    if (!isObject(body) || !isTimestamp(body.ts) || body.meta === undefined || checkMeta(body.meta)) throw new BadRequestError('body must be {ts, meta}');
    if (await this.store.updateMeta(ref, { ts: body.ts, meta: body.meta })) send(res, 204);
    else await this.#notFound(res, ref);
  }

  async #mergeRows(req: IncomingMessage, res: ServerResponse, ref: ListingRef): Promise<void> {
    const body = await readJsonBody(req);
    const rows = isObject(body) ? body.rows : undefined;
    if (!Array.isArray(rows)) throw new BadRequestError('body must be {rows: [...]}');
    for (const row of rows) {
      const bad = checkRow(row);
      if (bad) throw new BadRequestError(bad);
    }
    const outcome = await this.store.mergeRows(ref, rows as IncomingRow[]);
    if (!outcome.found) await this.#notFound(res, ref);
    else if (outcome.conflicts.length > 0) sendJson(res, 409, { conflicts: outcome.conflicts });
    else send(res, 204);
  }

  /**
   * Rows from this node's own object server for a listing replica on this node: merged as a `POST ?rows`
   * would merge them, without the request. Resolves to the status that request would have had (204, 404,
   * 409; 0 when the merge failed, as for a replica that could not be reached).
   */
  async mergeLocal(ref: ListingRef, rows: IncomingRow[]): Promise<number> {
    if (checkListingRef(ref)) return 400;
    try {
      const outcome = await this.store.mergeRows(ref, rows);
      return !outcome.found ? 404 : outcome.conflicts.length > 0 ? 409 : 204;
    } catch {
      return 0;
    }
  }

  /** A batch of another replica's changes (the listing replicator). */
  async #replicate(req: IncomingMessage, res: ServerResponse, ref: ListingRef): Promise<void> {
    const body = (await readJsonBody(req)) as ListingReplicateBatch;
    const bad = checkReplicateBatch(body);
    if (bad) throw new BadRequestError(bad);
    const rows = body.rows.map((r: ListingRow & { ifAbsent?: boolean }) => {
      const { ifAbsent: _, ...row } = r;
      return row;
    });
    const { reclaimAgeSec, now = Date.now } = this.opts;
    const reclaimBefore = reclaimAgeSec === undefined ? undefined : formatTimestamp(BigInt(Math.max(0, now() - reclaimAgeSec * 1000)) * 1000n);
    await this.store.mergeReplica(ref, { id: body.id, upTo: body.upTo, info: body.info, rows }, { reclaimBefore });
    send(res, 204);
  }

  /** A page of the change log (change-log.ts). */
  async #changes(res: ServerResponse, ref: ListingRef, params: URLSearchParams): Promise<void> {
    const after = Number(params.get('after') ?? 0);
    const limitText = params.get('limit');
    const limit = limitText === null || limitText === '' ? maxChangesPage : Number(limitText);
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1) throw new BadRequestError('bad after or limit');
    const page = await this.store.readChanges(ref, after, Math.min(limit, maxChangesPage));
    if (!page) return this.#notFound(res, ref);
    sendJson(res, 200, page);
  }

  /** Row states by name (`{names}`) or a trim of old entries (`{trimBefore}`). */
  async #changesPost(req: IncomingMessage, res: ServerResponse, ref: ListingRef): Promise<void> {
    const body = await readJsonBody(req);
    if (isObject(body) && Array.isArray(body.names)) {
      const names = body.names as unknown[];
      if (names.length > maxChangeRowsLookup || names.some((n) => typeof n !== 'string' || n === '')) throw new BadRequestError(`names must be at most ${maxChangeRowsLookup} non-empty strings`);
      const rows = await this.store.changeRows(ref, names as string[]);
      if (!rows) return this.#notFound(res, ref);
      return sendJson(res, 200, { rows });
    }
    if (isObject(body) && Number.isSafeInteger(body.trimBefore)) {
      return sendJson(res, 200, { trimmed: await this.store.trimChanges(ref, body.trimBefore as number) });
    }
    throw new BadRequestError('body must be {names} or {trimBefore}');
  }

  async #head(res: ServerResponse, ref: ListingRef): Promise<void> {
    const info = await this.store.info(ref);
    if (!info || info.deletedTs !== undefined) return this.#notFound(res, ref, info);
    send(res, 204, { [BackendHeader.listingInfo]: encodeHeaderJson(info) });
  }

  async #list(res: ServerResponse, ref: ListingRef, params: URLSearchParams): Promise<void> {
    const limitText = params.get('limit');
    const limit = limitText === null || limitText === '' ? maxListingLimit : Number(limitText);
    if (!Number.isInteger(limit) || limit < 0) throw new BadRequestError('bad limit');
    const query: ListingQuery = {
      prefix: params.get('prefix') ?? undefined,
      delimiter: params.get('delimiter') || undefined,
      marker: params.get('marker') ?? undefined,
      endMarker: params.get('end_marker') ?? undefined,
      limit: Math.min(limit, maxListingLimit),
      reverse: ['1', 'true', 'yes', 'on'].includes((params.get('reverse') ?? '').toLowerCase()),
    };
    for (const v of [query.prefix, query.delimiter, query.marker, query.endMarker]) {
      if (v !== undefined && /[\uD800-\uDFFF]/u.test(v)) throw new BadRequestError('query values must be well-formed Unicode');
    }
    const page = await this.store.listJson(ref, query);
    if (page === undefined) return this.#notFound(res, ref);
    send(res, 200, { 'content-type': 'application/json' }, page);
  }

  async #delete(req: IncomingMessage, res: ServerResponse, ref: ListingRef): Promise<void> {
    const ts = header(req, BackendHeader.timestamp);
    if (!isTimestamp(ts)) throw new BadRequestError(`missing or bad ${BackendHeader.timestamp}`);
    const outcome = await this.store.delete(ref, ts);
    if (outcome === 'deleted') send(res, 204, { [BackendHeader.timestamp]: ts });
    else if (outcome === 'not-found') await this.#notFound(res, ref);
    else send(res, 409);
  }

  /** 404, saying when the listing was deleted if it was. */
  async #notFound(res: ServerResponse, ref: ListingRef, known?: ListingInfo): Promise<void> {
    const info = known ?? (await this.store.info(ref));
    if (info?.deletedTs !== undefined) send(res, 404, { [BackendHeader.deleted]: '1', [BackendHeader.timestamp]: info.deletedTs });
    else send(res, 404);
  }
}

/** Why a replicate batch is malformed, or undefined. */
function checkReplicateBatch(body: ListingReplicateBatch): string | undefined {
  if (!isObject(body) || !Array.isArray(body.rows)) return 'body must be {id, upTo, info, rows}';
  if (!isReplicaId(body.id)) return 'bad replica id';
  if (!Number.isSafeInteger(body.upTo) || body.upTo < 0) return 'bad upTo';
  const info = body.info as unknown;
  if (!isObject(info) || !isTimestamp(info.createdTs) || (info.deletedTs !== undefined && !isTimestamp(info.deletedTs)) || !isObject(info.meta)) return 'bad info';
  for (const entry of Object.values(info.meta)) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isTimestamp(entry[1])) return 'bad info meta';
  }
  for (const row of body.rows) {
    const bad = checkRow(row);
    if (bad) return bad;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
