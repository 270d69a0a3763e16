/**
 * The erasure codec the EC policy uses: one segment in, k+m fragments out, and back. Two implementations of
 * one code (cauchy.ts): `native` (@ronomon/reed-solomon, on the libuv threadpool) for the data path, and
 * `reference` (plain TypeScript) as the test oracle and a fallback where the addon is not built. Both give
 * byte-identical fragments, so either can read what the other wrote.
 */
import { NativeCodec } from './native.js';
import { ReferenceCodec } from './reference.js';

export { CODEC_SCHEME, MAX_K, MAX_M } from './cauchy.js';
export { fragmentSize } from './segments.js';

/**
 * Encodes one segment into k data + m parity fragments and rebuilds lost ones. Fragment i (0-based) goes to
 * node i of the partition; 0..k-1 are data (the padded segment itself, cut in k), k..k+m-1 parity.
 * Inputs must not change while a call is pending (the native codec reads them on another thread). Bad
 * arguments reject with ArcaError 'Internal' and `detail.reason` (see checks.ts); nothing aborts the process.
 */
export interface ErasureCodec {
  readonly k: number;
  readonly m: number;
  /** The code's name for fragment metadata (CODEC_SCHEME). */
  readonly scheme: string;
  /**
   * Encodes a segment of any length up to MAX_SEGMENT_SIZE into k+m fragments of `fragmentSize(length, k)`
   * bytes; the segment is zero-padded to k * fragmentSize. An empty segment gives k+m empty fragments.
   * Data fragments may share memory with `segment` (native, when it is already padded: see allocSegment)
   * or with a padded copy.
   */
  encode(segment: Buffer): Promise<Buffer[]>;
  /**
   * Returns the padded segment (the k data fragments concatenated) from `fragments`: k+m slots, undefined
   * where missing, at least k present, all of one length. The caller trims the padding (segments.ts knows
   * each segment's length). May share memory with the fragments when no data fragment is missing.
   */
  decode(fragments: Array<Buffer | undefined>): Promise<Buffer>;
  /**
   * Rebuilds the fragments listed in `want` (at most m distinct indexes) from at least k of the others; a
   * fragment listed in `want` is never used as a source, even when present. Results are in `want` order.
   */
  reconstruct(fragments: Array<Buffer | undefined>, want: number[]): Promise<Buffer[]>;
}

/** Which implementation of the code to run. */
export type CodecImpl = 'native' | 'reference';

/**
 * A codec for k data and m parity fragments (1 <= k <= 24, 1 <= m <= 6; InvalidConfig otherwise). `native`
 * throws Internal when the addon's binding is not built.
 */
export function createCodec(k: number, m: number, impl: CodecImpl = 'native'): ErasureCodec {
  switch (impl) {
    case 'native':
      return new NativeCodec(k, m);
    case 'reference':
      return new ReferenceCodec(k, m);
    default: {
      const unknown: never = impl;
      throw new TypeError(`unknown erasure codec implementation ${String(unknown)}`);
    }
  }
}
