/**
 * Glance's interoperable image import (https://docs.openstack.org/api-ref/image/v2/#interoperable-image-import):
 * `POST /v2/images/{id}/import` answers 202 and the work runs in this proxy's background.
 *
 *   glance-direct   staged data (`PUT …/stage`, status uploading) becomes the image: importing → active
 *   web-download    the proxy fetches an http(s) URL into the default store: queued → importing → active
 *   copy-image      an active image's data is copied into more stores (storage policies); it stays active
 *
 * While it runs the image shows `os_glance_import_task` and `os_glance_importing_to_stores`; stores that failed
 * are listed in `os_glance_failed_import`. A failed glance-direct or web-download import moves the image back to
 * `queued` and keeps no data, as Glance does.
 */
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Principal } from '../common/identity.js';
import { assertOwner } from './access.js';
import { type ImageData, recordData } from './data.js';
import { GlanceError } from './errors.js';
import { formatProblem } from './formats/inspector.js';
import type { DetectedFormat } from './formats/inspector.js';
import { type IngestResult, ingest } from './ingest.js';
import type { ImageLocation, ImageRecord } from './record.js';
import type { ImageService } from './service.js';
import { moveStatus } from './status.js';

export const IMPORT_METHODS = ['glance-direct', 'web-download', 'copy-image'] as const;
type ImportMethod = (typeof IMPORT_METHODS)[number];

interface ImportRequest {
  method: ImportMethod;
  uri?: string;
  stores: string[];
  allStoresMustSucceed: boolean;
}

const MAX_REDIRECTS = 5;

function bad(msg: string): GlanceError {
  return new GlanceError('BadRequest', msg);
}

