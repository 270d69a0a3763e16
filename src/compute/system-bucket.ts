/**
 * The compute layer's own bucket on the ring, in the system account (no S3 client can name it): hook
 * modules (`hooks/<name>`), delivery state of event-enabled buckets (`events/state/<bucket>`) and the set of
 * those buckets (`events/watch/<bucket>`).
 */
import { Readable } from 'node:stream';
import { ArcaError } from '../common/errors.js';
import type { BucketInfo, ObjectInfo, ObjectStore } from '../proxy/object-store.js';

export const computeAccount = '.arca';
export const computeBucketName = '.compute';

/** Reads and writes small objects of the compute bucket, creating it on first write. */
export class SystemBucket {
  #bucket: BucketInfo | undefined;

  constructor(readonly store: ObjectStore) {}

  async bucket(create: boolean): Promise<BucketInfo | undefined> {
    if (this.#bucket) return this.#bucket;
    let bucket = await this.store.getBucket(computeBucketName);
    if (!bucket && create) {
      await this.store.createBucket(computeAccount, computeBucketName);
      bucket = await this.store.getBucket(computeBucketName);
    }
    if (bucket && bucket.account !== computeAccount) throw new ArcaError('Internal', `bucket ${computeBucketName} is not the system account's`);
    this.#bucket = bucket;
    return bucket;
  }

  async put(key: string, body: Buffer, meta: Record<string, unknown> = {}, contentType = 'application/json'): Promise<ObjectInfo> {
    const bucket = (await this.bucket(true))!;
    const etag = (await import('node:crypto')).createHash('md5').update(body).digest('hex');
    return this.store.putObject(bucket, key, { body: Readable.from([body]), contentType, meta, finish: () => ({ etag }) });
  }

  async get(key: string, maxBytes = 64 * 1024 * 1024): Promise<{ info: ObjectInfo; body: Buffer } | undefined> {
    const bucket = await this.bucket(false);
    if (!bucket) return undefined;
    // Newest: hook modules, bindings and dispatch state are read, changed and written back.
    const read = await this.store.getObject(bucket, key, { newest: true });
    if (!read) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of read.body as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > maxBytes) {
        read.body.destroy();
        throw new ArcaError('Internal', `${computeBucketName}/${key} is larger than ${maxBytes} bytes`);
      }
      chunks.push(c);
    }
    return { info: read.info, body: Buffer.concat(chunks) };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const bucket = await this.bucket(false);
    return bucket && this.store.headObject(bucket, key, { newest: true });
  }

  async delete(key: string): Promise<boolean> {
    const bucket = await this.bucket(false);
    return bucket ? (await this.store.deleteObject(bucket, key)).existed : false;
  }

  /** Keys under `prefix`, without it, in order. */
  async keys(prefix: string): Promise<string[]> {
    const bucket = await this.bucket(false);
    if (!bucket) return [];
    const out: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.store.listObjects(bucket, { prefix, marker, limit: 1000 });
      for (const e of page.entries) if ('key' in e) out.push(e.key.slice(prefix.length));
      if (!page.truncated || page.entries.length === 0) return out;
      marker = prefix + out[out.length - 1];
    }
  }
}
