/**
 * The code of cauchy.ts in plain TypeScript: the oracle the native codec is tested against, and a fallback
 * where the addon is not built. It runs on the calling thread (never put it on a hot path; DESIGN.md) and
 * works on 32-bit words where the packet layout allows, on bytes elsewhere.
 *
 * Decoding picks the first k present fragments and applies the inverse bit matrix, as the addon does; the
 * data it returns is the same whichever k it picks, because the code is MDS.
 */
import { CODEC_SCHEME, type CauchyCode, cauchyCode, chunkSize, decodingBitmatrix } from './cauchy.js';
import { asBuffer, checkBufferSizes, checkFragments, checkSegment, checkWant } from './checks.js';
import type { ErasureCodec } from './codec.js';
import { fragmentSize } from './segments.js';

export class ReferenceCodec implements ErasureCodec {
  readonly scheme = CODEC_SCHEME;
  readonly #code: CauchyCode;

  constructor(
    readonly k: number,
    readonly m: number,
  ) {
    this.#code = cauchyCode(k, m);
  }

  async encode(segment: Buffer): Promise<Buffer[]> {
    const { k, m } = this;
    const input = checkSegment(segment);
    const size = fragmentSize(input.length, k);
    if (size === 0) return Array.from({ length: k + m }, () => Buffer.alloc(0));
    checkBufferSizes(k, m, size);
    const data = new Uint8Array(k * size);
    data.set(input);
    const shards = split(data, k, size);
    const out = shards.map(asBuffer);
    for (let r = 0; r < m; r++) out.push(asBuffer(this.#parity(r, shards, size)));
    return out;
  }

  async decode(fragments: Array<Buffer | undefined>): Promise<Buffer> {
    const { fragmentSize: size, present } = checkFragments(this.k, this.m, fragments);
    if (size === 0) return Buffer.alloc(0);
    return Buffer.concat(this.#data(fragments, present, size), this.k * size);
  }

  async reconstruct(fragments: Array<Buffer | undefined>, want: number[]): Promise<Buffer[]> {
    const { k, m } = this;
    const wanted = checkWant(k, m, want);
    const { fragmentSize: size, present } = checkFragments(k, m, fragments, wanted);
    if (want.length === 0) return [];
    if (size === 0) return want.map(() => Buffer.alloc(0));
    const data = this.#data(fragments, present, size);
    return want.map((i) => asBuffer(i < k ? data[i].slice() : this.#parity(i - k, data, size)));
  }

  /** The k data fragments (word-aligned), decoding the missing ones from the first k present. */
  #data(fragments: ReadonlyArray<Uint8Array | undefined>, present: readonly number[], size: number): Uint8Array[] {
    const { k, w } = this.#code;
    const used = present.slice(0, k);
    const sources = used.map((i) => aligned(fragments[i] as Uint8Array));
    if (used[k - 1] === k - 1) return sources;
    const decoding = decodingBitmatrix(this.#code, used);
    const data: Uint8Array[] = [];
    for (let i = 0, next = 0; i < k; i++) {
      if (used[next] === i) {
        data.push(sources[next++]);
        continue;
      }
      const fragment = new Uint8Array(size);
      dot(this.#code, decoding, i * k * w * w, sources, fragment);
      data.push(fragment);
    }
    return data;
  }

  #parity(r: number, data: readonly Uint8Array[], size: number): Uint8Array {
    const { k, w, encoding } = this.#code;
    const fragment = new Uint8Array(size);
    dot(this.#code, encoding, r * k * w * w, data, fragment);
    return fragment;
  }
}

function split(data: Uint8Array, k: number, size: number): Uint8Array[] {
  return Array.from({ length: k }, (_, i) => data.subarray(i * size, (i + 1) * size));
}

/** `bytes` itself when it starts on a 4-byte boundary, else an aligned copy. */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
}

/**
 * target = row block `offset` of `matrix` times `sources` (dot() in binding.c): for every stripe of w
 * packets, output packet a is the XOR of the source packets whose bit is set in row a. Fused in groups of
 * up to four sources per pass to spare loads and stores of the target.
 */
function dot(code: CauchyCode, matrix: Uint8Array, offset: number, sources: readonly Uint8Array[], target: Uint8Array): void {
  const { k, w } = code;
  const size = target.length;
  const chunk = chunkSize(w, k, size);
  // For output packet a: the (source, packet) pairs it XORs, as source * w + packet.
  const terms: number[][] = [];
  for (let a = 0; a < w; a++) {
    const row: number[] = [];
    for (let j = 0; j < k * w; j++) if (matrix[offset + a * k * w + j]) row.push(j);
    terms.push(row);
  }
  const words = chunk % 4 === 0 && [target, ...sources].every((bytes) => bytes.byteOffset % 4 === 0);
  const unit = words ? 4 : 1;
  const view = (bytes: Uint8Array): Lane =>
    words ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : bytes;
  const into = view(target);
  const from = sources.map(view);
  const n = chunk / unit;
  const lanes: Lane[] = [];
  const starts: number[] = [];
  for (let stripe = 0; stripe < size; stripe += w * chunk) {
    for (let a = 0; a < w; a++) {
      const t = (stripe + a * chunk) / unit;
      const row = terms[a];
      if (row.length === 0) into.fill(0, t, t + n);
      for (let g = 0; g < row.length; g += 4) {
        const count = Math.min(4, row.length - g);
        for (let i = 0; i < count; i++) {
          const j = row[g + i];
          lanes[i] = from[Math.floor(j / w)];
          starts[i] = (stripe + (j % w) * chunk) / unit;
        }
        xor(into, t, n, lanes, starts, count, g === 0);
      }
    }
  }
}

type Lane = Int32Array | Uint8Array;

/** into[t..t+n) (= when `assign`, else ^=) the XOR of `count` (1..4) source lanes at their starts. */
function xor(into: Lane, t: number, n: number, lanes: Lane[], starts: number[], count: number, assign: boolean): void {
  const a = lanes[0];
  const sa = starts[0] - t;
  if (count === 1) {
    if (assign) for (let i = t; i < t + n; i++) into[i] = a[i + sa];
    else for (let i = t; i < t + n; i++) into[i] ^= a[i + sa];
    return;
  }
  const b = lanes[1];
  const sb = starts[1] - t;
  if (count === 2) {
    if (assign) for (let i = t; i < t + n; i++) into[i] = a[i + sa] ^ b[i + sb];
    else for (let i = t; i < t + n; i++) into[i] ^= a[i + sa] ^ b[i + sb];
    return;
  }
  const c = lanes[2];
  const sc = starts[2] - t;
  if (count === 3) {
    if (assign) for (let i = t; i < t + n; i++) into[i] = a[i + sa] ^ b[i + sb] ^ c[i + sc];
    else for (let i = t; i < t + n; i++) into[i] ^= a[i + sa] ^ b[i + sb] ^ c[i + sc];
    return;
  }
  const d = lanes[3];
  const sd = starts[3] - t;
  if (assign) for (let i = t; i < t + n; i++) into[i] = a[i + sa] ^ b[i + sb] ^ c[i + sc] ^ d[i + sd];
  else for (let i = t; i < t + n; i++) into[i] ^= a[i + sa] ^ b[i + sb] ^ c[i + sc] ^ d[i + sd];
}
