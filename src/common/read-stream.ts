/** Reading a small stream (a JSON record, a manifest, an XML document) whole, with a size limit. */
import type { Readable } from 'node:stream';
import { ArcaError } from './errors.js';

/**
 * Every byte of `body`, or ArcaError `BadRequest` (detail `reason: 'too-large'`) as soon as it passes `max`
 * bytes (the stream is destroyed then).
 */
export async function readBounded(body: Readable, max: number): Promise<Buffer> {
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