export class ImageImports {
  /** Imports running in this proxy (tests and shutdown wait for them). */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly images: ImageService,
    private readonly data: ImageData,
  ) {}

  private async parse(body: unknown): Promise<ImportRequest> {
    const b = (body ?? {}) as { method?: { name?: unknown; uri?: unknown }; stores?: unknown; all_stores?: unknown; all_stores_must_succeed?: unknown };
    const name = b.method?.name;
    if (!IMPORT_METHODS.includes(name as ImportMethod)) throw bad(`Import method ${JSON.stringify(name)} is not valid; use one of ${IMPORT_METHODS.join(', ')}.`);
    const ids = (await this.images.stores.ids()).map((s) => s.id);
    let stores: string[];
    if (b.all_stores === true) {
      if (b.stores !== undefined) throw bad('Specify either all_stores or stores, not both.');
      stores = ids;
    } else if (b.stores !== undefined) {
      if (!Array.isArray(b.stores) || b.stores.length === 0 || b.stores.some((s) => typeof s !== 'string')) throw bad('stores must be a list of store ids.');
      for (const s of b.stores) if (!ids.includes(s)) throw bad(`Unknown store: ${s}`);
      stores = [...new Set(b.stores as string[])];
    } else {
      if (name === 'copy-image') throw bad('copy-image needs stores or all_stores.');
      stores = [ids[0]];
    }
    const uri = b.method?.uri;
    if (name === 'web-download') {
      if (typeof uri !== 'string') throw bad('web-download needs method.uri.');
      this.checkUri(uri);
    }
    return { method: name as ImportMethod, uri: uri as string | undefined, stores, allStoresMustSucceed: b.all_stores_must_succeed !== false };
  }

  private checkUri(uri: string): URL {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw bad(`Invalid URI: ${uri}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('web-download fetches only http and https URIs.');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const allowed = this.images.config.webDownloadPorts;
    if (allowed.length > 0 && !allowed.includes(port)) throw new GlanceError('Forbidden', `web-download may not fetch from port ${port}.`);
    return url;
  }

  /** Starts an import; resolves once accepted (the 202), with the work still running. */
  async start(p: Principal, id: string, body: unknown): Promise<void> {
    const req = await this.parse(body);
    const task = randomUUID();
    const record = await this.images.mutate(p, id, (r) => {
      assertOwner(p, r, 'import data to this image');
      if (req.method === 'glance-direct') {
        if (r.status !== 'uploading' || !r.staged) throw new GlanceError('Conflict', "Image needs to be staged before 'glance-direct' method can be used");
        if (!r.disk_format || !r.container_format) throw bad('Properties disk_format, container_format must be set prior to importing data.');
        const problem = formatProblem(r.disk_format, r.container_format === 'bare', r.staged.format as DetectedFormat);
        if (problem) throw bad(problem);
        moveStatus(r, 'importing');
      } else if (req.method === 'web-download') {
        if (r.status !== 'queued') throw new GlanceError('Conflict', `Image status ${r.status} does not allow web-download; the image must be queued.`);
        if (!r.disk_format || !r.container_format) throw bad('Properties disk_format, container_format must be set prior to importing data.');
        moveStatus(r, 'importing');
      } else {
        if (r.status !== 'active') throw new GlanceError('Conflict', `Image status ${r.status} does not allow copy-image; the image must be active.`);
        const have = new Set(r.locations.map((l) => l.store));
        req.stores = req.stores.filter((s) => !have.has(s));
        if (req.stores.length === 0) throw new GlanceError('Conflict', 'Image is already present at all requested stores.');
        if (r.properties.os_glance_importing_to_stores) throw new GlanceError('Conflict', 'Image is already being imported.');
      }
      r.properties.os_glance_import_task = task;
      r.properties.os_glance_importing_to_stores = req.stores.join(',');
      r.properties.os_glance_failed_import = '';
    });
    const run = this.run(record, req).catch((err) => this.images.log(`images: import ${task} of ${id} failed: ${(err as Error)?.stack ?? err}`));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** Waits for every import this proxy is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async run(r: ImageRecord, req: ImportRequest): Promise<void> {
    const { images } = this;
    if (req.method === 'copy-image') return this.copyToStores(r, req);
    // glance-direct or web-download: first the data in the default store, then copies to the other stores.
    const dflt = await images.stores.default();
    let got: Pick<IngestResult, 'size' | 'checksum' | 'sha512' | 'virtualSize'>;
    let first: ImageLocation;
    try {
      if (req.method === 'glance-direct') {
        const s = r.staged!;
        got = s;
        first = { store: s.store, bucket: s.bucket, key: s.key, etag: s.etag };
      } else {
        const body = await this.fetch(req.uri!);
        const result = await ingest(images.store, dflt, r.id, body, { sizeCap: images.config.sizeCap, diskFormat: r.disk_format, containerFormat: r.container_format, imageId: r.id });
        got = result;
        first = { store: dflt.policy, bucket: dflt.name, key: r.id, etag: result.info.etag };
      }
    } catch (err) {
      await this.fail(r.id, req.stores, err);
      return;
    }
    const locations: ImageLocation[] = [];
    const failed: string[] = [];
    if (req.stores.includes(first.store)) locations.push(first);
    for (const store of req.stores) {
      if (store === first.store) continue;
      try {
        locations.push(await this.copy(r.id, first, store, r));
      } catch (err) {
        images.log(`images: copying ${r.id} to store ${store} failed: ${(err as Error).message}`);
        failed.push(store);
      }
    }
    if (locations.length === 0 || (req.allStoresMustSucceed && failed.length > 0)) {
      for (const l of locations) if (l !== first) await images.deleteData(l.bucket, l.key);
      await images.deleteData(first.bucket, first.key);
      await this.fail(r.id, req.stores, new Error(`stores failed: ${failed.join(', ')}`));
      return;
    }
    if (!req.stores.includes(first.store)) await images.deleteData(first.bucket, first.key);
    await this.data.finishData(r.id, 'importing', (cur) => {
      recordData(cur, got, locations[0]);
      cur.locations = locations;
      delete cur.staged;
      delete cur.properties.os_glance_importing_to_stores;
      delete cur.properties.os_glance_import_task;
      cur.properties.os_glance_failed_import = failed.join(',');
    }, first);
  }

  /** An import that got no data: back to queued, with the stores it tried listed as failed. */
  private async fail(id: string, stores: string[], err: unknown): Promise<void> {
    this.images.log(`images: import of ${id} failed: ${(err as Error)?.message ?? err}`);
    await this.images
      .mutate(undefined, id, (cur) => {
        if (cur.status === 'importing') moveStatus(cur, 'queued');
        if (cur.staged) void this.images.deleteData(cur.staged.bucket, cur.staged.key);
        delete cur.staged;
        delete cur.properties.os_glance_importing_to_stores;
        delete cur.properties.os_glance_import_task;
        cur.properties.os_glance_failed_import = stores.join(',');
      })
      .catch(() => undefined);
  }

  /** Copies the data at `from` into `store`'s bucket; checks it arrived with the image's checksum. */
  private async copy(id: string, from: ImageLocation, store: string, r: ImageRecord): Promise<ImageLocation> {
    const { images } = this;
    const src = await images.store.getBucket(from.bucket);
    const got = src && (await images.store.getObject(src, from.key, { newest: true }));
    if (!got) throw new Error(`source ${from.bucket}/${from.key} is missing`);
    const target = await images.stores.bucketOf(store);
    const copied = await ingest(images.store, target, id, got.body, { sizeCap: images.config.sizeCap, diskFormat: r.disk_format, containerFormat: r.container_format, imageId: id });
    if (copied.checksum !== got.info.etag && copied.checksum !== r.checksum && r.checksum !== null) {
      await images.deleteData(target.name, id);
      throw new Error('the copy does not have the image checksum');
    }
    return { store, bucket: target.name, key: id, etag: copied.info.etag };
  }

  private async copyToStores(r: ImageRecord, req: ImportRequest): Promise<void> {
    const { images } = this;
    const source = r.locations[0];
    const added: ImageLocation[] = [];
    const failed: string[] = [];
    for (const store of req.stores) {
      try {
        added.push(await this.copy(r.id, source, store, r));
      } catch (err) {
        images.log(`images: copy-image of ${r.id} to ${store} failed: ${(err as Error).message}`);
        failed.push(store);
      }
    }
    await images
      .mutate(undefined, r.id, (cur) => {
        const have = new Set(cur.locations.map((l) => l.store));
        cur.locations.push(...added.filter((l) => !have.has(l.store)));
        delete cur.properties.os_glance_importing_to_stores;
        delete cur.properties.os_glance_import_task;
        cur.properties.os_glance_failed_import = failed.join(',');
      })
      .catch(async (err) => {
        for (const l of added) await images.deleteData(l.bucket, l.key);
        throw err;
      });
  }

  /** GETs `uri`, following a few redirects (each checked like the first). */
  private fetch(uri: string, hops = 0): Promise<Readable> {
    const url = this.checkUri(uri);
    const get = url.protocol === 'https:' ? https.get : http.get;
    return new Promise((resolve, reject) => {
      const req = get(url, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && hops < MAX_REDIRECTS) {
          res.resume();
          resolve(this.fetch(new URL(res.headers.location, url).toString(), hops + 1));
        } else if (status !== 200) {
          res.resume();
          reject(new Error(`GET ${uri} answered ${status}`));
        } else resolve(res);
      });
      req.on('error', reject);
      req.setTimeout(60_000, () => req.destroy(new Error(`GET ${uri} timed out`)));
    });
  }
}
