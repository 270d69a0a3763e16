/**
 * Object lock (WORM) rules, shared by the proxy and the storage nodes. A version's lock lives in its stored
 * ObjectMeta on every replica or fragment archive (`retention`, `legalHold`), so each storage node can refuse,
 * on its own, to delete or replace a locked version, or to weaken its lock, whatever asks it to: a proxy, a
 * replicator's sync write, the expirer. Pure functions; `now` is milliseconds since the epoch.
 */
import { ArcaError } from './errors.js';

/** A version's retention (S3 object lock): until `retainUntil` (ms since the epoch) it cannot be removed. */
export interface Retention {
  /** GOVERNANCE: callers allowed to bypass it may shorten or remove it; COMPLIANCE: nobody may. */
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  retainUntil: number;
}

/** ObjectMeta fields holding the lock of a version. */
export const lockFields = ['retention', 'legalHold'] as const;

/** What keeps a version from being removed right now, if anything. */
export type ActiveLock = 'legal-hold' | 'compliance' | 'governance';

/** A well-formed Retention, or undefined. */
export function retentionOf(meta: Record<string, unknown> | undefined): Retention | undefined {
  const r = meta?.retention as Partial<Retention> | undefined | null;
  if (!r || typeof r !== 'object') return undefined;
  if ((r.mode !== 'GOVERNANCE' && r.mode !== 'COMPLIANCE') || typeof r.retainUntil !== 'number' || !Number.isFinite(r.retainUntil)) return undefined;
  return { mode: r.mode, retainUntil: r.retainUntil };
}

/** The strongest lock in force on a version (legal hold, then compliance, then governance). */
export function activeLock(meta: Record<string, unknown> | undefined, now: number): ActiveLock | undefined {
  if (meta?.legalHold === true) return 'legal-hold';
  const r = retentionOf(meta);
  if (!r || r.retainUntil <= now) return undefined;
  return r.mode === 'COMPLIANCE' ? 'compliance' : 'governance';
}

/**
 * Throws ArcaError `Locked` when the version with `meta` may not be removed or replaced now. A governance
 * retention yields to `bypassGovernance`; a legal hold and a compliance retention yield to nothing.
 */
export function assertRemovable(meta: Record<string, unknown> | undefined, now: number, bypassGovernance = false): void {
  const lock = activeLock(meta, now);
  if (!lock || (lock === 'governance' && bypassGovernance)) return;
  throw new ArcaError('Locked', `the version is protected by ${lock === 'legal-hold' ? 'a legal hold' : `${lock} retention`}`, { lock });
}

/**
 * Throws ArcaError `Locked` when `patch` (a metadata update of the version with `meta`) would weaken a
 * retention in force: a compliance retention may only be extended (same mode, later date); a governance one
 * may be extended or turned into compliance, and shortened or removed only with `bypassGovernance`. Legal
 * holds may be set and cleared (who may is the proxy's decision).
 */
export function assertLockPatch(meta: Record<string, unknown> | undefined, patch: Record<string, unknown>, now: number, bypassGovernance = false): void {
  if (!('retention' in patch)) return;
  const current = retentionOf(meta);
  if (!current || current.retainUntil <= now) return;
  const next = patch.retention === null ? undefined : retentionOf(patch);
  const stronger = next !== undefined && next.retainUntil >= current.retainUntil && (next.mode === 'COMPLIANCE' || current.mode === 'GOVERNANCE');
  if (stronger) return;
  if (current.mode === 'GOVERNANCE' && bypassGovernance) return;
  throw new ArcaError('Locked', `the version's ${current.mode.toLowerCase()} retention cannot be shortened or removed`, { lock: current.mode.toLowerCase() });
}
