/**
 * The partition-level requests of replication (wire.ts, "Replication"): which partitions of a device changed,
 * suffix hashes and suffix contents of an object partition, and the sync points of a listing partition. Sync writes themselves go through the
 * object server (`x-backend-replication`) and the listing server (`?replicate`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BackendHeader, type ListingSyncRequest, type ParsedBackendPath } from '../src/common/wire.js';
import type { FsPartitions } from './fs-partitions.js';
import { BadRequestError, header, readJsonBody, send, sendJson } from './http-util.js';
import { checkListingRef, isReplicaId, type ListingStore } from './listing-store.js';
import { hashMap, isSuffix } from './suffix-hashes.js';

export type PartitionPath = Extract<ParsedBackendPath, { kind: 'partition' }>;
export type DevicePath = Extract<ParsedBackendPath, { kind: 'device' }>;

export interface ReplicationServerDeps {
  partitions: FsPartitions;
  listings: ListingStore;
  /** Policy indexes configured on this node. */
  policies: ReadonlySet<number>;
}

/** Most listings one sync request may name. */
const maxSyncListings = 10_000;

/** Handles `/o/{device}`, `/o/{device}/{partition}` and `/l/{device}/{partition}`. */
export class ReplicationServer {
  constructor(private readonly deps: ReplicationServerDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: PartitionPath | DevicePath, query: URLSearchParams): Promise<void> {
    if (path.kind === 'device') {
      if (req.method !== 'GET') return send(res, 405, { allow: 'GET' });
      if (!query.has('changes')) throw new BadRequestError('ask for ?changes');
      const since = Number(query.get('since') ?? 0);
      if (!Number.isSafeInteger(since) || since < 0) throw new BadRequestError('since must be a generation');
      return sendJson(res, 200, await this.deps.partitions.changes(path.device, this.#policy(req), since, { digests: query.has('digests'), all: query.has('all') }));
    }
    if (path.server === 'object') {
      if (req.method !== 'GET') return send(res, 405, { allow: 'GET' });
      return this.#objects(res, path, query, this.#policy(req));
    }
    if (req.method !== 'POST' || !query.has('sync')) return send(res, 405, { allow: 'POST' });
    return this.#listingSync(req, res, path);
  }

  async #objects(res: ServerResponse, path: PartitionPath, query: URLSearchParams, policyIndex: number): Promise<void> {
    const ref = { device: path.device, policyIndex, partition: path.partition };
    if (query.has('hashes')) {
      return sendJson(res, 200, hashMap(await this.deps.partitions.hashes(ref, { recalculate: suffixList(query.get('recalculate')) })));
    }
    if (query.has('suffixes')) {
      const suffixes = suffixList(query.get('suffixes'));
      if (query.has('names')) return sendJson(res, 200, await this.deps.partitions.suffixInventory(ref, suffixes));
      return sendJson(res, 200, await this.deps.partitions.suffixContents(ref, suffixes));
    }
    throw new BadRequestError('ask for ?hashes or ?suffixes=');
  }

  async #listingSync(req: IncomingMessage, res: ServerResponse, path: PartitionPath): Promise<void> {
    const body = (await readJsonBody(req)) as ListingSyncRequest;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.listings) || body.listings.length > maxSyncListings) {
      throw new BadRequestError(`body must be {listings: [...]} of at most ${maxSyncListings}`);
    }
    const points: number[] = [];
    for (const l of body.listings) {
      const ref = { device: path.device, partition: path.partition, account: l?.account, bucket: l?.bucket ?? undefined };
      const bad = checkListingRef(ref) ?? (isReplicaId(l?.id) ? undefined : 'bad replica id');
      if (bad) throw new BadRequestError(bad);
      const match = Number.isSafeInteger(l.seq) && l.seq! > 0 && typeof l.digest === 'string' ? { seq: l.seq!, digest: l.digest } : undefined;
      points.push(await this.deps.listings.syncPoint(ref, l.id, match));
    }
    sendJson(res, 200, { points });
  }

  #policy(req: IncomingMessage): number {
    const text = header(req, BackendHeader.policyIndex);
    const policyIndex = text === undefined ? 0 : Number(text);
    if (!this.deps.policies.has(policyIndex)) throw new BadRequestError(`unknown storage policy index ${text}`);
    return policyIndex;
  }
}

function suffixList(text: string | null): string[] {
  if (!text) return [];
  const suffixes = text.split(',');
  if (suffixes.length > 4096 || !suffixes.every(isSuffix)) throw new BadRequestError('suffixes must be three hex digits each');
  return suffixes;
}
