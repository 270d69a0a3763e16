/**
 * Reading a small stream (a JSON record, a manifest, an XML document) whole, with a size limit; and a body
 * already read whole that still reads as a stream.
 */
import { Readable } from 'node:stream';
import { ArcaError } from './errors.js';

/**
 * A body held whole in memory, as a Readable: whatever streams it keeps working, and a consumer that can use
 * the bytes at once takes `bytes` instead while nothing has been read (`untouched`) — the S3 app answers with
 * them in one write and no stream pipeline; `readBounded` returns them as they are.
 */
export class HeldBody extends Readable {
  constructor(readonly bytes: Buffer) {
    super();
  }

  override _read(): void {
    if (this.bytes.length > 0) this.push(this.bytes);
    this.push(null);
  }

  /** True while no byte has been read and the stream is not destroyed: `bytes` may be used instead. */
  get untouched(): boolean {
    return !this.readableDidRead && !this.destroyed;
  }
}

/**
 * Every byte of `body`, or ArcaError `BadRequest` (detail `reason: 'too-large'`) as soon as it passes `max`
 * bytes (the stream is destroyed then).
 */
export async function readBounded(body: Readable, max: number): Promise<Buffer> {
  if (body instanceof HeldBody && body.untouched && body.bytes.length <= max) {
    body.destroy();
    return body.bytes;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      body.destroy();
      throw new ArcaError('BadRequest', `more than ${max} bytes`, { reason: 'too-large' });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
