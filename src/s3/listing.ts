/**
 * What ListObjects (v1) and ListObjectsV2 share: reading one page from the store, the `max-keys` and
 * `encoding-type` rules, and the XML of `Contents` and `CommonPrefixes`.
 */
import { timestampIso } from '../common/timestamp.js';
import type { BucketInfo, ListObjectsPage, ObjectStore, ObjectSummary } from '../proxy/object-store.js';
import { ownerXml } from './context.js';
import { S3Error } from './errors.js';
import { escapeXml } from './xml.js';

export interface ListParams {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** `encoding-type=url` was asked for. */
  urlEncode: boolean;
}

/** Reads prefix, delimiter (empty means none), max-keys (default and cap 1000) and encoding-type. */
export function listParams(query: URLSearchParams): ListParams {
  const raw = query.get('max-keys');
  let maxKeys = 1000;
  if (raw !== null && raw !== '') {
    if (!/^\d+$/.test(raw)) {
      throw new S3Error('InvalidArgument', { message: 'Provided max-keys not an integer or within integer range', extra: { ArgumentName: 'max-keys', ArgumentValue: raw } });
    }
    maxKeys = Math.min(1000, Number(raw));
  }
  const encoding = query.get('encoding-type');
  if (encoding !== null && encoding !== '' && encoding !== 'url') {
    throw new S3Error('InvalidArgument', { message: 'Invalid Encoding Method specified in Request', extra: { ArgumentName: 'encoding-type', ArgumentValue: encoding } });
  }
  return { prefix: query.get('prefix') ?? '', delimiter: query.get('delimiter') ?? '', maxKeys, urlEncode: encoding === 'url' };
}

/** Reads one page; `max-keys=0` answers an empty, untruncated page without asking the store. */
export async function readPage(store: ObjectStore, bucket: BucketInfo, p: ListParams, marker: string): Promise<ListObjectsPage> {
  if (p.maxKeys === 0) return { entries: [], truncated: false };
  return store.listObjects(bucket, { prefix: p.prefix, delimiter: p.delimiter, marker, limit: p.maxKeys });
}

/**
 * Encodes a name for the response: with `encoding-type=url`, percent-encoding as botocore expects to undo
 * with `unquote_plus` (space → %20, `+` → %2B; `/` kept); otherwise XML-escaped.
 */
export function encodeName(name: string, urlEncode: boolean): string {
  return urlEncode ? encodeURIComponent(name).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : escapeXml(name);
}

/** The name a page ends with: the last key or common prefix (what NextMarker and continuation tokens carry). */
export function lastName(page: ListObjectsPage): string | undefined {
  const last = page.entries[page.entries.length - 1];
  return last === undefined ? undefined : 'key' in last ? last.key : last.prefix;
}

/** `<Contents>` and `<CommonPrefixes>` elements of a page, in listing order. */
export function entriesXml(page: ListObjectsPage, urlEncode: boolean, owner: string | undefined): string {
  let out = '';
  for (const e of page.entries) {
    if ('prefix' in e) {
      out += `<CommonPrefixes><Prefix>${encodeName(e.prefix, urlEncode)}</Prefix></CommonPrefixes>`;
      continue;
    }
    out += contentsXml(e, urlEncode, owner);
  }
  return out;
}

function contentsXml(e: ObjectSummary, urlEncode: boolean, owner: string | undefined): string {
  const storageClass = (e.listing?.storageClass as string | undefined) ?? 'STANDARD';
  return (
    `<Contents><Key>${encodeName(e.key, urlEncode)}</Key>` +
    `<LastModified>${timestampIso(e.ts)}</LastModified>` +
    `<ETag>&quot;${escapeXml(e.etag)}&quot;</ETag><Size>${e.size}</Size>` +
    `${owner === undefined ? '' : ownerXml(owner)}<StorageClass>${storageClass}</StorageClass></Contents>`
  );
}
