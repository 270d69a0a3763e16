/**
 * The data-path codec: @ronomon/reed-solomon 6.0.0, a C addon that runs each call on the libuv threadpool.
 *
 * Layout. The addon wants the k data fragments back to back in one buffer and the m parity fragments back
 * to back in another. A segment cut in k equal fragments is exactly that, so encoding a segment that is
 * already k * fragmentSize bytes (1 MiB with k = 4 or 8) copies nothing: the data fragments are views of
 * the segment and the parity is written into one fresh buffer. Any other length costs one copy, into a
 * zero-padded buffer. Decoding copies the present data fragments into the output segment (the
 * concatenation needs that copy anyway) and only the parity fragments the addon will read.
 *
 * The addon asserts (aborting the process) on empty Buffers and on buffers over 4 GiB: checks.ts rejects
 * those before any call, and empty segments never reach it.
 */
import { createRequire } from 'node:module';
import { ArcaError } from '../common/errors.js';
import { CODEC_SCHEME, checkCode } from './cauchy.js';
import { checkBufferSizes, checkFragments, checkSegment, checkWant } from './checks.js';
import type { ErasureCodec } from './codec.js';
import { fragmentSize } from './segments.js';

/** The part of the addon's API we use (binding.c). */
interface ReedSolomonBinding {
  create(k: number, m: number): Buffer;
  encode(
    context: Buffer,
    sources: number,
    targets: number,
    buffer: Buffer,
    bufferOffset: number,
    bufferSize: number,
    parity: Buffer,
    parityOffset: number,
    paritySize: number,
    callback: (error?: Error) => void,
  ): void;
}

export class NativeCodec implements ErasureCodec {
  readonly scheme = CODEC_SCHEME;
  readonly #binding: ReedSolomonBinding;
  /** The addon's encoding context (its bit matrix); safe to share between concurrent calls. */
  readonly #context: Buffer;

  constructor(
    readonly k: number,
    readonly m: number,
  ) {
    checkCode(k, m);
    this.#binding = loadBinding();
    this.#context = this.#binding.create(k, m);
  }

  async encode(segment: Buffer): Promise<Buffer[]> {
    const { k, m } = this;
    const input = checkSegment(segment);
    const size = fragmentSize(input.length, k);
    if (size === 0) return Array.from({ length: k + m }, () => Buffer.alloc(0));
    checkBufferSizes(k, m, size);
    let data = input;
    if (input.length !== k * size) {
      data = Buffer.allocUnsafe(k * size);
      input.copy(data);
      data.fill(0, input.length);
    }
    // Every parity byte is written: each row of an invertible bit matrix has a set bit.
    const parity = Buffer.allocUnsafe(m * size);
    await this.#call(mask(0, k), mask(k, k + m), data, parity);
    return slices(data, parity, k, m, size);
  }

  async decode(fragments: Array<Buffer | undefined>): Promise<Buffer> {
    const { k } = this;
    const { fragmentSize: size, present } = checkFragments(k, this.m, fragments);
    if (size === 0) return Buffer.alloc(0);
    const missing: number[] = [];
    for (let i = 0; i < k; i++) if (fragments[i] === undefined || fragments[i] === null) missing.push(i);
    if (missing.length === 0) {
      return contiguous(fragments, k, size) ?? Buffer.concat(fragments.slice(0, k) as Uint8Array[], k * size);
    }
    const { data } = await this.#rebuild(fragments, present, size, missing);
    return data;
  }

  async reconstruct(fragments: Array<Buffer | undefined>, want: number[]): Promise<Buffer[]> {
    const { k, m } = this;
    const wanted = checkWant(k, m, want);
    const { fragmentSize: size, present } = checkFragments(k, m, fragments, wanted);
    if (want.length === 0) return [];
    if (size === 0) return want.map(() => Buffer.alloc(0));
    const { data, parity } = await this.#rebuild(fragments, present, size, want);
    return want.map((i) => (i < k ? data.subarray(i * size, (i + 1) * size) : parity.subarray((i - k) * size, (i - k + 1) * size)));
  }

  /**
   * Lays the first k usable fragments out as the addon wants and has it compute `targets` (plus any other
   * data fragment that is missing, which it needs on the way). The addon decodes from the first k set bits
   * of `sources` and recomputes every parity fragment not flagged as a source, so parity fragments past the
   * k-th source are flagged too: never read, never recomputed, never copied.
   */
  async #rebuild(
    fragments: ReadonlyArray<Buffer | undefined>,
    present: readonly number[],
    size: number,
    targets: readonly number[],
  ): Promise<{ data: Buffer; parity: Buffer }> {
    const { k, m } = this;
    const used = present.slice(0, k);
    const last = used[k - 1];
    let data = last === k - 1 ? contiguous(fragments, k, size) : undefined;
    const copyData = data === undefined;
    data ??= Buffer.allocUnsafe(k * size);
    const parity = Buffer.allocUnsafe(m * size);
    let sources = 0;
    for (const i of used) {
      const fragment = fragments[i] as Uint8Array;
      if (i >= k) parity.set(fragment, (i - k) * size);
      else if (copyData) data.set(fragment, i * size);
      sources |= 1 << i;
    }
    let wanted = 0;
    for (const i of targets) wanted |= 1 << i;
    sources |= mask(last + 1, k + m) & ~wanted;
    await this.#call(sources, wanted, data, parity);
    return { data, parity };
  }

  #call(sources: number, targets: number, data: Buffer, parity: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.#binding.encode(this.#context, sources, targets, data, 0, data.length, parity, 0, parity.length, (error) =>
          error ? reject(error) : resolve(),
        );
      } catch (err) {
        reject(new ArcaError('Internal', `erasure codec: addon refused the call: ${(err as Error).message}`, { reason: 'addon' }));
      }
    });
  }
}

function loadBinding(): ReedSolomonBinding {
  try {
    return createRequire(import.meta.url)('@ronomon/reed-solomon') as ReedSolomonBinding;
  } catch (err) {
    throw new ArcaError(
      'Internal',
      `native erasure codec unavailable (is @ronomon/reed-solomon built? it needs allowScripts): ${(err as Error).message}`,
      { reason: 'no-addon' },
    );
  }
}

/** Bits from..to-1 set. */
function mask(from: number, to: number): number {
  let bits = 0;
  for (let i = from; i < to; i++) bits |= 1 << i;
  return bits;
}

/** The k+m fragments as views of the data and parity buffers. */
function slices(data: Buffer, parity: Buffer, k: number, m: number, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < k; i++) out.push(data.subarray(i * size, (i + 1) * size));
  for (let i = 0; i < m; i++) out.push(parity.subarray(i * size, (i + 1) * size));
  return out;
}

/** The data fragments as one Buffer when they already lie back to back in memory (as encode leaves them). */
function contiguous(fragments: ReadonlyArray<Uint8Array | undefined>, k: number, size: number): Buffer | undefined {
  const first = fragments[0];
  if (!first) return undefined;
  for (let i = 1; i < k; i++) {
    const f = fragments[i];
    if (!f || f.buffer !== first.buffer || f.byteOffset !== first.byteOffset + i * size) return undefined;
  }
  return Buffer.from(first.buffer, first.byteOffset, k * size);
}
