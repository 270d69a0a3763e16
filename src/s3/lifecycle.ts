/**
 * Bucket lifecycle configuration: the XML AWS defines, parsed strictly into rules kept in the bucket's
 * settings (`meta.lifecycle`), rendered back, and the matching the lifecycle worker (lifecycle-worker.ts)
 * applies. Transitions name a storage class; Arca's classes are its storage policies (`replica-3`,
 * `ec-4+2`, …), and STANDARD is the bucket's own policy.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
 */
import { S3Error } from './errors.js';
import type { Tag } from './tagging.js';
import { parseXml, S3_XMLNS, type XmlElement, xmlElement } from './xml.js';

export interface LifecycleFilter {
  prefix?: string;
  tags?: Tag[];
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}

export interface LifecycleRule {
  id?: string;
  enabled: boolean;
  filter: LifecycleFilter;
  /** Current versions: expire after `days` since creation or on `date` (ms); or remove lone delete markers. */
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean };
  /** Noncurrent versions: remove `days` after they became noncurrent, keeping the `newer` newest. */
  noncurrentExpiration?: { days: number; newer?: number };
  /** Incomplete multipart uploads older than this many days are aborted. */
  abortIncompleteDays?: number;
  /** Current versions move to another storage class (policy) after `days` or on `date`. */
  transitions?: Array<{ days?: number; date?: number; storageClass: string }>;
}

const maxRules = 1000;
const dayMs = 24 * 3600 * 1000;

function malformed(): S3Error {
  return new S3Error('MalformedXML');
}

function invalid(message: string): S3Error {
  return new S3Error('InvalidArgument', { message });
}

function only(el: XmlElement, names: string[]): void {
  if (el.children.some((c) => !names.includes(c.name))) throw malformed();
}

function positiveInt(text: string | undefined, what: string, allowZero = false): number {
  const n = Number(text?.trim());
  if (text === undefined || !/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(n)) throw malformed();
  if (n < 0 || (n === 0 && !allowZero)) throw invalid(`'${what}' must be a positive integer`);
  return n;
}

function midnight(text: string | undefined): number {
  const t = Date.parse(text?.trim() ?? '');
  if (Number.isNaN(t)) throw malformed();
  if (t % dayMs !== 0) throw invalid("'Date' must be at midnight GMT");
  return t;
}

function daysOrDate(el: XmlElement, what: string): { days?: number; date?: number } {
  const days = el.textOf('Days');
  const date = el.textOf('Date');
  if (days !== undefined && date !== undefined) throw malformed();
  if (days !== undefined) return { days: positiveInt(days, `Days' for ${what} action`) };
  if (date !== undefined) return { date: midnight(date) };
  return {};
}

function parseTag(el: XmlElement): Tag {
  only(el, ['Key', 'Value']);
  const Key = el.textOf('Key');
  if (Key === undefined) throw malformed();
  return { Key, Value: el.textOf('Value') ?? '' };
}

