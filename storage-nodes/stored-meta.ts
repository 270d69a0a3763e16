/**
 * The metadata of a data file as the node reads it back: the ObjectMeta the proxy (or a peer) gave, minus the
 * node-internal fields kept beside it in the same JSON — today the fragment checksums of an EC fragment
 * archive, which the node checks before it sends a fragment and never puts on the wire.
 */
import type { ObjectMeta } from '../src/common/wire.js';
import { parseMeta } from './data-file-format.js';
import { fragmentChecksumsField } from './disk-file.js';

/** Hex digits of one fragment checksum (XXH64). */
const digestLength = 16;

export interface StoredMeta {
  meta: ObjectMeta;
  /** `meta` as UTF-8 JSON: the stored bytes themselves when there was nothing to strip. */
  rawMeta: Uint8Array;
  fragmentChecksums?: string[];
}

/** Parses the metadata JSON of a data file's footer; a reason when it does not parse. */
export function readStoredMeta(raw: Uint8Array): StoredMeta | { error: string } {
  const parsed = parseMeta(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  if ('error' in parsed) return parsed;
  const { meta } = parsed;
  const joined = meta[fragmentChecksumsField];
  if (joined === undefined) return { meta, rawMeta: raw };
  delete meta[fragmentChecksumsField];
  const out: StoredMeta = { meta, rawMeta: Buffer.from(JSON.stringify(meta), 'utf8') };
  if (typeof joined !== 'string' || joined.length % digestLength !== 0) return { error: 'bad fragment checksums' };
  out.fragmentChecksums = [];
  for (let i = 0; i < joined.length; i += digestLength) out.fragmentChecksums.push(joined.slice(i, i + digestLength));
  return out;
}

/** The metadata to store for an archive with these fragment checksums. */
export function withFragmentChecksums(meta: ObjectMeta, checksums: readonly string[]): ObjectMeta {
  return { ...meta, [fragmentChecksumsField]: checksums.join('') };
}
