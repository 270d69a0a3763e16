/**
 * `GET /v2/images`: which images a caller lists, filtered, sorted and paged as Glance does
 * (https://docs.openstack.org/api-ref/image/v2/#list-images). Pure: the caller gathers the rows.
 */
import type { Principal } from '../common/identity.js';
import { isAdmin } from './access.js';
import { GlanceError } from './errors.js';
import { attributeOf, type ImageRecord } from './record.js';
import type { MemberStatus } from './repo.js';

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;
const SORT_KEYS = new Set(['name', 'status', 'container_format', 'disk_format', 'size', 'virtual_size', 'id', 'created_at', 'updated_at', 'visibility', 'owner', 'min_ram', 'min_disk']);
const PAGING_PARAMS = new Set(['limit', 'marker', 'sort_key', 'sort_dir', 'sort']);
const SPECIAL_FILTERS = new Set(['name', 'status', 'visibility', 'member_status', 'owner', 'tag', 'disk_format', 'container_format', 'size_min', 'size_max', 'protected', 'os_hidden', 'id', 'created_at', 'updated_at']);
const IN_FILTERS = new Set(['name', 'status', 'disk_format', 'container_format', 'id']);
const TIME_OPS: Record<string, (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  eq: (a, b) => a === b,
  neq: (a, b) => a !== b,
};

export interface ListQuery {
  limit: number;
  marker?: string;
  sort: { key: string; dir: 'asc' | 'desc' }[];
  visibility?: 'public' | 'private' | 'shared' | 'community' | 'all';
  memberStatus: MemberStatus | 'all';
  /** Other filters, each a predicate over a record. */
  predicates: ((r: ImageRecord) => boolean)[];
  /** Whether any filter reads extra properties (partial rows must then be read whole first). */
  needsProperties: boolean;
}

function bad(msg: string): GlanceError {
  return new GlanceError('BadRequest', msg);
}

function boolParam(name: string, v: string): boolean {
  if (v !== 'true' && v !== 'false') throw bad(`Invalid value for ${name}: ${v}`);
  return v === 'true';
}

function intParam(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw bad(`Invalid value for ${name}: ${v}`);
  return Number(v);
}

function parseSort(q: URLSearchParams): ListQuery['sort'] {
  const sort: ListQuery['sort'] = [];
  const combined = q.get('sort');
  if (combined !== null) {
    if (q.has('sort_key') || q.has('sort_dir')) throw bad('The sort parameter cannot be combined with sort_key or sort_dir.');
    for (const part of combined.split(',')) {
      const [key, dir = 'desc'] = part.trim().split(':');
      if (dir !== 'asc' && dir !== 'desc') throw bad(`Invalid sort direction: ${dir}`);
      sort.push({ key, dir });
    }
  } else {
    const keys = q.getAll('sort_key').flatMap((k) => k.split(','));
    const dirs = q.getAll('sort_dir').flatMap((d) => d.split(','));
    if (dirs.length > Math.max(keys.length, 1)) throw bad('The number of sort_dir values exceeds the number of sort_key values.');
    for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw bad(`Invalid sort direction: ${d}`);
    const list = keys.length ? keys : ['created_at'];
    for (const [i, key] of list.entries()) sort.push({ key, dir: (dirs[i] ?? dirs[0] ?? 'desc') as 'asc' | 'desc' });
  }
  for (const s of sort) if (!SORT_KEYS.has(s.key)) throw bad(`Invalid sort key: ${s.key}.`);
  if (!sort.some((s) => s.key === 'id')) sort.push({ key: 'id', dir: sort[0]?.dir ?? 'desc' });
  return sort;
}

