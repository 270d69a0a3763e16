/**
 * Segment arithmetic for erasure-coded objects, Swift's way: an object of `size` bytes is cut into segments
 * of `segmentSize` bytes (the last one may be short); each segment is padded and split into k data
 * fragments plus m parity fragments of `fragmentSize(segmentLength, k)` bytes; fragment i of every segment
 * is appended to the fragment archive kept by node i. Every archive of an object therefore has the same
 * size, and the offset of a segment's fragment inside an archive depends only on the segment's index.
 *
 * Pure functions: no I/O, no state. Sizes are byte counts (safe integers); ranges are inclusive like HTTP.
 */
import { ArcaError } from '../common/errors.js';

/** Segment size used when a policy does not set one (Swift's `ec_object_segment_size` default). */
export const DEFAULT_SEGMENT_SIZE = 1048576;

/** Fragments are a multiple of this many bytes (the native codec works on 64-bit words). */
export const FRAGMENT_ALIGNMENT = 8;

/** Largest segment the codecs accept (keeps every codec buffer far below the addon's 4 GiB limit). */
export const MAX_SEGMENT_SIZE = 1 << 30;

/** Largest k any codec supports. */
export const MAX_DATA_FRAGMENTS = 24;

/**
 * Bytes in each of the k+m fragments of one segment of `segmentLength` bytes: ceil(length / k) rounded up
 * to a multiple of 8. The k data fragments hold the segment followed by zero padding; 0 for an empty
 * segment (which is never encoded).
 */
export function fragmentSize(segmentLength: number, k: number): number {
  checkCount('segmentLength', segmentLength, 0);
  checkK(k);
  const perFragment = Math.ceil(segmentLength / k);
  return Math.ceil(perFragment / FRAGMENT_ALIGNMENT) * FRAGMENT_ALIGNMENT;
}

/**
 * A zeroed buffer for a segment of `length` bytes, already padded to k * fragmentSize(length, k): a writer
 * that gathers the body into it and encodes the whole buffer spares the codec its padding copy. Encoding
 * the padded buffer gives the same fragments as encoding the bare `length` bytes.
 */
export function allocSegment(length: number, k: number): Buffer {
  return Buffer.alloc(k * fragmentSize(length, k));
}

/** Number of segments of an object: 0 for an empty object. */
export function segmentCount(size: number, segmentSize = DEFAULT_SEGMENT_SIZE): number {
  checkCount('size', size, 0);
  checkSegmentSize(segmentSize);
  return Math.ceil(size / segmentSize);
}

/** Bytes of object data in segment `index` (every segment is `segmentSize` but the last, which may be short). */
export function segmentLength(size: number, index: number, segmentSize = DEFAULT_SEGMENT_SIZE): number {
  const count = segmentCount(size, segmentSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw invalid(`segment ${index} outside 0..${count - 1}`, { size, index, segmentSize });
  }
  return index < count - 1 ? segmentSize : size - index * segmentSize;
}

/** Size of each node's fragment archive for an object of `size` bytes: the sum of its fragment sizes. */
export function fragmentArchiveSize(size: number, k: number, segmentSize = DEFAULT_SEGMENT_SIZE): number {
  const count = segmentCount(size, segmentSize);
  if (count === 0) return 0;
  const lastLength = size - (count - 1) * segmentSize;
  return (count - 1) * fragmentSize(segmentSize, k) + fragmentSize(lastLength, k);
}

/** Where segment `index`'s fragment starts in every fragment archive (all earlier segments are full). */
export function fragmentOffset(index: number, k: number, segmentSize = DEFAULT_SEGMENT_SIZE): number {
  checkCount('index', index, 0);
  checkSegmentSize(segmentSize);
  return index * fragmentSize(segmentSize, k);
}

