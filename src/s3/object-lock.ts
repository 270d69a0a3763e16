/**
 * S3 object lock as the S3 dialect sees it: the bucket's lock configuration (`meta.objectLock`), the lock
 * headers of a write (and the bucket's default retention), the Retention / LegalHold / ObjectLockConfiguration
 * XML, and the governance bypass. The lock itself is stored with each version (ObjectMeta `retention`,
 * `legalHold`) and enforced by the storage nodes (src/common/object-lock.ts).
 */
import { type Retention, retentionOf } from '../common/object-lock.js';
import type { BucketInfo, ObjectInfo } from '../proxy/object-store.js';
import { authorizeObject, type S3Deps, type S3Request } from './context.js';
import { S3Error } from './errors.js';
import { parseXml, S3_XMLNS, type XmlElement, xmlElement } from './xml.js';

/** A bucket's object lock setting: on from creation, with an optional default retention. */
export interface BucketLock {
  enabled: true;
  rule?: { mode: Retention['mode']; days?: number; years?: number };
}

export function bucketLock(bucket: BucketInfo): BucketLock | undefined {
  const l = bucket.meta.objectLock as BucketLock | undefined;
  return l?.enabled ? l : undefined;
}

function missingConfiguration(): S3Error {
  return new S3Error('InvalidRequest', { message: 'Bucket is missing Object Lock Configuration' });
}

/** The bucket's lock, or InvalidRequest as AWS answers lock requests on a bucket without one. */
export function requireBucketLock(bucket: BucketInfo): BucketLock {
  const lock = bucketLock(bucket);
  if (!lock) throw missingConfiguration();
  return lock;
}

function parseMode(v: string | undefined, what: () => S3Error): Retention['mode'] {
  if (v === 'GOVERNANCE' || v === 'COMPLIANCE') return v;
  throw what();
}

function parseDate(v: string, what: () => S3Error): number {
  const t = Date.parse(v);
  if (!/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(t)) throw what();
  return t;
}

/**
 * The lock fields (`retention`, `legalHold`) a new version gets from a write's headers
 * (`x-amz-object-lock-mode`, `-retain-until-date`, `-legal-hold`), else from the bucket's default retention.
 */
