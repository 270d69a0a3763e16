/**
 * What the files of one hash dir mean, as pure functions over their names (Swift's DiskFileManager and
 * ECDiskFileManager rules): which version is the object's state, which `.meta` applies to it, which
 * fragment archives wait for their durable mark, and which files are obsolete. Both DiskFiles backends, the
 * suffix hashes, the replicator, the reconstructor and the auditor read hash dirs through this one module.
 *
 * File names (timestamps are fixed width, so names sort by time):
 *
 * | name | what |
 * |---|---|
 * | `<ts>.data` | an object of a replicated policy |
 * | `<ts>#<frag>.data` | fragment archive `frag` of an EC object, not yet durable (phase 1 of a PUT) |
 * | `<ts>#<frag>#d.data` | the same archive once durable (phase 2) |
 * | `<ts>.ts` | a tombstone |
 * | `<ts>.meta` | a metadata patch (POST) applying to the data version older than it |
 *
 * The object's **version** is the newest tombstone or durable data. Durability is per timestamp: when any
 * archive at a timestamp is durable, every archive of the hash dir at that timestamp is (a handoff may hold
 * several fragment indexes, and the commit of one implies the others were written by the same PUT).
 * Non-durable archives newer than the version are **pending**: kept, never served; everything older than the
 * version, and every `.meta` but the newest one newer than a data version, is **obsolete**.
 */
import { isTimestamp, type Timestamp } from '../src/common/timestamp.js';

export type ParsedFile =
  | { file: string; ts: Timestamp; kind: 'data'; frag?: number; durable: boolean }
  | { file: string; ts: Timestamp; kind: 'tombstone' }
  | { file: string; ts: Timestamp; kind: 'meta' };

export type DataFileName = Extract<ParsedFile, { kind: 'data' }>;

/** Largest fragment index a file name may carry (k+m ≤ 30). */
const maxFragment = 63;

/** Parses a hash dir file name; undefined for anything else (tmp files, foreign files). */
export function parseFileName(file: string): ParsedFile | undefined {
  const ts = file.slice(0, 17);
  if (!isTimestamp(ts)) return undefined;
  const rest = file.slice(17);
  switch (rest) {
    case '.data':
      return { file, ts, kind: 'data', durable: true };
    case '.ts':
      return { file, ts, kind: 'tombstone' };
    case '.meta':
      return { file, ts, kind: 'meta' };
  }
  const m = /^#(0|[1-9]\d?)(#d)?\.data$/.exec(rest);
  if (!m) return undefined;
  const frag = Number(m[1]);
  if (frag > maxFragment) return undefined;
  return { file, ts, kind: 'data', frag, durable: m[2] !== undefined };
}

/** File name of a data file: `<ts>.data`, or a fragment archive's `<ts>#<frag>[#d].data`. */
export function dataFileName(ts: Timestamp, frag?: number, durable = true): string {
  if (frag === undefined) return `${ts}.data`;
  return durable ? `${ts}#${frag}#d.data` : `${ts}#${frag}.data`;
}

export function tombstoneFileName(ts: Timestamp): string {
  return `${ts}.ts`;
}

export function metaFileName(ts: Timestamp): string {
  return `${ts}.meta`;
}

/** The object's state in one hash dir. */
export interface HashDirState {
  /** The newest tombstone or durable data; undefined when there is neither. */
  version?:
    | { kind: 'tombstone'; ts: Timestamp; file: string }
    | {
        kind: 'data';
        ts: Timestamp;
        /** Every data file at that timestamp (one for a replicated object; one per fragment index held for EC). */
        files: DataFileName[];
      };
  /** The newest `.meta` newer than a data version. */
  meta?: { ts: Timestamp; file: string };
  /** Non-durable fragment archives newer than the version (awaiting their durable mark), oldest first. */
  pending: DataFileName[];
  /** Files to remove: anything older than the version, superseded `.meta` files. */
  obsolete: string[];
}

