/**
 * Reads a byte stream in pieces of exact sizes (the fragments of EC fragment archives): `read(n)` resolves
 * with exactly n bytes, a view of one chunk when it holds them all, else one copy. A stream that ends or
 * fails before n bytes rejects with ArcaError `Internal` (detail `reason: 'short'`).
 */
import type { Readable } from 'node:stream';
import { ArcaError } from './errors.js';

export class ExactReader {
  readonly #it: AsyncIterator<Buffer>;
  #rest: Buffer | undefined;

  constructor(private readonly stream: Readable) {
    this.#it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes from where the last read ended. */
  async read(n: number): Promise<Buffer> {
    if (n === 0) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      let chunk = this.#rest;
      this.#rest = undefined;
      if (!chunk) {
        let next: IteratorResult<Buffer>;
        try {
          next = await this.#it.next();
        } catch (err) {
          throw new ArcaError('Internal', `stream failed after ${have} of ${n} bytes: ${(err as Error).message}`, { reason: 'short' });
        }
        if (next.done) throw new ArcaError('Internal', `stream ended after ${have} of ${n} bytes`, { reason: 'short' });
        chunk = next.value;
      }
      const take = Math.min(n - have, chunk.length);
      parts.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      if (take < chunk.length) this.#rest = chunk.subarray(take);
      have += take;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
  }

  /** Stops reading and releases the stream. */
  destroy(): void {
    this.stream.destroy();
  }
}
