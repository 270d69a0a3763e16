/**
 * Image data: uploads (`PUT …/file`, `PUT …/stage`), reads (`GET`/`HEAD …/file`, ranges for QEMU), and
 * registering an S3 object as an image's data without copying it (`POST …/locations`, `arca image import`).
 *
 * An upload moves the image `queued → saving`, streams the bytes into the default store's bucket under the
 * image id (see ingest.ts), and only then records size, checksum, os_hash and virtual size with the location
 * and moves it to `active` — all before the 204. A failed or interrupted upload moves it back to `queued`;
 * the store committed nothing.
 */
import { Readable } from 'node:stream';
import { ArcaError, isArcaError } from '../common/errors.js';
import type { Principal } from '../common/identity.js';
import { type RangeSpec, resolveRange } from '../common/byte-range.js';
import { assertOwner, isAdmin } from './access.js';
import type { BlockCache } from './block-cache.js';
import { GlanceError } from './errors.js';
import { FormatInspector, formatProblem } from './formats/inspector.js';
import { type IngestResult, ingest } from './ingest.js';
import type { ImageLocation, ImageRecord } from './record.js';
import type { ImageService } from './service.js';
import { moveStatus } from './status.js';

/** Bytes of an existing object read (in 1 MiB ranges) to inspect its format. */
const INSPECT_MAX_BYTES = 16 * 1024 * 1024;
const INSPECT_STEP = 1024 * 1024;

/** What an upload learned, applied to the record. */
export function recordData(r: ImageRecord, got: Pick<IngestResult, 'size' | 'checksum' | 'sha512' | 'virtualSize'>, loc: ImageLocation): void {
  r.size = got.size;
  r.checksum = got.checksum;
  r.os_hash_algo = 'sha512';
  r.os_hash_value = got.sha512;
  r.virtual_size = got.virtualSize;
  r.locations = [loc];
}


export class ImageData {
  constructor(
    private readonly images: ImageService,
    private readonly cache: BlockCache,
  ) {}

  private needFormats(r: ImageRecord): void {
    if (!r.disk_format || !r.container_format) throw new GlanceError('BadRequest', 'Properties disk_format, container_format must be set prior to saving data.');
  }

  /** Streams the bytes into the default store and moves the image to `to` (after a `from` status held during it). */
  private async receive(p: Principal, id: string, source: Readable, length: number | undefined, during: 'saving' | 'uploading', check: (r: ImageRecord) => void): Promise<{ record: ImageRecord; got: IngestResult; loc: ImageLocation }> {
    const { images } = this;
    const r = await images.mutate(p, id, (r) => {
      assertOwner(p, r, 'upload data to this image');
      check(r);
      moveStatus(r, during);
    });
    const bucket = await images.stores.default();
    let got: IngestResult;
    try {
      got = await ingest(images.store, bucket, id, source, {
        declaredLength: length,
        sizeCap: images.config.sizeCap,
        diskFormat: r.disk_format,
        containerFormat: r.container_format,
        imageId: id,
      });
    } catch (err) {
      await images.mutate(undefined, id, (cur) => {
        if (cur.status === during) moveStatus(cur, 'queued');
      }).catch(() => undefined);
      throw err;
    }
    const loc: ImageLocation = { store: bucket.policy, bucket: bucket.name, key: id, etag: got.info.etag };
    return { record: r, got, loc };
  }

  /** `PUT /v2/images/{id}/file`. */
  async upload(p: Principal, id: string, source: Readable, length: number | undefined): Promise<ImageRecord> {
    const { got, loc } = await this.receive(p, id, source, length, 'saving', (r) => this.needFormats(r));
    return this.finishData(id, 'saving', (r) => recordData(r, got, loc), loc);
  }

  /** `PUT /v2/images/{id}/stage`: the data waits (status `uploading`) for `POST …/import` with glance-direct. */
  async stage(p: Principal, id: string, source: Readable, length: number | undefined): Promise<ImageRecord> {
    const { got, loc } = await this.receive(p, id, source, length, 'uploading', () => undefined);
    return this.images.mutate(undefined, id, (r) => {
      if (r.status !== 'uploading') throw new GlanceError('Conflict', `Image ${id} changed status to ${r.status} during the upload.`);
      r.staged = { ...loc, size: got.size, checksum: got.checksum, sha512: got.sha512, virtualSize: got.virtualSize, format: got.format };
    }).catch(async (err) => {
      await this.images.deleteData(loc.bucket, loc.key);
      throw err;
    });
  }

