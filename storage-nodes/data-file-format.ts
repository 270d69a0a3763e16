/**
 * The byte format of `.data` files: `body || JSON(meta) || u32le(metaLength) || magic`. Metadata trails the
 * body so a write can stream the body before everything about it is known, and a read finds the metadata
 * from the end of the file without a sidecar: one pread of the tail usually yields the footer (and, for small
 * objects, the whole body).
 */
import { isTimestamp } from '../src/common/timestamp.js';
import type { ObjectMeta } from '../src/common/wire.js';

/** Eight bytes closing every data file; also a format version. */
export const footerMagic = Buffer.from('ARCADF01', 'latin1');
/** Length of the fixed trailer after the metadata: u32le length + magic. */
export const trailerLength = 4 + footerMagic.length;

/** Encodes the footer that follows the body: metadata JSON, its length, the magic. */
export function encodeFooter(meta: ObjectMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const footer = Buffer.allocUnsafe(json.length + trailerLength);
  json.copy(footer, 0);
  footer.writeUInt32LE(json.length, json.length);
  footerMagic.copy(footer, json.length + 4);
  return footer;
}

/**
 * Reads the trailer at the end of `tail` (the last bytes of a file): the metadata length, or a reason why
 * the file is not a data file.
 */
export function parseTrailer(tail: Buffer): { metaLength: number } | { error: string } {
  if (tail.length < trailerLength) return { error: 'shorter than its trailer' };
  const at = tail.length - trailerLength;
  if (!tail.subarray(at + 4).equals(footerMagic)) return { error: 'bad magic' };
  return { metaLength: tail.readUInt32LE(at) };
}

/** Parses the metadata JSON of a footer; a reason when it is not an object naming a timestamp. */
export function parseMeta(json: Buffer): { meta: ObjectMeta } | { error: string } {
  try {
    const meta = JSON.parse(json.toString('utf8')) as ObjectMeta;
    if (typeof meta !== 'object' || meta === null || typeof meta.ts !== 'string') return { error: 'metadata is not an object' };
    return { meta };
  } catch {
    return { error: 'metadata is not JSON' };
  }
}

/** File name of a version in a hash dir. */
export function versionFileName(ts: string, kind: 'data' | 'tombstone'): string {
  return kind === 'data' ? `${ts}.data` : `${ts}.ts`;
}

/** The newest `.data`/`.ts` among a hash dir's file names (other files are ignored). */
export function newestVersion(names: readonly string[]): { ts: string; kind: 'data' | 'tombstone'; file: string } | undefined {
  let best: { ts: string; kind: 'data' | 'tombstone'; file: string } | undefined;
  for (const file of names) {
    const parsed = parseVersionFileName(file);
    if (parsed && (!best || parsed.ts > best.ts)) best = { ...parsed, file };
  }
  return best;
}

/** Timestamp and kind of a `.data`/`.ts` file name; undefined for any other file. */
export function parseVersionFileName(file: string): { ts: string; kind: 'data' | 'tombstone' } | undefined {
  // Timestamps are fixed width (17 characters), so the extension starts at 17.
  const ts = file.slice(0, 17);
  if (!isTimestamp(ts)) return undefined;
  if (file.length === 22 && file.endsWith('.data')) return { ts, kind: 'data' };
  if (file.length === 20 && file.endsWith('.ts')) return { ts, kind: 'tombstone' };
  return undefined;
}
