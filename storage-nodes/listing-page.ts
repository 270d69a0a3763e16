/**
 * Paging through a listing's live rows, shared by every ListingStore backend. A backend supplies a cursor
 * over names in UTF-8 byte order within byte bounds, able to jump past every name with a given prefix; this
 * turns a query (prefix, delimiter, markers, limit, direction) into bounds and walks the cursor. With a
 * delimiter, each common prefix costs one row read and one seek, never a scan of the names under it.
 */
import type { ListingEntry, ListingRow } from '../src/common/wire.js';
import type { ListingQuery } from './listing-store.js';

/** Byte bounds on names: `lower` inclusive or not, `upper` exclusive. */
export interface NameBounds {
  lower?: { name: Buffer; inclusive: boolean };
  upper?: Buffer;
}

/** Live rows of one listing in byte order of names (descending when reverse), within bounds. */
export interface RowCursor {
  next(): Promise<ListingRow | undefined>;
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

/** Walks `cursor` into at most `limit` entries; `truncated` when more follow. */
export async function collectPage(cursor: RowCursor, q: ListingQuery): Promise<{ entries: ListingEntry[]; truncated: boolean }> {
  const entries: ListingEntry[] = [];
  const prefixLength = q.prefix?.length ?? 0;
  // A common prefix is listed only when it lies after the lower bound: after `marker` = a common prefix
  // continues past everything under it, as S3's NextMarker does.
  const lowerMarker = q.reverse ? q.endMarker : q.marker;
  const lowerBytes = lowerMarker ? Buffer.from(lowerMarker) : undefined;
  let truncated = false;
  // Names under the marker's own common prefix would only roll up into a prefix not listed: start past them.
  const markerCut = !q.reverse && q.delimiter && lowerMarker?.startsWith(q.prefix ?? '') ? lowerMarker.indexOf(q.delimiter, prefixLength) : -1;
  if (markerCut >= 0) cursor.skipPrefix(Buffer.from(lowerMarker!.slice(0, markerCut + q.delimiter!.length)));
  try {
    for (let row = await cursor.next(); row; row = await cursor.next()) {
      const cut = q.delimiter ? row.name.indexOf(q.delimiter, prefixLength) : -1;
      if (cut < 0) {
        if (entries.length === q.limit) {
          truncated = true;
          break;
        }
        entries.push(row);
        continue;
      }
      const subdir = row.name.slice(0, cut + q.delimiter!.length);
      const subdirBytes = Buffer.from(subdir);
      if (!lowerBytes || Buffer.compare(subdirBytes, lowerBytes) > 0) {
        if (entries.length === q.limit) {
          truncated = true;
          break;
        }
        entries.push({ subdir });
      }
      cursor.skipPrefix(subdirBytes);
    }
  } finally {
    await cursor.close();
  }
  return { entries, truncated };
}

/** The largest key strictly below every key starting with `key`, given that names never contain 0xff. */
export function justBefore(key: Buffer): Buffer {
  const last = key[key.length - 1];
  if (last === 0) return key.subarray(0, key.length - 1);
  return Buffer.concat([key.subarray(0, key.length - 1), Buffer.of(last - 1, afterAllUtf8)]);
}