/** Parses the list query; 400 for bad values. */
export function parseListQuery(q: URLSearchParams): ListQuery {
  const limitText = q.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Math.min(intParam('limit', limitText), MAX_LIMIT);
  const predicates: ListQuery['predicates'] = [];
  let needsProperties = false;
  const visibility = q.get('visibility') ?? undefined;
  if (visibility !== undefined && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) throw bad(`Invalid visibility value: ${visibility}`);
  const memberStatus = q.get('member_status') ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) throw bad(`Invalid status value: ${memberStatus}`);

  for (const name of new Set(q.keys())) {
    if (PAGING_PARAMS.has(name) || name === 'visibility' || name === 'member_status') continue;
    const values = q.getAll(name);
    const v = values[0];
    if (name === 'tag') {
      predicates.push((r) => values.every((t) => r.tags.includes(t)));
    } else if (name === 'size_min' || name === 'size_max') {
      const n = intParam(name, v);
      predicates.push((r) => r.size !== null && (name === 'size_min' ? r.size >= n : r.size <= n));
    } else if (name === 'protected' || name === 'os_hidden') {
      const b = boolParam(name, v);
      predicates.push((r) => r[name] === b);
    } else if (name === 'created_at' || name === 'updated_at') {
      const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(v);
      const t = m ? Date.parse(m[2]) : Number.NaN;
      if (!m || Number.isNaN(t)) throw bad(`Invalid time format for ${name}.`);
      const cmp = TIME_OPS[m[1]];
      predicates.push((r) => cmp(Date.parse(r[name]), t));
    } else if (IN_FILTERS.has(name) && v.startsWith('in:')) {
      const set = new Set(v.slice(3).split(',').map((s) => s.replace(/^"|"$/g, '')));
      predicates.push((r) => set.has(String(attributeOf(r, name))));
    } else {
      if (!SPECIAL_FILTERS.has(name)) needsProperties = true;
      predicates.push((r) => {
        const actual = attributeOf(r, name);
        return actual !== undefined && actual !== null && String(actual) === v;
      });
    }
  }
  if (!q.has('os_hidden')) predicates.push((r) => !r.os_hidden);
  return { limit, marker: q.get('marker') ?? undefined, sort: parseSort(q), visibility: visibility as ListQuery['visibility'], memberStatus: memberStatus as ListQuery['memberStatus'], predicates, needsProperties };
}

/** Whether `p` lists `r` under the query's visibility rules; `membership` is p's member status on r. */
export function listed(p: Principal, r: ImageRecord, membership: MemberStatus | undefined, q: ListQuery): boolean {
  const admin = isAdmin(p);
  const own = r.owner === p.account;
  const memberOk = membership !== undefined && (q.memberStatus === 'all' || membership === q.memberStatus);
  switch (q.visibility) {
    case undefined:
      if (admin) return true;
      return own || r.visibility === 'public' || (r.visibility === 'shared' && memberOk);
    case 'all':
      return admin || own || r.visibility === 'public' || r.visibility === 'community' || (r.visibility === 'shared' && memberOk);
    case 'public':
    case 'community':
      return r.visibility === q.visibility;
    case 'private':
      return r.visibility === 'private' && (admin || own);
    case 'shared':
      return r.visibility === 'shared' && (admin || own || memberOk);
  }
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Orders records by the query's sort keys. */
export function compareImages(q: ListQuery): (a: ImageRecord, b: ImageRecord) => number {
  return (a, b) => {
    for (const { key, dir } of q.sort) {
      const c = compareValues(attributeOf(a, key), attributeOf(b, key));
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  };
}

/**
 * One page of the listed records (already filtered by visibility and predicates), sorted: those after the
 * marker, at most `limit`; `more` when others follow. 400 when the marker is not among `all` (the caller's
 * visible images).
 */
export function page(records: ImageRecord[], q: ListQuery, all: ReadonlyMap<string, ImageRecord>): { images: ImageRecord[]; more: boolean } {
  const cmp = compareImages(q);
  let candidates = records;
  if (q.marker !== undefined) {
    const marker = all.get(q.marker);
    if (!marker) throw bad(`Invalid marker. Image ${q.marker} could not be found.`);
    candidates = records.filter((r) => cmp(r, marker) > 0);
  }
  candidates.sort(cmp);
  return { images: candidates.slice(0, q.limit), more: candidates.length > q.limit };
}

/** The `first` and `next` links of a list response (Glance keeps the query, with the marker replaced). */
export function pageLinks(q: URLSearchParams, nextMarker: string | undefined): { first: string; next?: string } {
  const params = new URLSearchParams(q);
  params.delete('marker');
  const rest = params.toString();
  const links: { first: string; next?: string } = { first: rest ? `/v2/images?${rest}` : '/v2/images' };
  if (nextMarker !== undefined) {
    params.set('marker', nextMarker);
    links.next = `/v2/images?${params}`;
  }
  return links;
}