  /**
   * Applies `apply` and moves the image `during → active`; if the image was deleted meanwhile, deletes the data
   * (`loc`) and answers 410, as Glance does.
   */
  async finishData(id: string, during: string, apply: (r: ImageRecord) => void, loc: ImageLocation): Promise<ImageRecord> {
    try {
      return await this.images.mutate(undefined, id, (r) => {
        if (r.status !== during) throw new GlanceError('Conflict', `Image ${id} changed status to ${r.status} during the upload.`);
        apply(r);
        moveStatus(r, 'active');
      });
    } catch (err) {
      if (!loc.external) await this.images.deleteData(loc.bucket, loc.key);
      if (err instanceof GlanceError && err.code === 'NotFound') {
        throw new GlanceError('Gone', `Image ${id} could not be found after upload. The image may have been deleted during the upload.`);
      }
      throw err;
    }
  }

  /**
   * The data of an image for `GET …/file` (`head`: only its description, for `HEAD`): no `info` when the image
   * has none (204). Reads the first location that answers; a location whose object changed since it was
   * recorded is not served.
   */
  async open(p: Principal, id: string, opts: { range?: RangeSpec; head?: boolean }): Promise<{ record: ImageRecord; size?: number; body?: Readable; range?: { start: number; end: number } }> {
    const { images } = this;
    const record = await images.visible(p, id, true);
    if (record.status === 'deactivated' && !isAdmin(p)) {
      throw new GlanceError('Forbidden', 'The requested image has been deactivated. Image data download is forbidden.');
    }
    if (record.status !== 'active' && record.status !== 'deactivated') return { record };
    const cached = opts.range && !opts.head ? await this.fromCache(record, opts.range) : undefined;
    if (cached) return cached;
    let lastError: unknown;
    for (const loc of record.locations) {
      try {
        const bucket = await images.store.getBucket(loc.bucket);
        const missing = new GlanceError('NotFound', `The data of image ${id} is missing from store ${loc.store}.`);
        const changed = new GlanceError('Conflict', `The data of image ${id} in store ${loc.store} changed after it was registered.`);
        if (opts.head) {
          const info = bucket && (await images.store.headObject(bucket, loc.key));
          if (!info || info.etag !== loc.etag) {
            lastError = info ? changed : missing;
            continue;
          }
          return { record, size: info.size };
        }
        const data = bucket && (await images.store.getObject(bucket, loc.key, { range: opts.range }));
        if (!data || data.info.etag !== loc.etag) {
          data?.body.destroy();
          lastError = data ? changed : missing;
          continue;
        }
        return { record, size: data.info.size, body: data.body, range: data.range };
      } catch (err) {
        if (isArcaError(err, 'RangeNotSatisfiable')) throw err;
        lastError = err;
      }
    }
    if (lastError) throw lastError;
    return { record };
  }

  /** A range read served from hot blocks (block-cache.ts), or undefined when the cache does not serve it. */
  private async fromCache(record: ImageRecord, range: RangeSpec): Promise<{ record: ImageRecord; size: number; body: Readable; range: { start: number; end: number } } | undefined> {
    const size = record.size;
    const loc = record.locations[0];
    if (size === null || !loc) return undefined;
    const resolved = resolveRange(range, size);
    if (!resolved) throw new ArcaError('RangeNotSatisfiable', 'range not satisfiable', { size });
    const { start, end } = resolved;
    if (!this.cache.serves(start, end)) return undefined;
    const { images } = this;
    const bytes = await this.cache.read(`${loc.bucket}/${loc.key}@${loc.etag}`, size, start, end, async (s, e) => {
      const bucket = await images.store.getBucket(loc.bucket);
      const got = bucket && (await images.store.getObject(bucket, loc.key, { range: { start: s, end: e } }));
      if (!got || got.info.etag !== loc.etag) {
        got?.body.destroy();
        throw new GlanceError('Conflict', `The data of image ${record.id} in store ${loc.store} is missing or changed after it was registered.`);
      }
      const chunks: Buffer[] = [];
      for await (const c of got.body as AsyncIterable<Buffer>) chunks.push(c);
      return Buffer.concat(chunks);
    });
    return { record, size, body: Readable.from([bytes]), range: resolved };
  }

