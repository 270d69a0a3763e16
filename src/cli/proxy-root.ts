/**
 * The proxy's composition root: builds the rings, node client, policies, ObjectStore and the S3 app from a
 * ProxyConfig, and serves it. Used by `arca proxy` and by the in-process test cluster.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useDigestThread } from '../common/checksums.js';
import { ArcaError } from '../common/errors.js';
import type { ProxyConfig } from '../common/config.js';
import { RingSet } from '../common/ring-files.js';
import { TimestampSource } from '../common/timestamp.js';
import { ClusterStore } from '../proxy/cluster-store.js';
import { ListingClient } from '../proxy/listings.js';
import { NodeClient } from '../proxy/node-client.js';
import type { ObjectStore } from '../proxy/object-store.js';
import { PolicyRegistry } from '../proxy/policies/registry.js';
import { createAdminApp, isAdminRequest } from '../admin/admin-app.js';
import { ClusterStatusReader, ringSetRings } from '../admin/cluster-status.js';
import { IdentityStore } from '../identity/identity-store.js';
import { ComputeService } from '../compute/service.js';
import { createS3App } from '../s3/app.js';
import { defaultOrphanGraceMs, MultipartJanitor } from '../s3/multipart-janitor.js';
import { LifecycleWorker } from '../s3/lifecycle-worker.js';
import { createImageApi, type ImageApi } from '../images/index.js';

export interface RunningProxy {
  port: number;
  store: ObjectStore;
  /** Users and access keys (on the ring), as the S3 and admin APIs see them. */
  identity: IdentityStore;
  /** Hooks and event delivery (tests run `compute.dispatcher.runOnce()` directly). */
  compute: ComputeService;
  /** The image API (Glance v2) and its port, when `glancePort` is configured. */
  glance?: { port: number; api: ImageApi };
  close(): Promise<void>;
}

/** Listens on `port` (0: any free port); a port in use is an error that names it. */
export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ArcaError('InvalidConfig', `cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}`)),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Event delivery summed over buckets: events not yet delivered, and the age of the oldest. */
function eventLag(buckets: Array<{ consumers: Array<{ pending?: number; oldestPendingAgeMs?: number }> }>): { buckets: number; pending: number; oldestPendingAgeMs: number } {
  const consumers = buckets.flatMap((b) => b.consumers);
  return {
    buckets: buckets.length,
    pending: consumers.reduce((n, c) => n + (c.pending ?? 0), 0),
    oldestPendingAgeMs: consumers.reduce((n, c) => Math.max(n, c.oldestPendingAgeMs ?? 0), 0),
  };
}