/** One segment of an object, and where its fragment lies in every fragment archive. */
export interface SegmentInfo {
  index: number;
  /** Bytes of object data in the segment. */
  length: number;
  /** Bytes of each of its fragments. */
  fragmentSize: number;
  /** Offset of its fragment in every fragment archive. */
  archiveOffset: number;
}

/**
 * The segments first..last (default: all) of an object of `size` bytes, in order: what a writer encodes
 * and appends, and how a reader splits the archive bytes it fetched for a SegmentRange.
 */
export function* segments(
  size: number,
  k: number,
  segmentSize = DEFAULT_SEGMENT_SIZE,
  first = 0,
  last = segmentCount(size, segmentSize) - 1,
): Generator<SegmentInfo> {
  const count = segmentCount(size, segmentSize);
  checkK(k);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 0 || last >= count) {
    throw invalid(`segments ${first}..${last} outside 0..${count - 1}`, { size, first, last, segmentSize });
  }
  const full = fragmentSize(segmentSize, k);
  for (let index = first; index <= last; index++) {
    const length = index < count - 1 ? segmentSize : size - index * segmentSize;
    yield { index, length, fragmentSize: fragmentSize(length, k), archiveOffset: index * full };
  }
}

/** What to fetch and decode to serve the client byte range [start, end] of an object. */
export interface SegmentRange {
  /** First segment holding a requested byte. */
  firstSegment: number;
  /** Last segment holding a requested byte. */
  lastSegment: number;
  /** First byte to read from each fragment archive (inclusive). */
  archiveStart: number;
  /** Last byte to read from each fragment archive (inclusive); the range covers whole fragments. */
  archiveEnd: number;
  /** Bytes of object data the decoded segments firstSegment..lastSegment hold (without padding). */
  segmentBytes: number;
  /** Bytes to drop from the start of the first decoded segment. */
  skip: number;
  /** Bytes to send the client: end - start + 1. */
  length: number;
}

/**
 * Maps the inclusive client range [start, end] of an object of `size` bytes onto whole segments and the
 * matching inclusive byte range of every fragment archive. The caller resolves suffix and open-ended
 * ranges against the size first; a range outside the object is a BadRequest (answer 416 before this).
 */
export function mapRange(
  size: number,
  k: number,
  start: number,
  end: number,
  segmentSize = DEFAULT_SEGMENT_SIZE,
): SegmentRange {
  const count = segmentCount(size, segmentSize);
  checkK(k);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
    throw new ArcaError('BadRequest', `range ${start}-${end} is not inside an object of ${size} bytes`, {
      size,
      start,
      end,
    });
  }
  const firstSegment = Math.floor(start / segmentSize);
  const lastSegment = Math.floor(end / segmentSize);
  const full = fragmentSize(segmentSize, k);
  const lastLength = lastSegment < count - 1 ? segmentSize : size - lastSegment * segmentSize;
  return {
    firstSegment,
    lastSegment,
    archiveStart: firstSegment * full,
    archiveEnd: lastSegment * full + fragmentSize(lastLength, k) - 1,
    segmentBytes: (lastSegment - firstSegment) * segmentSize + lastLength,
    skip: start - firstSegment * segmentSize,
    length: end - start + 1,
  };
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_DATA_FRAGMENTS) {
    throw invalid(`k must be an integer in 1..${MAX_DATA_FRAGMENTS}, got ${k}`, { k });
  }
}

function checkSegmentSize(segmentSize: number): void {
  if (!Number.isInteger(segmentSize) || segmentSize < 1 || segmentSize > MAX_SEGMENT_SIZE) {
    throw invalid(`segmentSize must be an integer in 1..${MAX_SEGMENT_SIZE}, got ${segmentSize}`, { segmentSize });
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be a safe integer >= ${min}, got ${value}`, { [name]: value });
  }
}

/** Arguments no caller should produce: a bug on our side, never the client's. */
function invalid(message: string, detail: Record<string, unknown>): ArcaError {
  return new ArcaError('Internal', message, detail);
}
