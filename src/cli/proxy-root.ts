/**
 * The proxy's composition root: builds the rings, node client, policies, ObjectStore and the S3 app from a
 * ProxyConfig, and serves it. Used by `arca proxy` and by the in-process test cluster.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArcaError } from '../common/errors.js';
import type { ProxyConfig } from '../common/config.js';
import { type IdentityProvider, rootAccount, StaticIdentity } from '../common/identity.js';
import { RingSet } from '../common/ring-files.js';
import { TimestampSource } from '../common/timestamp.js';
import { ClusterStore } from '../proxy/cluster-store.js';
import { ListingClient } from '../proxy/listings.js';
import { NodeClient } from '../proxy/node-client.js';
import type { ObjectStore } from '../proxy/object-store.js';
import { PolicyRegistry } from '../proxy/policies/registry.js';
import { createS3App } from '../s3/app.js';

export interface RunningProxy {
  port: number;
  store: ObjectStore;
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

export async function startProxy(config: ProxyConfig, opts: { log?: (line: string) => void; identity?: IdentityProvider } = {}): Promise<RunningProxy> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rings = new RingSet(config.ringDir, config.policies.map((p) => p.index));
  const client = new NodeClient({ connTimeoutMs: config.connTimeoutMs, nodeTimeoutMs: config.nodeTimeoutMs });
  const policies = new PolicyRegistry(config.policies, rings, client);
  const store = new ClusterStore({
    listings: new ListingClient(rings, client),
    policies,
    defaultPolicy: config.defaultPolicy,
    timestamps: new TimestampSource(),
    bucketCacheTtlMs: config.bucketCacheTtlMs,
  });
  const identity =
    opts.identity ??
    new StaticIdentity([{ accessKeyId: config.rootAccessKey, secretKey: config.rootSecretKey, user: 'root', account: rootAccount, isRoot: true }]);
  const app = createS3App({ store, identity, region: config.region, virtualHostDomains: config.virtualHostDomains, log });
  const server = http.createServer(app.callback());
  // Uploads of many GiB may take long; idle connections still time out.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 60_000;
  const port = await listen(server, config.port, config.bindIp);
  // Pick up ring changes without a restart.
  const ringTimer = setInterval(() => {
    try {
      if (rings.reloadIfChanged()) log('rings reloaded');
    } catch (err) {
      log(`ring reload failed: ${(err as Error).message}`);
    }
  }, 5_000);
  ringTimer.unref();
  return {
    port,
    store,
    close: async () => {
      clearInterval(ringTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      client.close();
    },
  };
}
