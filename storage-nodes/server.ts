/**
 * The storage node's composition root: checks the devices, opens the listing databases, builds the object
 * and listing servers and the background workers, and serves them on one keep-alive HTTP port with a small
 * router over `parseBackendPath`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultErrorSuppression, type NodeConfig, type PolicyConfig, parsePolicyName } from '../src/common/config.js';
import { ArcaError } from '../src/common/errors.js';
import { ErrorLimiter } from '../src/common/error-limiter.js';
import { FrameClient } from '../src/common/frames.js';
import { parseBackendPath } from '../src/common/wire.js';
import { AsyncPendingQueue } from './async-pending.js';
import { ObjectAuditor } from './auditor.js';
import { DeviceMonitor } from './device-monitor.js';
import { DeviceUnavailableError } from './disk-file.js';
import { FrameServer } from './frame-server.js';
import { FsDiskFiles } from './fs-disk-file.js';
import { FsPartitions } from './fs-partitions.js';
import { send, statusOfError } from './http-util.js';
import { LevelListingStore } from './level-listing-store.js';
import { IdleCollector } from './idle-collector.js';
import { ListingServer } from './listing-server.js';
import type { ListingStore } from './listing-store.js';
import { ListingReplicator } from './listing-replicator.js';
import { ListingUpdateClient } from './listing-updates.js';
import { LocalDevices, type NodeRings } from './node-rings.js';
import { ObjectServer } from './object-server.js';
import { PassRecorder } from './pass-recorder.js';
import { ReconServer } from './recon.js';
import { ReplicationClient } from './replication-client.js';
import { ReplicationServer } from './replication-server.js';
import { ObjectReconstructor } from './reconstructor.js';
import { ObjectReplicator } from './replicator.js';
import { RingDirectory } from './ring-files.js';
import { ObjectUpdater } from './updater.js';
import { WorkerLoop } from './worker-loop.js';
import { WriteActivity } from './pacer.js';
import { ExpiryQueue, ObjectExpirer } from './expirer.js';

/** A running storage node. */
export interface StorageNode {
  /** The port it listens on (the configured one, or the one picked for port 0). */
  port: number;
  /** Stops the workers and the server, closes connections and the listing databases. */
  close(): Promise<void>;
  /** The background workers, for tests (and the proxy's test harness) to run a pass directly. */
  workers: {
    updater: ObjectUpdater;
    replicator: ObjectReplicator;
    reconstructor: ObjectReconstructor;
    listingReplicator: ListingReplicator;
    auditor: ObjectAuditor;
    deviceMonitor: DeviceMonitor;
    expirer: ObjectExpirer;
  };
  /** The node's recon report (what `GET /recon/status` answers). */
  recon: ReconServer;
  /** The listing databases (tests and tools inspect them directly). */
  listings: ListingStore;
  /** The object files. */
  files: FsDiskFiles;
  /** The object files by partition, suffix and hash dir (replication, audit). */
  partitions: FsPartitions;
}

export interface StorageNodeOptions {
  /** Where log lines go (stderr by default). */
  log?: (line: string) => void;
  /** The rings the workers use (default: the ring files of `config.ringDir`, reloaded when they change). */
  rings?: NodeRings;
}

/**
 * Starts a storage node for `config`. Fails with ArcaError `InvalidConfig` naming the path when a device
 * directory is missing or unwritable, and naming the port when it is in use.
 */
