/**
 * Paging through a listing's live rows, shared by every ListingStore backend. A backend supplies a cursor
 * over names in UTF-8 byte order within byte bounds, able to jump past every name with a given prefix; this
 * turns a query (prefix, delimiter, markers, limit, direction) into bounds and walks the cursor. With a
 * delimiter, each common prefix costs one row read and one seek, never a scan of the names under it.
 *
 * A page is built as the JSON text the listing server sends (`ListingPage`): each row's entry comes from the
 * cursor as text, so a backend that stores rows as JSON can splice them in without parsing them
 * (`rowEntryJson`).
 */
import type { ListingInfo, ListingPage } from '../src/common/wire.js';
import { rowOf, type StoredRow } from './listing-merge.js';
import type { ListingQuery } from './listing-store.js';

/** Byte bounds on names: `lower` inclusive or not, `upper` exclusive. */
export interface NameBounds {
  lower?: { name: Buffer; inclusive: boolean };
  upper?: Buffer;
}

/** Live rows of one listing in byte order of names (descending when reverse), within bounds. */
export interface RowCursor {
  /**
   * Moves to the next row and returns its name; undefined at the end. `wanted` is how many more rows the page
   * may still take: a backend that reads rows in batches reads about that many at once.
   */
  next(wanted: number): Promise<string | undefined>;
  /** The JSON text of the current row as a page entry (a `ListingRow`). */
  rowJson(): string;
  /** Moves past every name starting with `prefix`, in the cursor's direction. */
  skipPrefix(prefix: Buffer): void;
  close(): Promise<void>;
}

/** No UTF-8 string contains this byte, so `prefix + 0xff` sorts after every name starting with `prefix`. */
export const afterAllUtf8 = 0xff;

/** The bounds of a query: the prefix and the markers, whichever are tighter. */
export function queryBounds(q: ListingQuery): NameBounds {
  const bounds: NameBounds = {};
  const lowerMarker = q.reverse ? q.endMarker : q.marker;
  const upperMarker = q.reverse ? q.marker : q.endMarker;
  if (q.prefix) {
    const p = Buffer.from(q.prefix);
    bounds.lower = { name: p, inclusive: true };
    bounds.upper = Buffer.concat([p, Buffer.of(afterAllUtf8)]);
  }
  if (lowerMarker) {
    const m = Buffer.from(lowerMarker);
    if (!bounds.lower || Buffer.compare(m, bounds.lower.name) >= 0) bounds.lower = { name: m, inclusive: false };
  }
  if (upperMarker) {
    const m = Buffer.from(upperMarker);
    if (!bounds.upper || Buffer.compare(m, bounds.upper) < 0) bounds.upper = m;
  }
  return bounds;
}

/** A page as JSON texts of its entries; `truncated` when more follow. */
export interface PageParts {
  entries: string[];
  truncated: boolean;
}

/**
 * Walks `cursor` into at most `limit` entries. Without a delimiter the cursor is asked for the whole page at
 * once; with one, for as many rows as were listed since the last common prefix (at least one), so batches
 * double while rows are listed, a prefix costs one row read however many names it holds, and rows read past
 * the start of a prefix are never more than the rows listed before it.
 */
export async function collectPage(cursor: RowCursor, q: ListingQuery): Promise<PageParts> {
  const entries: string[] = [];
  const prefixLength = q.prefix?.length ?? 0;
  // A common prefix is listed only when it lies after the lower bound: after `marker` = a common prefix
  // continues past everything under it, as S3's NextMarker does.
  const lowerMarker = q.reverse ? q.endMarker : q.marker;
  const lowerBytes = lowerMarker ? Buffer.from(lowerMarker) : undefined;
  let truncated = false;
  let streak = 0;
  // Names under the marker's own common prefix would only roll up into a prefix not listed: start past them.
  const markerCut = !q.reverse && q.delimiter && lowerMarker?.startsWith(q.prefix ?? '') ? lowerMarker.indexOf(q.delimiter, prefixLength) : -1;
  if (markerCut >= 0) cursor.skipPrefix(Buffer.from(lowerMarker!.slice(0, markerCut + q.delimiter!.length)));
  try {
    for (;;) {
      const room = q.limit - entries.length + 1;
      const name = await cursor.next(q.delimiter ? Math.min(Math.max(1, streak), room) : room);
      if (name === undefined) break;
      const cut = q.delimiter ? name.indexOf(q.delimiter, prefixLength) : -1;
      if (cut < 0) {
        if (entries.length === q.limit) {
          truncated = true;
          break;
        }
        entries.push(cursor.rowJson());
        streak++;
        continue;
      }
      const subdir = name.slice(0, cut + q.delimiter!.length);
      const subdirBytes = Buffer.from(subdir);
      if (!lowerBytes || Buffer.compare(subdirBytes, lowerBytes) > 0) {
        if (entries.length === q.limit) {
          truncated = true;
          break;
        }
        entries.push(`{"subdir":${JSON.stringify(subdir)}}`);
      }
      cursor.skipPrefix(subdirBytes);
      streak = 0;
    }
  } finally {
    await cursor.close();
  }
  return { entries, truncated };
}

/** The JSON text of a `ListingPage`. */
export function pageJson(info: ListingInfo, parts: PageParts): string {
  return `{"info":${JSON.stringify(info)},"entries":[${parts.entries.join(',')}],"truncated":${parts.truncated}}`;
}

/** Parses a page's JSON text (what `ListingStore.list` returns). */
export function parsePage(text: string): ListingPage {
  return JSON.parse(text) as ListingPage;
}

/**
 * The page entry of a row stored as the JSON text of its StoredRow: `{"name":…,` spliced before the stored
 * fields, without the change number. Rows are written with `seq` last (listing-merge.ts: `decideRow` builds
 * the row, then the change number is added), so it is cut off the end; a stored row of another shape is
 * parsed and rebuilt, which gives the same text.
 */
export function rowEntryJson(name: string, stored: string): string {
  const fields = withoutTrailingSeq(stored);
  if (fields === undefined) return JSON.stringify(rowOf(name, JSON.parse(stored) as StoredRow));
  return `{"name":${JSON.stringify(name)},${fields.slice(1)}`;
}

/**
 * `stored` without a last member `"seq":<digits>`, or undefined when `"seq"` may be elsewhere. A `,"` is
 * never inside a JSON string (a quote there is escaped), and a stored row ending in `<digits>}` ends with a
 * member of the outer object (an inner object would close with one more `}`).
 */
function withoutTrailingSeq(stored: string): string | undefined {
  const at = stored.lastIndexOf(',"seq":');
  if (at < 0) return stored.includes('"seq":') ? undefined : stored;
  const end = stored.length - 1;
  if (end <= at + 7 || stored.charCodeAt(end) !== 0x7d) return undefined;
  for (let i = at + 7; i < end; i++) {
    const c = stored.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return `${stored.slice(0, at)}}`;
}

/** The largest key strictly below every key starting with `key`, given that names never contain 0xff. */
export function justBefore(key: Buffer): Buffer {
  const last = key[key.length - 1];
  if (last === 0) return key.subarray(0, key.length - 1);
  return Buffer.concat([key.subarray(0, key.length - 1), Buffer.of(last - 1, afterAllUtf8)]);
}