export async function startProxy(config: ProxyConfig, opts: { log?: (line: string) => void } = {}): Promise<RunningProxy> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  useDigestThread(config.hashOffThread);
  const rings = new RingSet(config.ringDir, config.policies.map((p) => p.index));
  const client = new NodeClient({ connTimeoutMs: config.connTimeoutMs, nodeTimeoutMs: config.nodeTimeoutMs, frames: config.nodeFrames });
  const policies = new PolicyRegistry(config.policies, rings, client, {
    ecSegmentSize: config.ecSegmentSize,
    readAffinity: config.readAffinity,
    errorLimit: { limit: config.errorSuppressionLimit, intervalMs: config.errorSuppressionIntervalSec * 1000 },
  });
  const store = new ClusterStore({
    listings: new ListingClient(rings, client),
    policies,
    defaultPolicy: config.defaultPolicy,
    timestamps: new TimestampSource(),
    bucketCacheTtlMs: config.bucketCacheTtlMs,
  });
  const identity = new IdentityStore({
    store,
    root: { accessKeyId: config.rootAccessKey, secretKey: config.rootSecretKey },
    keyMaterial: config.identityKey ?? config.rootSecretKey,
    cacheTtlMs: config.identityCacheTtlMs,
  });
  const compute = new ComputeService({ store, events: config.events, hooks: config.hooks, region: config.region, log });
  const s3 = createS3App({ store, identity, region: config.region, virtualHostDomains: config.virtualHostDomains, clientIdleTimeoutMs: config.clientIdleTimeoutMs, log, compute }).callback();
  const status = new ClusterStatusReader({
    rings: ringSetRings(rings, config.policies.map((p) => p.index)),
    timeoutMs: config.connTimeoutMs * 2,
    startedAt: new Date(),
    // How far event delivery (hooks, webhooks) lags behind the buckets' change logs, as this proxy sees it.
    reports: { events: async () => eventLag((await compute.status()).events) },
  });
  const admin = createAdminApp({ identity, status, compute, region: config.region, log }).callback();
  // The admin API shares the S3 port: its paths (`/_arca/…`) can never be an S3 bucket's.
  const server = http.createServer((req, res) =>
    isAdminRequest(req.url ?? '/', req.headers.host, config.virtualHostDomains) ? admin(req, res) : s3(req, res),
  );
  // Uploads of many GiB may take long; idle connections still time out.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 60_000;
  const port = await listen(server, config.port, config.bindIp);
  let glance: RunningProxy['glance'];
  let glanceServer: http.Server | undefined;
  if (config.glancePort !== undefined) {
    const api = createImageApi({ store, identity, config: config.images, policies: config.policies.map((p) => p.name), recordsPolicy: config.defaultPolicy, log });
    glanceServer = http.createServer({ keepAlive: true }, api.app.callback());
    glanceServer.requestTimeout = 0;
    glanceServer.keepAliveTimeout = 65_000;
    glanceServer.headersTimeout = 60_000;
    glance = { port: await listen(glanceServer, config.glancePort, config.bindIp), api };
  }
  // Incomplete multipart uploads past their age and parts without an upload, swept in the background.
  const janitor = new MultipartJanitor({ store, abortAfterMs: config.multipartAbortAfterSec * 1000, orphanGraceMs: defaultOrphanGraceMs, log });
  let janitorTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const sweep = async () => {
    try {
      await janitor.runOnce();
    } catch (err) {
      log(`multipart janitor failed: ${(err as Error).message}`);
    }
    if (!closed) janitorTimer = setTimeout(sweep, config.multipartJanitorIntervalSec * 1000).unref();
  };
  if (config.multipartJanitorIntervalSec > 0) janitorTimer = setTimeout(sweep, config.multipartJanitorIntervalSec * 1000).unref();
  // Lifecycle rules (expiration, noncurrent versions, aborted uploads, transitions), paced, in the background.
  const lifecycle = new LifecycleWorker({ store, opsPerSec: config.lifecycleOpsPerSec, log });
  let lifecycleTimer: NodeJS.Timeout | undefined;
  const lifecyclePass = async () => {
    try {
      await lifecycle.runOnce();
    } catch (err) {
      log(`lifecycle pass failed: ${(err as Error).message}`);
    }
    if (!closed) lifecycleTimer = setTimeout(lifecyclePass, config.lifecycleIntervalSec * 1000).unref();
  };
  if (config.lifecycleIntervalSec > 0) lifecycleTimer = setTimeout(lifecyclePass, config.lifecycleIntervalSec * 1000).unref();
  // Pick up ring changes without a restart.
  const ringTimer = setInterval(() => {
    try {
      if (rings.reloadIfChanged()) log('rings reloaded');
    } catch (err) {
      log(`ring reload failed: ${(err as Error).message}`);
    }
  }, 5_000);
  ringTimer.unref();
  compute.start();
  return {
    port,
    store,
    identity,
    compute,
    glance,
    close: async () => {
      await compute.close();
      clearInterval(ringTimer);
      closed = true;
      clearTimeout(janitorTimer);
      clearTimeout(lifecycleTimer);
      await Promise.all(
        [server, glanceServer].map(
          (s) =>
            s &&
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      client.close();
      status.close();
    },
  };
}
