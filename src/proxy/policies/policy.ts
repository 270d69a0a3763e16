/**
 * Storage policies are strategies: each knows how to write, read and delete an object on its ring, and owns
 * its quorums. The registry builds one per configured policy; the store picks the bucket's.
 */
import type { Readable } from 'node:stream';
import { ArcaError } from '../../common/errors.js';
import { BackendHeader, type ContainerUpdateTarget, decodeHeaderJson, type ObjectMeta } from '../../common/wire.js';
import type { Timestamp } from '../../common/timestamp.js';
import type { RangeSpec } from '../object-store.js';

/** One object as a policy addresses it. */
export interface ObjectTarget {
  account: string;
  bucket: string;
  key: string;
  /** Listing replicas to update; the policy hands them out to the nodes it writes to. */
  containerUpdates: ContainerUpdateTarget[];
}

export interface PolicyPutInput {
  ts: Timestamp;
  body: Readable;
  /** Metadata known before the body. */
  meta: Record<string, unknown>;
  /** Called once the body has ended, before commit; returns metadata known only then. Throwing aborts. */
  finish(info: { size: number }): Promise<Record<string, unknown>>;
}

/** How a read chooses among an object's copies. */
export interface PolicyReadOptions {
  /**
   * Serve the newest version a read quorum of devices holds (Swift's `X-Newest`), instead of the first device
   * that answers with data. Slower (more node requests per read); for reads that decide a write, and for
   * clients that must see the last acknowledged write even while a device that missed it is back.
   */
  newest?: boolean;
}

export interface PolicyReadResult {
  meta: ObjectMeta;
  body: Readable;
  range?: { start: number; end: number };
}

/** What a write replaced: the merged metadata of the live version the nodes held before (the newest seen). */
export interface Replaced {
  replaced?: ObjectMeta;
}

export interface StoragePolicy {
  readonly name: string;
  readonly index: number;
  /**
   * Writes the object; resolves with the committed metadata once the write quorum acknowledged it, and the
   * metadata of the version it replaced when a node reported one (`x-backend-replaced-meta`).
   */
  put(target: ObjectTarget, input: PolicyPutInput): Promise<{ meta: ObjectMeta } & Replaced>;
  /**
   * The live version's metadata, or undefined when the version found is a tombstone or there is nothing. Which
   * version a read finds, when the copies disagree, is the policy's (and `opts.newest`'s) business.
   */
  head(target: ObjectTarget, opts?: PolicyReadOptions): Promise<ObjectMeta | undefined>;
  get(target: ObjectTarget, range?: RangeSpec, opts?: PolicyReadOptions): Promise<PolicyReadResult | undefined>;
  /**
   * Patches the metadata of the live version at `ts` (a `.meta` on the nodes; see wire.ts: keys set, `null`
   * removes one; `name`, `ts`, `size`, `xxh64` cannot be patched): resolves with the merged metadata once
   * the write quorum took it, undefined when a quorum found no live version.
   */
  post(target: ObjectTarget, ts: Timestamp, patch: Record<string, unknown>, opts?: LockOptions): Promise<ObjectMeta | undefined>;
  /** Writes a tombstone at `ts`; `existed` when some replica held a live version, `replaced` its metadata. */
  delete(target: ObjectTarget, ts: Timestamp, opts?: LockOptions): Promise<{ existed: boolean } & Replaced>;
}

/**
 * How a delete or metadata update meets an object lock: the nodes refuse (423) to remove a locked version or
 * weaken its retention; `bypassGovernance` lets a governance retention pass (x-backend-bypass-governance).
 */
export interface LockOptions {
  bypassGovernance?: boolean;
}

/** The headers of LockOptions. */
export function lockHeaders(opts: LockOptions | undefined): Record<string, string> {
  return opts?.bypassGovernance ? { [BackendHeader.bypassGovernance]: '1' } : {};
}

/** Throws ArcaError `Locked` when a node refused a change because of an object lock (423). */
export function throwIfLocked(replies: Iterable<{ status: number; headers: Record<string, string | string[] | undefined> } | undefined>): void {
  for (const r of replies) {
    if (r?.status === 423) throw new ArcaError('Locked', 'the version is protected by an object lock', { lock: String(r.headers[BackendHeader.locked] ?? 'locked') });
  }
}

/**
 * The newest of the replaced-version metadata some nodes reported (`x-backend-replaced-meta`): by version
 * timestamp, then by the timestamp of the `.meta` applied to it (`x-backend-replaced-meta-timestamp`).
 */
export function newestReplaced(replies: Iterable<{ headers: Record<string, string | string[] | undefined> } | undefined>): ObjectMeta | undefined {
  let best: { meta: ObjectMeta; metaTs: string } | undefined;
  for (const r of replies) {
    const meta = r && decodeHeaderJson<ObjectMeta>(r.headers[BackendHeader.replacedMeta]);
    if (!meta) continue;
    const metaTs = String(r.headers[BackendHeader.replacedMetaTimestamp] ?? '');
    if (!best || meta.ts > best.meta.ts || (meta.ts === best.meta.ts && metaTs > best.metaTs)) best = { meta, metaTs };
  }
  return best?.meta;
}