export function writeLock(headers: S3Request['headers'], bucket: BucketInfo, now = Date.now()): Record<string, unknown> {
  const mode = headers['x-amz-object-lock-mode'] as string | undefined;
  const until = headers['x-amz-object-lock-retain-until-date'] as string | undefined;
  const hold = headers['x-amz-object-lock-legal-hold'] as string | undefined;
  const lock = bucketLock(bucket);
  const out: Record<string, unknown> = {};
  if (mode !== undefined || until !== undefined || hold !== undefined) {
    if (!lock) throw missingConfiguration();
  }
  if ((mode === undefined) !== (until === undefined)) {
    throw new S3Error('InvalidArgument', { message: 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied' });
  }
  if (mode !== undefined && until !== undefined) {
    const m = parseMode(mode, () => new S3Error('InvalidArgument', { message: 'Unknown wormMode directive.', extra: { ArgumentName: 'x-amz-object-lock-mode', ArgumentValue: mode } }));
    const t = parseDate(until, () => new S3Error('InvalidArgument', { message: 'The retain until date must be provided in ISO 8601 format', extra: { ArgumentName: 'x-amz-object-lock-retain-until-date' } }));
    if (t <= now) throw new S3Error('InvalidArgument', { message: 'The retain until date must be in the future!' });
    out.retention = { mode: m, retainUntil: t };
  } else if (lock?.rule) {
    out.retention = { mode: lock.rule.mode, retainUntil: defaultUntil(lock.rule, now) };
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') throw new S3Error('InvalidArgument', { message: 'Legal Hold must be either of ON or OFF', extra: { ArgumentName: 'x-amz-object-lock-legal-hold' } });
    if (hold === 'ON') out.legalHold = true;
  }
  return out;
}

function defaultUntil(rule: NonNullable<BucketLock['rule']>, now: number): number {
  const d = new Date(now);
  if (rule.years) d.setUTCFullYear(d.getUTCFullYear() + rule.years);
  else d.setUTCDate(d.getUTCDate() + (rule.days ?? 0));
  return d.getTime();
}

/** The lock headers of GET/HEAD (`x-amz-object-lock-mode`, `-retain-until-date`, `-legal-hold`). */
export function lockHeaders(info: ObjectInfo): Record<string, string> {
  const h: Record<string, string> = {};
  const r = retentionOf(info.meta);
  if (r) {
    h['x-amz-object-lock-mode'] = r.mode;
    h['x-amz-object-lock-retain-until-date'] = new Date(r.retainUntil).toISOString();
  }
  if (info.meta.legalHold !== undefined) h['x-amz-object-lock-legal-hold'] = info.meta.legalHold === true ? 'ON' : 'OFF';
  return h;
}

/**
 * Whether the request may pass a GOVERNANCE retention: it says `x-amz-bypass-governance-retention: true`
 * and the caller is allowed s3:BypassGovernanceRetention on the key (AccessDenied otherwise).
 */
export async function bypassGovernance(req: S3Request, deps: S3Deps, bucket: BucketInfo, key: string): Promise<boolean> {
  if (String(req.headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() !== 'true') return false;
  await authorizeObject(req, deps, bucket, 's3:BypassGovernanceRetention', key);
  return true;
}

function malformed(): S3Error {
  return new S3Error('MalformedXML');
}

function onlyChildren(el: XmlElement, allowed: string[]): void {
  if (el.children.some((c) => !allowed.includes(c.name))) throw malformed();
}

/** `<Retention><Mode/><RetainUntilDate/></Retention>` (an empty one removes the retention). */
export function parseRetentionXml(body: Buffer): Retention | undefined {
  const root = parseXml(body);
  if (root.name !== 'Retention') throw malformed();
  onlyChildren(root, ['Mode', 'RetainUntilDate']);
  const mode = root.textOf('Mode')?.trim();
  const until = root.textOf('RetainUntilDate')?.trim();
  if (mode === undefined && until === undefined) return undefined;
  if (mode === undefined || until === undefined) throw malformed();
  return { mode: parseMode(mode, malformed), retainUntil: parseDate(until, malformed) };
}

export function retentionXml(r: Retention): string {
  return `<Retention xmlns="${S3_XMLNS}"><Mode>${r.mode}</Mode><RetainUntilDate>${new Date(r.retainUntil).toISOString()}</RetainUntilDate></Retention>`;
}

/** `<LegalHold><Status>ON|OFF</Status></LegalHold>`. */
export function parseLegalHoldXml(body: Buffer): boolean {
  const root = parseXml(body);
  if (root.name !== 'LegalHold') throw malformed();
  onlyChildren(root, ['Status']);
  const status = root.textOf('Status')?.trim();
  if (status !== 'ON' && status !== 'OFF') throw malformed();
  return status === 'ON';
}

/** `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</…><Rule><DefaultRetention><Mode/><Days/>|<Years/>…`. */
export function parseLockConfigurationXml(body: Buffer): BucketLock {
  const root = parseXml(body);
  if (root.name !== 'ObjectLockConfiguration') throw malformed();
  onlyChildren(root, ['ObjectLockEnabled', 'Rule']);
  if (root.textOf('ObjectLockEnabled')?.trim() !== 'Enabled') throw malformed();
  const rule = root.child('Rule');
  if (!rule) return { enabled: true };
  onlyChildren(rule, ['DefaultRetention']);
  const dr = rule.child('DefaultRetention');
  if (!dr) throw malformed();
  onlyChildren(dr, ['Mode', 'Days', 'Years']);
  const mode = parseMode(dr.textOf('Mode')?.trim(), malformed);
  const days = dr.textOf('Days')?.trim();
  const years = dr.textOf('Years')?.trim();
  if ((days === undefined) === (years === undefined)) throw malformed();
  const n = Number(days ?? years);
  if (!/^-?\d+$/.test(String(days ?? years)) || n <= 0) {
    throw new S3Error('InvalidArgument', { message: 'Default retention period must be a positive integer value', extra: { ArgumentName: days !== undefined ? 'Days' : 'Years' } });
  }
  return { enabled: true, rule: days !== undefined ? { mode, days: n } : { mode, years: n } };
}

export function lockConfigurationXml(lock: BucketLock): string {
  const rule = lock.rule
    ? `<Rule><DefaultRetention><Mode>${lock.rule.mode}</Mode>${xmlElement('Days', lock.rule.days)}${xmlElement('Years', lock.rule.years)}</DefaultRetention></Rule>`
    : '';
  return `<ObjectLockConfiguration xmlns="${S3_XMLNS}"><ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`;
}
