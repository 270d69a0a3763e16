/**
 * The image service put together from an ObjectStore, an IdentityProvider and the proxy's `images` config:
 * records in the system bucket, data in the store buckets, tokens, and the Glance app. The proxy's composition
 * root serves `app` on the Glance port.
 */
import type Koa from 'koa';
import type { ImagesConfig } from '../common/config.js';
import type { IdentityProvider } from '../common/identity.js';
import type { ObjectStore } from '../proxy/object-store.js';
import { createGlanceApp } from './app.js';
import { BlockCache } from './block-cache.js';
import { ImageData } from './data.js';
import { ImageImports } from './imports.js';
import { ImageRepo } from './repo.js';
import { ImageService } from './service.js';
import { ImageStores } from './stores.js';
import { TokenService } from './tokens.js';

/** The system bucket of image records and tokens (a leading dot: no S3 client can name it). */
export const imagesSystemBucket = '.images';

export interface ImageApiOptions {
  store: ObjectStore;
  identity: IdentityProvider;
  config: ImagesConfig;
  /** Every storage policy of the cluster (the Glance stores). */
  policies: readonly string[];
  /** Policy of the system bucket (small records: the cluster default, typically replicated). */
  recordsPolicy: string;
  log: (line: string) => void;
}

export interface ImageApi {
  app: Koa;
  service: ImageService;
  tokens: TokenService;
  /** Waits for background imports. */
  idle(): Promise<void>;
}

export function createImageApi(o: ImageApiOptions): ImageApi {
  const repo = new ImageRepo(o.store, imagesSystemBucket, o.recordsPolicy);
  const stores = new ImageStores(o.store, { bucket: o.config.bucket, defaultPolicy: o.config.policy, policies: o.policies });
  const service = new ImageService(o.store, repo, stores, { sizeCap: o.config.sizeCap, webDownloadPorts: o.config.webDownloadPorts, recordCacheMs: o.config.cacheMs }, o.log);
  const data = new ImageData(service, new BlockCache({ maxBytes: o.config.blockCacheBytes, headBytes: 4 * 1024 * 1024, smallReadBytes: 256 * 1024 }));
  const imports = new ImageImports(service, data);
  const tokens = new TokenService(repo, o.identity, { maxTtlSec: o.config.maxTokenTtlSec, cacheTtlMs: o.config.cacheMs });
  const app = createGlanceApp({ images: service, data, imports, tokens, identity: o.identity, log: o.log });
  return { app, service, tokens, idle: () => imports.idle() };
}
