/**
 * Cross-origin resource sharing: a bucket's CORS rules (kept as `meta.cors`), their XML both ways, the
 * preflight answer, and the headers an actual cross-origin request gets when a rule matches.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
 */
import type { BucketInfo } from '../proxy/object-store.js';
import { S3Error } from './errors.js';
import { escapeXml, parseXml, S3_XMLNS, xmlElement } from './xml.js';

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const corsMethods = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
const maxRules = 100;
const ruleFields = new Set(['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);

/** The bucket's CORS rules; undefined when it has no CORS configuration. */
export function corsRules(bucket: BucketInfo): CorsRule[] | undefined {
  const v = bucket.meta.cors;
  return Array.isArray(v) && v.length > 0 ? (v as CorsRule[]) : undefined;
}

function oneWildcard(kind: string, v: string): string {
  if ((v.match(/\*/g) ?? []).length > 1) throw new S3Error('InvalidRequest', { message: `${kind} "${v}" can not have more than one wildcard.` });
  return v;
}

/** Parses and checks a CORSConfiguration document. */
export function parseCorsXml(body: Buffer): CorsRule[] {
  const root = parseXml(body, { maxBytes: 64 * 1024 });
  if (root.name !== 'CORSConfiguration') throw new S3Error('MalformedXML');
  const rules = root.childrenNamed('CORSRule');
  if (rules.length === 0 || rules.length !== root.children.length) throw new S3Error('MalformedXML');
  if (rules.length > maxRules) throw new S3Error('MalformedXML', { message: `A CORS configuration may have at most ${maxRules} rules` });
  return rules.map((r) => {
    for (const c of r.children) if (!ruleFields.has(c.name)) throw new S3Error('MalformedXML');
    const texts = (name: string) => r.childrenNamed(name).map((e) => e.text.trim());
    const rule: CorsRule = {
      allowedOrigins: texts('AllowedOrigin').map((o) => oneWildcard('AllowedOrigin', o)),
      allowedMethods: texts('AllowedMethod'),
      allowedHeaders: texts('AllowedHeader').map((h) => oneWildcard('AllowedHeader', h)),
      exposeHeaders: texts('ExposeHeader'),
    };
    if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) throw new S3Error('MalformedXML');
    for (const m of rule.allowedMethods) {
      if (!corsMethods.has(m)) throw new S3Error('InvalidRequest', { message: `Found unsupported HTTP method in CORS config. Unsupported method is ${m}` });
    }
    const ids = texts('ID');
    if (ids.length > 1 || (ids[0]?.length ?? 0) > 255) throw new S3Error('MalformedXML');
    if (ids[0]) rule.id = ids[0];
    const ages = texts('MaxAgeSeconds');
    if (ages.length > 1 || (ages.length === 1 && !/^\d{1,10}$/.test(ages[0]))) throw new S3Error('MalformedXML');
    if (ages.length === 1) rule.maxAgeSeconds = Number(ages[0]);
    return rule;
  });
}

/** The CORSConfiguration document GetBucketCors answers. */
export function corsXml(rules: CorsRule[]): string {
  const many = (name: string, vs: string[]) => vs.map((v) => `<${name}>${escapeXml(v)}</${name}>`).join('');
  const body = rules
    .map(
      (r) =>
        `<CORSRule>${xmlElement('ID', r.id)}${many('AllowedHeader', r.allowedHeaders)}${many('AllowedMethod', r.allowedMethods)}` +
        `${many('AllowedOrigin', r.allowedOrigins)}${many('ExposeHeader', r.exposeHeaders)}${xmlElement('MaxAgeSeconds', r.maxAgeSeconds)}</CORSRule>`,
    )
    .join('');
  return `<CORSConfiguration xmlns="${S3_XMLNS}">${body}</CORSConfiguration>`;
}

/** Matches a pattern with at most one `*` (as stored rules have). */
function wildcardMatch(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/**
 * The first rule allowing `origin` to use `method` (and, for a preflight, every header in
 * `requestHeaders`), as S3 picks it.
 */
export function matchCorsRule(rules: CorsRule[], origin: string, method: string, requestHeaders: string[] = []): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.allowedOrigins.some((o) => wildcardMatch(o, origin, false)) &&
      r.allowedMethods.includes(method) &&
      requestHeaders.every((h) => r.allowedHeaders.some((a) => wildcardMatch(a, h, true))),
  );
}

/** What every response to a cross-origin request to a bucket with CORS rules varies on. */
export const corsVary = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/** The CORS headers for a request from `origin` that `rule` allows. */
export function corsHeaders(rule: CorsRule, origin: string, requestHeaders?: string[]): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const h: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: corsVary,
  };
  if (!anyOrigin) h['access-control-allow-credentials'] = 'true';
  if (requestHeaders?.length) h['access-control-allow-headers'] = requestHeaders.join(', ');
  if (rule.exposeHeaders.length) h['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(rule.maxAgeSeconds);
  return h;
}

/** Splits an `Access-Control-Request-Headers` value into lower-case names. */
export function requestedHeaders(v: string | string[] | undefined): string[] {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  return s
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * The headers an actual (not preflight) request from `origin` gets from a bucket: undefined when the bucket
 * has no CORS rules, `Vary` alone when none matches, the full set when one does.
 */
export function actualRequestCorsHeaders(bucket: BucketInfo, origin: string, method: string): Record<string, string> | undefined {
  const rules = corsRules(bucket);
  if (!rules) return undefined;
  const rule = matchCorsRule(rules, origin, method);
  return rule ? corsHeaders(rule, origin) : { vary: corsVary };
}
