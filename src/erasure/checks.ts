/**
 * Argument checks shared by every codec, so that each one rejects the same inputs with the same errors and
 * nothing malformed ever reaches the native addon (which aborts the process on some inputs, e.g. an empty
 * Buffer). A failed check is an ArcaError 'Internal': fragments come from our own proxy and nodes, so a bad
 * call is our bug, never the client's. `detail.reason` says which check failed.
 */
import { ArcaError } from '../common/errors.js';
import { FRAGMENT_ALIGNMENT, MAX_SEGMENT_SIZE } from './segments.js';

/** The fragments a decode or reconstruct works from. */
export interface FragmentSet {
  /** Common length of the present fragments. */
  fragmentSize: number;
  /** Indexes of the usable fragments, ascending. */
  present: number[];
}

/** Checks a segment to encode; returns it as a Buffer (a view, never a copy). */
export function checkSegment(segment: Uint8Array): Buffer {
  if (!(segment instanceof Uint8Array)) throw fail('not-a-buffer', 'segment must be a Buffer');
  if (segment.length > MAX_SEGMENT_SIZE) {
    throw fail('segment-too-large', `segment of ${segment.length} bytes exceeds ${MAX_SEGMENT_SIZE}`, {
      length: segment.length,
    });
  }
  return asBuffer(segment);
}

/**
 * Checks `fragments` (k+m slots, undefined where missing) and returns the usable ones, ignoring the slots
 * listed in `ignore` (fragments being rebuilt). Needs at least k usable fragments, all of one length, a
 * multiple of 8 bytes.
 */
export function checkFragments(
  k: number,
  m: number,
  fragments: ReadonlyArray<Uint8Array | undefined>,
  ignore: ReadonlySet<number> = new Set(),
): FragmentSet {
  if (!Array.isArray(fragments) || fragments.length !== k + m) {
    throw fail('fragment-count', `expected an array of ${k + m} fragment slots, got ${describe(fragments)}`, {
      k,
      m,
    });
  }
  const present: number[] = [];
  let fragmentSize = -1;
  for (let i = 0; i < k + m; i++) {
    const f = fragments[i];
    if (f === undefined || f === null || ignore.has(i)) continue;
    if (!(f instanceof Uint8Array)) throw fail('not-a-buffer', `fragment ${i} is not a Buffer`, { index: i });
    if (fragmentSize === -1) fragmentSize = f.length;
    if (f.length !== fragmentSize) {
      throw fail('fragment-size-mismatch', `fragment ${i} has ${f.length} bytes, fragment ${present[0]} has ${fragmentSize}`, {
        index: i,
        length: f.length,
        expected: fragmentSize,
      });
    }
    present.push(i);
  }
  if (present.length < k) {
    throw fail('too-few-fragments', `need ${k} fragments to decode, have ${present.length}`, {
      k,
      m,
      present,
    });
  }
  if (fragmentSize % FRAGMENT_ALIGNMENT !== 0) {
    throw fail('fragment-size', `fragment size ${fragmentSize} is not a multiple of ${FRAGMENT_ALIGNMENT}`, {
      fragmentSize,
    });
  }
  checkBufferSizes(k, m, fragmentSize);
  return { fragmentSize, present };
}

/** Largest data or parity buffer a codec builds (the addon takes at most 4 GiB per buffer). */
export const MAX_CODEC_BUFFER = 2 ** 31;

/** Checks that the k data and m parity fragments of `fragmentSize` bytes each fit one codec buffer. */
export function checkBufferSizes(k: number, m: number, fragmentSize: number): void {
  if (fragmentSize * Math.max(k, m) > MAX_CODEC_BUFFER) {
    throw fail('fragment-size', `fragments of ${fragmentSize} bytes for ${k}+${m} exceed ${MAX_CODEC_BUFFER} per buffer`, {
      fragmentSize,
    });
  }
}

/** Checks the slots to rebuild: distinct indexes in 0..k+m-1, at most m of them. */
export function checkWant(k: number, m: number, want: readonly number[]): Set<number> {
  if (!Array.isArray(want)) throw fail('want', 'want must be an array of fragment indexes');
  const set = new Set<number>();
  for (const i of want) {
    if (!Number.isInteger(i) || i < 0 || i >= k + m || set.has(i)) {
      throw fail('want', `want holds ${i}: not a distinct fragment index in 0..${k + m - 1}`, { want });
    }
    set.add(i);
  }
  if (set.size > m) throw fail('want', `cannot rebuild ${set.size} fragments with ${m} parity`, { want });
  return set;
}

/** A Buffer over the same memory as `bytes`. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function describe(value: unknown): string {
  return Array.isArray(value) ? `${value.length} slots` : typeof value;
}

function fail(reason: string, message: string, detail: Record<string, unknown> = {}): ArcaError {
  return new ArcaError('Internal', `erasure codec: ${message}`, { reason, ...detail });
}
