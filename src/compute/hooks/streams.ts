/**
 * A hook call as a stream stage: input chunks go to the hook as they arrive (with backpressure: the next
 * chunk waits for the hook), and what the hook emits goes on — or, for a validating hook, the input itself.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { HookCall } from '../sandbox/pool.js';

export interface HookStreamOptions {
  /** `transform`: pass on the hook's output; `validate`: pass on the input, the hook only watches. */
  mode: 'transform' | 'validate';
  /** Output bytes to drop first, then at most `length` bytes passed on (a range of a block-wise hook's output). */
  skip?: number;
  length?: number;
}

/** What a hook stage learned once its input ended. */
export interface HookStageResult {
  /** Metadata the hook set. */
  meta: Record<string, string>;
  inputBytes: number;
  outputBytes: number;
  /** MD5 (hex) of what the stage passed on. */
  md5: string;
}

export class HookStage extends Transform {
  #in = 0;
  #out = 0;
  #skip: number;
  #left: number;
  readonly #md5 = createHash('md5');
  #result: HookStageResult | undefined;

  constructor(
    private readonly call: HookCall,
    private readonly opts: HookStreamOptions,
  ) {
    super();
    this.#skip = opts.skip ?? 0;
    this.#left = opts.length ?? Number.POSITIVE_INFINITY;
    // The input flows in as soon as it is piped, before the consumer reads: a hook failing then must not be an
    // unhandled 'error' event. The consumer still gets the error (the stream is destroyed with it).
    this.on('error', () => {});
  }

  /** Available once the stream has ended. */
  get result(): HookStageResult | undefined {
    return this.#result;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#in += chunk.length;
    if (this.opts.mode === 'validate') this.#emit(chunk);
    this.call.chunk(chunk).then(
      ({ out }) => {
        if (this.opts.mode === 'transform') for (const b of out) this.#emit(b);
        cb();
      },
      (err) => cb(err),
    );
  }

  override _flush(cb: TransformCallback): void {
    this.call.end().then(
      ({ out, meta }) => {
        if (this.opts.mode === 'transform') for (const b of out) this.#emit(b);
        this.#result = { meta: meta ?? {}, inputBytes: this.#in, outputBytes: this.#out, md5: this.#md5.digest('hex') };
        cb();
      },
      (err) => cb(err),
    );
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.call.abort();
    cb(err);
  }

  #emit(b: Buffer): void {
    if (this.#skip > 0) {
      const drop = Math.min(this.#skip, b.length);
      this.#skip -= drop;
      b = b.subarray(drop);
    }
    if (b.length > this.#left) b = b.subarray(0, this.#left);
    if (b.length === 0) return;
    this.#left -= b.length;
    this.#out += b.length;
    this.#md5.update(b);
    this.push(b);
  }
}
