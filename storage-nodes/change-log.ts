/**
 * The change log of a container listing (docs/hooks.md): when the listing's metadata has `changeLog` set,
 * every row change it applies becomes an entry, numbered with the row's change number and written in the
 * same batch as the row itself, so an event is durable exactly when the listing update is. Entries are
 * trimmed by age (the proxy's retention), never by who has read them. Pure helpers shared by both
 * ListingStore backends.
 */
import { type ChangeLogEntry, changeEventField, changeLogMetaKey, changeOriginField, type ListingRow } from '../src/common/wire.js';
import type { StoredInfo } from './listing-merge.js';

/** Most entries one read returns. */
export const maxChangesPage = 1000;
/** Most entries one trim call drops (the caller calls again). */
export const maxTrimPerCall = 10_000;
/** Most names one row-state lookup takes. */
export const maxChangeRowsLookup = 1000;

/** True when the listing keeps a change log (its `changeLog` metadata is set). */
export function logsChanges(info: StoredInfo): boolean {
  const entry = info.meta[changeLogMetaKey];
  return entry !== undefined && entry[0] !== null && entry[0] !== false;
}

/** The change log entry of a row applied as change `seq` at `at` (ms). */
export function changeEntryOf(row: ListingRow, seq: number, at: number): ChangeLogEntry {
  const entry: ChangeLogEntry = { seq, key: row.name, ts: row.ts, at };
  if (row.deleted) {
    entry.deleted = true;
    return entry;
  }
  if (row.size !== undefined) entry.size = row.size;
  if (row.etag !== undefined) entry.etag = row.etag;
  if (row.contentType !== undefined) entry.contentType = row.contentType;
  const event = row.value?.[changeEventField];
  if (typeof event === 'string') entry.event = event;
  const origin = row.value?.[changeOriginField];
  if (Array.isArray(origin) && origin.every((o) => typeof o === 'string')) entry.origin = origin as string[];
  return entry;
}