/** The state of a hash dir holding `names` (other file names are ignored). */
export function hashDirState(names: readonly string[]): HashDirState {
  const parsed: ParsedFile[] = [];
  for (const n of names) {
    const p = parseFileName(n);
    if (p) parsed.push(p);
  }
  // The durable timestamp: the newest tombstone or durable data file.
  let versionTs: Timestamp | undefined;
  let versionKind: 'data' | 'tombstone' | undefined;
  for (const p of parsed) {
    if (p.kind === 'meta' || (p.kind === 'data' && !p.durable)) continue;
    const kind = p.kind;
    // At one timestamp a tombstone and data cannot both be written (each refuses the other); prefer the tombstone.
    if (versionTs === undefined || p.ts > versionTs || (p.ts === versionTs && kind === 'tombstone')) {
      versionTs = p.ts;
      versionKind = kind;
    }
  }
  const state: HashDirState = { pending: [], obsolete: [] };
  const dataAtVersion: DataFileName[] = [];
  let tombstoneFile: string | undefined;
  const metas: Array<{ ts: Timestamp; file: string }> = [];
  for (const p of parsed) {
    if (p.kind === 'meta') {
      metas.push(p);
      continue;
    }
    if (versionTs !== undefined && p.ts < versionTs) {
      state.obsolete.push(p.file);
      continue;
    }
    if (versionTs !== undefined && p.ts === versionTs) {
      if (versionKind === 'tombstone') {
        if (p.kind === 'tombstone' && tombstoneFile === undefined) tombstoneFile = p.file;
        else state.obsolete.push(p.file);
      } else if (p.kind === 'data') {
        dataAtVersion.push(p);
      } else {
        state.obsolete.push(p.file);
      }
      continue;
    }
    // Newer than the version (or no version at all): only non-durable archives can be here.
    if (p.kind === 'data' && !p.durable) state.pending.push(p);
    else state.obsolete.push(p.file);
  }
  if (versionKind === 'tombstone' && tombstoneFile !== undefined && versionTs !== undefined) {
    state.version = { kind: 'tombstone', ts: versionTs, file: tombstoneFile };
  } else if (versionKind === 'data' && versionTs !== undefined) {
    dataAtVersion.sort((a, b) => (a.frag ?? -1) - (b.frag ?? -1) || (a.durable === b.durable ? 0 : a.durable ? -1 : 1));
    // Two files of one fragment index at one timestamp (a durable mark racing a rename): keep the durable one.
    const seen = new Set<number | undefined>();
    const files: DataFileName[] = [];
    for (const f of dataAtVersion) {
      if (seen.has(f.frag)) state.obsolete.push(f.file);
      else {
        seen.add(f.frag);
        files.push(f);
      }
    }
    state.version = { kind: 'data', ts: versionTs, files };
  }
  metas.sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0));
  for (const [i, meta] of metas.entries()) {
    if (i === 0 && state.version?.kind === 'data' && meta.ts > state.version.ts) state.meta = { ts: meta.ts, file: meta.file };
    else state.obsolete.push(meta.file);
  }
  state.pending.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : (a.frag ?? 0) - (b.frag ?? 0)));
  return state;
}

/**
 * Whether a new file may join the hash dir: undefined when it may, else the timestamp of what refuses it (the
 * 409's `x-backend-timestamp`). A tombstone, a replicated object or a `.meta` needs to be newer than the
 * version (and a `.meta` newer than the current `.meta`); a fragment archive may also join a data version of
 * its own timestamp when its fragment index is not there yet (a handoff holding several).
 */
export function conflictOf(state: HashDirState, incoming: ParsedFile): Timestamp | undefined {
  const v = state.version;
  if (incoming.kind === 'meta') {
    if (v && v.ts >= incoming.ts) return v.ts;
    if (state.meta && state.meta.ts >= incoming.ts) return state.meta.ts;
    return undefined;
  }
  if (incoming.kind === 'data' && incoming.frag !== undefined) {
    if (v && v.ts > incoming.ts) return v.ts;
    if (v && v.ts === incoming.ts && (v.kind === 'tombstone' || v.files.some((f) => f.frag === incoming.frag))) return v.ts;
    // A durable copy may replace a pending one of the same archive (a reverted or rebuilt archive).
    if (!incoming.durable && state.pending.some((p) => p.ts === incoming.ts && p.frag === incoming.frag)) return incoming.ts;
    return undefined;
  }
  return v && v.ts >= incoming.ts ? v.ts : undefined;
}

/** The data file of fragment `frag` (undefined: a replicated object) in the version, if the hash dir holds it. */
export function versionDataFile(state: HashDirState, frag?: number): DataFileName | undefined {
  if (state.version?.kind !== 'data') return undefined;
  if (frag === undefined) return state.version.files[0];
  return state.version.files.find((f) => f.frag === frag);
}

/** A hash dir's state as peers exchange it (SuffixContents: `<ts>.data|.ts[ <ts>.meta]`), taken apart. */
export interface SummaryParts {
  kind: 'data' | 'tombstone';
  ts: Timestamp;
  metaTs?: Timestamp;
}

export function parseSummary(summary: string | undefined): SummaryParts | undefined {
  if (summary === undefined) return undefined;
  const [version, meta] = summary.split(' ');
  const v = parseFileName(version);
  if (!v || v.kind === 'meta') return undefined;
  const out: SummaryParts = { kind: v.kind, ts: v.ts };
  if (meta !== undefined) {
    const m = parseFileName(meta);
    if (m?.kind === 'meta') out.metaTs = m.ts;
  }
  return out;
}

/** Fields of ObjectMeta a `.meta` patch cannot change. */
export const unpatchableFields: ReadonlySet<string> = new Set(['name', 'ts', 'size', 'xxh64']);

/** `meta` with `patch` applied: each key set, `null` removes it; the unpatchable fields stay. */
export function applyPatch<T extends Record<string, unknown>>(meta: T, patch: Record<string, unknown> | undefined): T {
  if (!patch) return meta;
  const out: Record<string, unknown> = { ...meta };
  for (const [k, v] of Object.entries(patch)) {
    if (unpatchableFields.has(k)) continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out as T;
}

/** Merges a newer patch over an older one (nulls are kept: they still remove the data's key). */
export function mergePatches(older: Record<string, unknown> | undefined, newer: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...older };
  for (const [k, v] of Object.entries(newer)) if (!unpatchableFields.has(k)) out[k] = v;
  return out;
}

/** The content of a `.meta` file. */
export interface MetaFileContent {
  name: string;
  ts: Timestamp;
  /** The merged patch. */
  meta: Record<string, unknown>;
}
