/**
 * Streaming image bytes into a store, once, with everything Glance computes on the way: size, MD5 (`checksum`,
 * also the object's ETag, so S3 shows the same value), SHA-512 (`os_hash_value`), and the disk format inspection
 * (virtual size; a mismatched or unsafe image is refused). A refusal, a size over the cap, a short body or a
 * client that goes away aborts the write: nothing is stored.
 */
import { Transform, type Readable } from 'node:stream';
import { Digester, digestOffThread, passWhenCaughtUp } from '../common/checksums.js';
import { ArcaError } from '../common/errors.js';
import type { BucketInfo, ObjectInfo, ObjectStore } from '../proxy/object-store.js';
import { GlanceError } from './errors.js';
import { type DetectedFormat, FormatInspector } from './formats/inspector.js';

export interface IngestOptions {
  /** Content-Length when the client sent one (a body of another length is refused). */
  declaredLength?: number;
  /** Largest image accepted (bytes). */
  sizeCap: number;
  diskFormat: string | null;
  containerFormat: string | null;
  /** Recorded with the object (S3 readers see which image it is). */
  imageId: string;
}

export interface IngestResult {
  info: ObjectInfo;
  size: number;
  /** MD5, hex. */
  checksum: string;
  /** SHA-512, hex. */
  sha512: string;
  virtualSize: number | null;
  format: DetectedFormat;
}

function tooLarge(cap: number): GlanceError {
  return new GlanceError('RequestEntityTooLarge', `Image exceeds the storage quota: the largest image accepted is ${cap} bytes.`);
}

/** Streams `source` into `bucket/key` as described above. */
export async function ingest(store: ObjectStore, bucket: BucketInfo, key: string, source: Readable, opts: IngestOptions): Promise<IngestResult> {
  if (opts.declaredLength !== undefined && opts.declaredLength > opts.sizeCap) {
    source.resume();
    throw tooLarge(opts.sizeCap);
  }
  // A large image's MD5 and SHA-512 are computed on the hash worker (hash-thread.ts), off the event loop.
  const digester = new Digester({ md5: true, sha512: true, offThread: digestOffThread(opts.declaredLength) });
  const inspector = new FormatInspector(opts.diskFormat, opts.containerFormat === null || opts.containerFormat === 'bare');
  let failure: unknown;
  let seen = 0;
  const body = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        seen += chunk.length;
        if (seen > opts.sizeCap) throw tooLarge(opts.sizeCap);
        const behind = digester.update(chunk);
        inspector.update(chunk);
        passWhenCaughtUp(behind, chunk, cb);
      } catch (err) {
        failure ??= err;
        cb(err as Error);
      }
    },
  });
  // The store reads `body` and sees its failure; this listener only keeps an early refusal (emitted before
  // the store has attached its own) from being an uncaught 'error'.
  body.on('error', () => undefined);
  const onSourceError = (err: Error) => body.destroy(err);
  const onAborted = () => body.destroy(new ArcaError('ClientAborted', 'the client went away during the upload'));
  source.on('error', onSourceError);
  source.on('aborted', onAborted);
  source.pipe(body);
  let result: Omit<IngestResult, 'info'> | undefined;
  try {
    const info = await store.putObject(bucket, key, {
      body,
      contentType: 'application/octet-stream',
      meta: { image: { id: opts.imageId } },
      finish: async ({ size }) => {
        if (opts.declaredLength !== undefined && size !== opts.declaredLength) {
          throw new GlanceError('BadRequest', `The image body has ${size} bytes, not the ${opts.declaredLength} its Content-Length said.`);
        }
        const d = await digester.settle();
        const inspected = inspector.finish();
        result = { size, checksum: d.md5Hex!, sha512: d.sha512Hex!, virtualSize: inspected.virtualSize, format: inspected.format };
        return { etag: d.md5Hex!, meta: { image: { id: opts.imageId, sha512: d.sha512Hex } } };
      },
    });
    return { info, ...result! };
  } catch (err) {
    throw failure ?? err;
  } finally {
    source.off('error', onSourceError);
    source.off('aborted', onAborted);
    source.unpipe(body);
  }
}