  /**
   * `POST /v2/images/{id}/locations` with `{"url": "s3://bucket/key"}`: a queued image becomes that S3 object,
   * without copying it. Size and checksum come from the object (its ETag is its MD5 unless it was a multipart
   * upload, which is then read once to digest it); the format and virtual size from its first bytes, read with
   * range GETs. `validation_data.os_hash_value` (SHA-512) is recorded when given.
   */
  async addLocation(p: Principal, id: string, body: unknown): Promise<ImageRecord> {
    const b = (body ?? {}) as { url?: unknown; validation_data?: { os_hash_algo?: unknown; os_hash_value?: unknown } };
    const m = typeof b.url === 'string' ? /^s3:\/\/([^/]+)\/(.+)$/.exec(b.url) : null;
    if (!m) throw new GlanceError('BadRequest', 'The location url must be s3://bucket/key.');
    const [, bucketName, key] = m;
    const { images } = this;
    const current = await images.visible(p, id);
    assertOwner(p, current, 'add a location to this image');
    this.needFormats(current);
    if (current.status !== 'queued') throw new GlanceError('Conflict', `Image ${id} is ${current.status}; a location can be added only to a queued image.`);
    const bucket = await images.store.getBucket(bucketName);
    if (!bucket) throw new GlanceError('BadRequest', `No such bucket: ${bucketName}`);
    if (!isAdmin(p) && bucket.account !== p.account) throw new GlanceError('Forbidden', `You may not register objects of bucket ${bucketName}.`);
    const info = await images.store.headObject(bucket, key);
    if (!info) throw new GlanceError('BadRequest', `No such object: s3://${bucketName}/${key}`);

    const inspector = new FormatInspector(current.disk_format, current.container_format === 'bare');
    for (let offset = 0; offset < Math.min(info.size, INSPECT_MAX_BYTES) && !inspector.decided; offset += INSPECT_STEP) {
      const part = await images.store.getObject(bucket, key, { range: { start: offset, end: Math.min(offset + INSPECT_STEP, info.size) - 1 } });
      if (!part) throw new GlanceError('Conflict', `s3://${bucketName}/${key} disappeared while it was read.`);
      // Read the range whole before inspecting it: a refusal then never abandons a half-read body.
      const chunks: Buffer[] = [];
      for await (const chunk of part.body as AsyncIterable<Buffer>) chunks.push(chunk);
      inspector.update(Buffer.concat(chunks));
    }
    const inspected = inspector.finish(info.size);
    const problem = formatProblem(current.disk_format, current.container_format === 'bare', inspected.format);
    if (problem) throw new GlanceError('BadRequest', problem);

    let checksum = /^[0-9a-f]{32}$/.test(info.etag) ? info.etag : undefined;
    let sha512: string | null = null;
    const v = b.validation_data;
    if (v?.os_hash_value !== undefined) {
      if (v.os_hash_algo !== 'sha512' || typeof v.os_hash_value !== 'string' || !/^[0-9a-f]{128}$/.test(v.os_hash_value)) {
        throw new GlanceError('BadRequest', 'validation_data must give os_hash_algo sha512 and a 128-digit hex os_hash_value.');
      }
      sha512 = v.os_hash_value;
    }
    if (!checksum) {
      const digest = await images.digestObject(bucket, key);
      checksum = digest.md5;
      sha512 = digest.sha512;
    }
    const loc: ImageLocation = { store: bucket.policy, bucket: bucketName, key, etag: info.etag, external: true };
    return images.mutate(p, id, (r) => {
      if (r.status !== 'queued') throw new GlanceError('Conflict', `Image ${id} is ${r.status}; a location can be added only to a queued image.`);
      r.size = info.size;
      r.checksum = checksum!;
      r.os_hash_algo = 'sha512';
      r.os_hash_value = sha512;
      r.virtual_size = inspected.virtualSize;
      r.locations = [loc];
      moveStatus(r, 'active');
    });
  }
}