function parseFilter(rule: XmlElement): LifecycleFilter {
  const legacy = rule.textOf('Prefix');
  const f = rule.child('Filter');
  if (legacy !== undefined && f) throw malformed();
  if (!f) return legacy ? { prefix: legacy } : {};
  only(f, ['Prefix', 'Tag', 'And', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
  if (f.children.length > 1) throw malformed();
  const out: LifecycleFilter = {};
  const and = f.child('And');
  const src = and ?? f;
  if (and) only(and, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
  const prefix = src.textOf('Prefix');
  if (prefix) out.prefix = prefix;
  const tags = src.childrenNamed('Tag').map(parseTag);
  if (tags.length) out.tags = tags;
  if (new Set(tags.map((t) => t.Key)).size !== tags.length) throw invalid('Duplicate Tag Keys are not allowed.');
  const gt = src.textOf('ObjectSizeGreaterThan');
  const lt = src.textOf('ObjectSizeLessThan');
  if (gt !== undefined) out.sizeGreaterThan = positiveInt(gt, 'ObjectSizeGreaterThan', true);
  if (lt !== undefined) out.sizeLessThan = positiveInt(lt, 'ObjectSizeLessThan');
  return out;
}

function parseRule(el: XmlElement): LifecycleRule {
  only(el, ['ID', 'Filter', 'Prefix', 'Status', 'Expiration', 'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload', 'Transition', 'NoncurrentVersionTransition']);
  const status = el.textOf('Status')?.trim();
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed();
  const id = el.textOf('ID');
  if (id !== undefined && id.length > 255) throw invalid('ID length should not exceed allowed limit of 255');
  const rule: LifecycleRule = { ...(id ? { id } : {}), enabled: status === 'Enabled', filter: parseFilter(el) };
  const exp = el.child('Expiration');
  if (exp) {
    only(exp, ['Days', 'Date', 'ExpiredObjectDeleteMarker']);
    const marker = exp.textOf('ExpiredObjectDeleteMarker')?.trim();
    if (marker !== undefined && marker !== 'true' && marker !== 'false') throw malformed();
    const when = daysOrDate(exp, 'Expiration');
    if (marker !== undefined && (when.days !== undefined || when.date !== undefined)) throw malformed();
    if (marker === undefined && when.days === undefined && when.date === undefined) throw malformed();
    rule.expiration = { ...when, ...(marker === 'true' ? { expiredObjectDeleteMarker: true } : {}) };
    if (marker === 'true' && rule.filter.tags) throw invalid('ExpiredObjectDeleteMarker cannot be specified with object tags');
  }
  const nve = el.child('NoncurrentVersionExpiration');
  if (nve) {
    only(nve, ['NoncurrentDays', 'NewerNoncurrentVersions']);
    const newer = nve.textOf('NewerNoncurrentVersions');
    rule.noncurrentExpiration = { days: positiveInt(nve.textOf('NoncurrentDays'), "NoncurrentDays' for NoncurrentVersionExpiration"), ...(newer !== undefined ? { newer: positiveInt(newer, 'NewerNoncurrentVersions') } : {}) };
  }
  const abort = el.child('AbortIncompleteMultipartUpload');
  if (abort) {
    only(abort, ['DaysAfterInitiation']);
    if (rule.filter.tags) throw new S3Error('InvalidRequest', { message: 'AbortIncompleteMultipartUpload cannot be specified with Tags.' });
    rule.abortIncompleteDays = positiveInt(abort.textOf('DaysAfterInitiation'), 'DaysAfterInitiation');
  }
  const transitions = el.childrenNamed('Transition');
  if (transitions.length) {
    rule.transitions = transitions.map((t) => {
      only(t, ['Days', 'Date', 'StorageClass']);
      const storageClass = t.textOf('StorageClass')?.trim();
      if (!storageClass) throw malformed();
      const when = daysOrDate(t, 'Transition');
      if (when.days === undefined && when.date === undefined) throw malformed();
      return { ...when, storageClass };
    });
  }
  if (el.child('NoncurrentVersionTransition')) {
    throw new S3Error('NotImplemented', { message: 'NoncurrentVersionTransition is not implemented' });
  }
  if (!rule.expiration && !rule.noncurrentExpiration && rule.abortIncompleteDays === undefined && !rule.transitions) {
    throw new S3Error('InvalidRequest', { message: 'At least one action needs to be specified in a rule' });
  }
  return rule;
}

/** Parses a LifecycleConfiguration; `storageClasses` are the classes a Transition may name. */
export function parseLifecycleXml(body: Buffer, storageClasses: readonly string[]): LifecycleRule[] {
  const root = parseXml(body);
  if (root.name !== 'LifecycleConfiguration') throw malformed();
  only(root, ['Rule']);
  const rules = root.childrenNamed('Rule').map(parseRule);
  if (rules.length === 0 || rules.length > maxRules) throw malformed();
  const ids = rules.flatMap((r) => (r.id ? [r.id] : []));
  if (new Set(ids).size !== ids.length) throw invalid('Rule ID must be unique. Found same ID for more than one rule');
  for (const r of rules) {
    for (const t of r.transitions ?? []) {
      if (!storageClasses.includes(t.storageClass)) throw new S3Error('InvalidStorageClass', { extra: { StorageClassRequested: t.storageClass } });
    }
  }
  return rules;
}

function filterXml(f: LifecycleFilter): string {
  const parts = [
    xmlElement('Prefix', f.prefix),
    ...(f.tags ?? []).map((t) => `<Tag>${xmlElement('Key', t.Key)}${xmlElement('Value', t.Value)}</Tag>`),
    xmlElement('ObjectSizeGreaterThan', f.sizeGreaterThan),
    xmlElement('ObjectSizeLessThan', f.sizeLessThan),
  ].filter((p) => p !== '');
  if (parts.length <= 1) return `<Filter>${parts.join('') || '<Prefix></Prefix>'}</Filter>`;
  return `<Filter><And>${parts.join('')}</And></Filter>`;
}

const isoDay = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function lifecycleXml(rules: readonly LifecycleRule[]): string {
  let out = '';
  for (const r of rules) {
    out += `<Rule>${xmlElement('ID', r.id)}${filterXml(r.filter)}<Status>${r.enabled ? 'Enabled' : 'Disabled'}</Status>`;
    for (const t of r.transitions ?? []) {
      out += `<Transition>${xmlElement('Days', t.days)}${t.date !== undefined ? xmlElement('Date', isoDay(t.date)) : ''}<StorageClass>${t.storageClass}</StorageClass></Transition>`;
    }
    if (r.expiration) {
      const e = r.expiration;
      out += `<Expiration>${xmlElement('Days', e.days)}${e.date !== undefined ? xmlElement('Date', isoDay(e.date)) : ''}${e.expiredObjectDeleteMarker ? '<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>' : ''}</Expiration>`;
    }
    if (r.noncurrentExpiration) {
      out += `<NoncurrentVersionExpiration><NoncurrentDays>${r.noncurrentExpiration.days}</NoncurrentDays>${xmlElement('NewerNoncurrentVersions', r.noncurrentExpiration.newer)}</NoncurrentVersionExpiration>`;
    }
    if (r.abortIncompleteDays !== undefined) {
      out += `<AbortIncompleteMultipartUpload><DaysAfterInitiation>${r.abortIncompleteDays}</DaysAfterInitiation></AbortIncompleteMultipartUpload>`;
    }
    out += '</Rule>';
  }
  return `<LifecycleConfiguration xmlns="${S3_XMLNS}">${out}</LifecycleConfiguration>`;
}

/** The enabled rules of a bucket's settings. */
export function lifecycleRules(meta: Record<string, unknown>): LifecycleRule[] {
  const rules = meta.lifecycle as LifecycleRule[] | undefined;
  return Array.isArray(rules) ? rules.filter((r) => r.enabled) : [];
}

/** Whether a rule's filter matches an object (its tags are asked for only when the filter names some). */
export async function ruleMatches(rule: LifecycleRule, key: string, size: number, tags: () => Promise<Tag[]>): Promise<boolean> {
  const f = rule.filter;
  if (f.prefix && !key.startsWith(f.prefix)) return false;
  if (f.sizeGreaterThan !== undefined && !(size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(size < f.sizeLessThan)) return false;
  if (f.tags?.length) {
    const have = await tags();
    if (!f.tags.every((t) => have.some((h) => h.Key === t.Key && h.Value === t.Value))) return false;
  }
  return true;
}

/** True when an action due `days` after `sinceMs` (or on `date`) is due at `now`. */
export function isDue(when: { days?: number; date?: number }, sinceMs: number, now: number): boolean {
  if (when.date !== undefined) return now >= when.date;
  return when.days !== undefined && now >= sinceMs + when.days * dayMs;
}