export async function startStorageNode(config: NodeConfig, opts: StorageNodeOptions = {}): Promise<StorageNode> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = new Date();
  const files = new FsDiskFiles({
    devicesDir: config.devicesDir,
    devices: config.devices,
    fsync: config.fsync,
    journal: config.writes?.journal,
    writeBufferBudgetBytes: config.writes?.bufferBudgetBytes,
    syncBehindBytes: config.writes?.syncBehindBytes,
    readPastCacheBytes: config.writes?.readPastCacheBytes,
    writeQueueOptions: config.writes && {
      workers: config.writes.workers,
      onWorker: config.writes.onWorker,
      maxInFlight: config.writes.maxInFlight,
      journal: { maxAgeMs: config.writes.journalCheckpointMs },
    },
  });
  try {
    for (const device of config.devices) {
      await files.prepareDevice(device);
      const replay = await files.replayJournal(device);
      if (replay.segments > 0) log(`device ${device}: write journal replayed: ${replay.records} records in ${replay.segments} segments, ${replay.restored} files written again`);
    }
  } catch (err) {
    throw startupError(err);
  }
  let listings: LevelListingStore;
  try {
    listings = await LevelListingStore.open({ devicesDir: config.devicesDir, devices: config.devices, fsync: config.fsync });
  } catch (err) {
    throw startupError(err);
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32, scheduling: 'lifo' });
  // Listing updates go framed to peers that take frames, like the proxy's small requests.
  const frameClients = [config.nodeTimeoutMs, config.listingUpdateTimeoutMs].map((ms) => new FrameClient({ connTimeoutMs: Math.min(ms, 2000), nodeTimeoutMs: ms }));
  // One error limiter for both: a listing replica that hangs does so for writes and the updater alike.
  const limit = config.errorSuppressionLimit ?? defaultErrorSuppression.limit;
  const intervalSec = config.errorSuppressionIntervalSec ?? defaultErrorSuppression.intervalSec;
  const limiter = limit > 0 ? new ErrorLimiter({ limit, intervalMs: intervalSec * 1000 }) : undefined;
  const listingClient = new ListingUpdateClient(agent, config.nodeTimeoutMs, frameClients[0], limiter);
  const inlineListingClient = new ListingUpdateClient(agent, config.listingUpdateTimeoutMs, frameClients[1], limiter);
  const queue = new AsyncPendingQueue({ devicesDir: config.devicesDir, fsync: config.fsync });
  const expiring = new ExpiryQueue({ devicesDir: config.devicesDir, fsync: config.fsync });
  /** This node's devices as the rings name them (known once it listens). */
  let local: LocalDevices | undefined;
  const writeActivity = new WriteActivity();
  const objectServer = new ObjectServer({
    files,
    onClientWrite: () => writeActivity.touch(),
    // A listing replica on this node takes the rows without a request (docs/storage-nodes.md, "Listing
    // updates, batched per replica"); the proxy pairs each object replica with a listing replica on the same
    // node where it can.
    sendRows: (target, account, bucket, rows) =>
      local?.isLocal(target)
        ? listingServer.mergeLocal({ device: target.device, partition: target.partition, account, bucket }, rows)
        : inlineListingClient.sendRows(target, account, bucket, rows),
    queueUpdate: (device, record) => queue.add(device, record),
    queueExpiry: (device, record) => expiring.add(device, record),
    policies: new Set(config.policies.map((p) => p.index)),
    ecPolicies: ecPoliciesOf(config.policies),
    log,
  });
  const listingServer = new ListingServer(listings, { reclaimAgeSec: config.reclaimAgeSec });
  const partitions = new FsPartitions(files);
  const policies = new Set(config.policies.map((p) => p.index));
  const replicationServer = new ReplicationServer({ partitions, listings, policies });
  const updater = new ObjectUpdater({ devices: config.devices, queue, client: listingClient, log });

  let recon: ReconServer | undefined;
  // Off by default: then no request carries a listener for it.
  const idleCollector = config.idleCollectMs ? new IdleCollector({ idleMs: config.idleCollectMs, minGrowthBytes: 16 * 1024 * 1024 }) : undefined;
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    idleCollector?.track(res);
    void route(req, res);
  };
  const server = http.createServer({ keepAlive: true, requestTimeout: 0, maxHeaderSize: 64 * 1024 }, serve);
  // The proxy's small requests come framed, many to a connection (frame-server.ts); the rest as HTTP.
  const frames = new FrameServer(serve);
  server.on('upgrade', (req, socket, head) => frames.upgrade(req, socket, head));
  // Longer than clients keep idle sockets, so a client never sends on a socket the node is closing.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 60_000;
  // A peer silent this long mid-request (a proxy that vanished without a FIN) loses its socket, which
  // aborts its upload and frees the tmp file (Swift's client_timeout).
  server.timeout = Math.max(60_000, config.nodeTimeoutMs * 3);

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Errors after the reply (a client resetting its socket) must not reach the process.
    req.on('error', () => {});
    res.on('error', () => {});
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = parseBackendPath(q < 0 ? url : url.slice(0, q));
    try {
      switch (path?.kind) {
        case 'object':
          await objectServer.handle(req, res, path);
          break;
        case 'listing':
          await listingServer.handle(req, res, path, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
          break;
        case 'partition':
        case 'device':
          await replicationServer.handle(req, res, path, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
          break;
        case 'healthcheck':
          send(res, 200, { 'content-type': 'text/plain' }, 'OK');
          break;
        case 'recon':
          if (!recon) send(res, 503, { 'content-type': 'text/plain' }, 'starting\n');
          else await recon.handle(req, res, path.what, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
          break;
        case undefined:
          send(res, 404, { 'content-type': 'text/plain' }, 'not a backend path\n');
          break;
        default: {
          const unreachable: never = path;
          throw new Error(`unrouted ${JSON.stringify(unreachable)}`);
        }
      }
    } catch (err) {
      const status = statusOfError(err);
      if (status === 500) log(`${req.method} ${url}: ${(err as Error).stack ?? err}`);
      else if (status === 507) log(`${req.method} ${url}: ${(err as Error).message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A body we did not read would be parsed as the next request: close the connection instead.
      const headers = req.complete ? {} : { connection: 'close' };
      send(res, status, { ...headers, 'content-type': 'text/plain' }, status === 500 ? 'internal error\n' : `${(err as Error).message}\n`);
    }
  }

  try {
    await listen(server, config.port, config.bindIp);
  } catch (err) {
    agent.destroy();
    for (const c of frameClients) c.close();
    await listings.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  // The workers know this node in the rings by the port it really listens on.
  const rings = opts.rings ?? new RingDirectory(config.ringDir, config.policies.map((p) => p.index));
  const self = new LocalDevices(config.bindIp, port, config.devices);
  local = self;
  const replicationClient = new ReplicationClient(agent, config.nodeTimeoutMs);
  const w = config.workers;
  // The replicators' passes wait for a moment without client writes, and yield to them between partitions
  // (worker-loop.ts, pacer.ts).
  const quiet = { activity: writeActivity, quietMs: w.replicatorQuietMs, maxWaitMs: w.replicatorMaxWaitSec * 1000 };
  const pacing = { maxPartitionsPerSec: w.replicatorMaxPartitionsPerSec, tranquility: w.replicatorTranquility, quiet };
  const replicator = new ObjectReplicator({
    devices: config.devices,
    policies: config.policies,
    partitions,
    rings,
    self,
    client: replicationClient,
    reclaimAgeSec: config.reclaimAgeSec,
    fullPassIntervalMs: w.replicatorFullPassIntervalSec * 1000,
    ...pacing,
    log,
  });
  const reconstructor = new ObjectReconstructor({
    devices: config.devices,
    policies: config.policies,
    files,
    partitions,
    rings,
    self,
    client: replicationClient,
    reclaimAgeSec: config.reclaimAgeSec,
    fullPassIntervalMs: w.replicatorFullPassIntervalSec * 1000,
    ...pacing,
    log,
  });
  const listingReplicator = new ListingReplicator({ devices: config.devices, listings, rings, self, client: replicationClient, reclaimAgeSec: config.reclaimAgeSec, ...pacing, log });
  const auditor = new ObjectAuditor({ devices: config.devices, partitions, bytesPerSec: w.auditorBytesPerSec, hashDirsPerSec: w.auditorHashDirsPerSec, log });
  const deviceMonitor = new DeviceMonitor({ devices: config.devices, files, listings, partitions, log });
  const expirer = new ObjectExpirer({
    devices: config.devices,
    files,
    queue: expiring,
    sendRows: (target, account, bucket, rows) => listingClient.sendRows(target, account, bucket, rows),
    queueUpdate: (device, record) => queue.add(device, record),
    log,
  });
  // Every pass is recorded for recon (and each worker's passes run one at a time, loop or /recon/run).
  const recorder = new PassRecorder({ devicesDir: config.devicesDir, devices: config.devices, log });
  const loops = [
    new WorkerLoop('updater', recorder.wrap('updater', updater, w.updaterIntervalSec), w.updaterIntervalSec * 1000, log),
    new WorkerLoop('replicator', recorder.wrap('replicator', replicator, w.replicatorIntervalSec), w.replicatorIntervalSec * 1000, log, quiet),
    new WorkerLoop('reconstructor', recorder.wrap('reconstructor', reconstructor, w.reconstructorIntervalSec), w.reconstructorIntervalSec * 1000, log, quiet),
    new WorkerLoop(
      'listing replicator',
      recorder.wrap('listingReplicator', listingReplicator, w.listingReplicatorIntervalSec),
      w.listingReplicatorIntervalSec * 1000,
      log,
      quiet,
    ),
    new WorkerLoop('auditor', recorder.wrap('auditor', auditor, w.auditorIntervalSec), w.auditorIntervalSec * 1000, log),
    new WorkerLoop('device monitor', recorder.wrap('deviceMonitor', deviceMonitor, w.deviceCheckIntervalSec), w.deviceCheckIntervalSec * 1000, log),
    new WorkerLoop('expirer', recorder.wrap('expirer', expirer, w.expirerIntervalSec), w.expirerIntervalSec * 1000, log),
  ];
  await recorder.load();
  recon = new ReconServer({
    ip: config.bindIp,
    port,
    devices: config.devices,
    policies: config.policies,
    files,
    partitions,
    listings,
    rings,
    self,
    recorder,
    runEnabled: config.reconRun === true,
    startedAt,
    log,
  });
  for (const loop of loops) loop.start();
  idleCollector?.start();

  let closing: Promise<void> | undefined;
  return {
    port,
    workers: { updater, replicator, reconstructor, listingReplicator, auditor, deviceMonitor, expirer },
    recon,
    listings,
    files,
    partitions,
    close: () =>
      (closing ??= (async () => {
        idleCollector?.stop();
        await Promise.all(loops.map((loop) => loop.stop()));
        await recorder.flush();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          frames.close();
          // Requests still streaming get a moment to finish, then their connections go too.
          setTimeout(() => {
            server.closeAllConnections();
            frames.destroy();
          }, 2000).unref();
        });
        agent.destroy();
        for (const c of frameClients) c.close();
        await listings.close();
      })()),
  };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'port in use' : err.code === 'EADDRNOTAVAIL' ? 'address not available' : err.message;
      reject(new ArcaError('InvalidConfig', `cannot listen on ${host}:${port}: ${why}`, { port, host }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The erasure-coded policies of a node's config, by index, with their k and m. */
function ecPoliciesOf(policies: readonly PolicyConfig[]): Map<number, { k: number; m: number }> {
  const out = new Map<number, { k: number; m: number }>();
  for (const p of policies) {
    const parsed = parsePolicyName(p.name);
    if (parsed?.kind === 'ec') out.set(p.index, { k: parsed.k, m: parsed.m });
  }
  return out;
}

function startupError(err: unknown): Error {
  if (err instanceof DeviceUnavailableError) {
    return new ArcaError('InvalidConfig', err.message, { device: err.device, path: err.path });
  }
  return err as Error;
}
