/**
 * The node's recon endpoint (Swift's recon middleware): `GET /recon/status` reports the devices — df,
 * partitions held and those out of place under the current rings, async pendings, quarantined files — and the
 * last pass of each worker; `POST /recon/run?worker=NAME` runs a pass now when the config allows it. Shapes in
 * src/common/wire.ts; what the numbers mean in docs/status.md. Everything is read when asked: nothing here
 * runs in the background.
 */
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { PolicyConfig } from '../src/common/config.js';
import { type ReconAwaiting, type ReconDevice, type ReconPartitions, type ReconStatus, type ReconWorkerName, reconWorkerNames } from '../src/common/wire.js';
import type { FsDiskFiles } from './fs-disk-file.js';
import type { FsPartitions } from './fs-partitions.js';
import { BadRequestError, send, sendJson } from './http-util.js';
import type { ListingStore } from './listing-store.js';
import type { LocalDevices, NodeRing, NodeRings } from './node-rings.js';
import type { PassRecorder } from './pass-recorder.js';

export interface ReconDeps {
  ip: string;
  port: number;
  devices: readonly string[];
  policies: readonly PolicyConfig[];
  files: FsDiskFiles;
  partitions: FsPartitions;
  listings: Pick<ListingStore, 'partitions' | 'listingsIn'>;
  rings: NodeRings;
  self: LocalDevices;
  recorder: PassRecorder;
  /** Serve `POST /recon/run` (NodeConfig.reconRun). */
  runEnabled: boolean;
  startedAt: Date;
  log: (line: string) => void;
}

/** Listings looked at per request when finding which rings a listing partition belongs to. */
const listingsPerPage = 256;

export class ReconServer {
  constructor(private readonly deps: ReconDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, what: 'status' | 'run', query: URLSearchParams): Promise<void> {
    if (what === 'status') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { allow: 'GET, HEAD' });
      return sendJson(res, 200, await this.status());
    }
    if (!this.deps.runEnabled) return send(res, 404, { 'content-type': 'text/plain' }, 'recon runs are off (reconRun in the node config)\n');
    if (req.method !== 'POST') return send(res, 405, { allow: 'POST' });
    // A pass may run for minutes with nothing on the wire: the server's idle timeout must not cut it.
    req.socket.setTimeout(0);
    const name = query.get('worker') ?? '';
    if (!(reconWorkerNames as readonly string[]).includes(name)) throw new BadRequestError(`worker must be one of ${reconWorkerNames.join(', ')}`);
    sendJson(res, 200, await this.deps.recorder.run(name as ReconWorkerName));
  }

  /** The node's status, read now. */
  async status(): Promise<ReconStatus> {
    try {
      this.deps.rings.reloadIfChanged();
    } catch (err) {
      this.deps.log(`recon: ring reload failed: ${(err as Error).message}`);
    }
    return {
      ip: this.deps.ip,
      port: this.deps.port,
      startedAt: this.deps.startedAt.toISOString(),
      time: new Date().toISOString(),
      devices: await Promise.all(this.deps.devices.map((d) => this.#device(d))),
      workers: this.deps.recorder.workers(),
      awaiting: this.#awaiting(),
    };
  }

  async #device(device: string): Promise<ReconDevice> {
    const path = this.deps.files.devicePath(device);
    const out: ReconDevice = { device, mounted: await exists(join(path, 'tmp')), partitions: [], asyncPending: 0, quarantined: 0 };
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    if (out.mounted) {
      await attempt('statfs', async () => {
        out.filesystem = (await fs.promises.stat(path)).dev;
        const st = await fs.promises.statfs(path);
        out.size = st.blocks * st.bsize;
        out.avail = st.bavail * st.bsize;
        out.used = (st.blocks - st.bfree) * st.bsize;
      });
    }
    for (const policy of this.deps.policies) {
      await attempt(`policy ${policy.index}`, async () => {
        const ring = this.deps.rings.object(policy.index);
        const held = await this.deps.partitions.partitions(device, policy.index);
        out.partitions.push({ ring: `object-${policy.index}`, held: held.length, outOfPlace: held.filter((p) => !this.#isPrimary(ring, p, device)).length });
      });
    }
    if (out.mounted) await attempt('listings', async () => void out.partitions.push(await this.#listingPartitions(device)));
    await attempt('async pending', async () => {
      out.asyncPending = (await readdirOrEmpty(join(path, 'async_pending'))).length;
    });
    await attempt('quarantined', async () => {
      out.quarantined = await countQuarantined(join(path, 'quarantined'));
    });
    if (problems.length > 0) out.error = problems.join('; ');
    return out;
  }

  /** Listing partitions held, and those the device is a primary of in none of the rings of their listings. */
  async #listingPartitions(device: string): Promise<ReconPartitions> {
    const held = await this.deps.listings.partitions(device);
    let outOfPlace = 0;
    for (const partition of held) {
      // A partition holds account listings (account ring) and container listings (container ring).
      const kinds = { account: false, container: false };
      let after: Parameters<ListingStore['listingsIn']>[3];
      for (;;) {
        const refs = await this.deps.listings.listingsIn(device, partition, listingsPerPage, after);
        for (const r of refs) kinds[r.bucket === undefined ? 'account' : 'container'] = true;
        if (refs.length < listingsPerPage || (kinds.account && kinds.container)) break;
        after = refs[refs.length - 1];
      }
      const misplaced = (['account', 'container'] as const).some((k) => kinds[k] && !this.#isPrimary(this.deps.rings[k], partition, device));
      if (misplaced) outOfPlace++;
    }
    return { ring: 'listings', held: held.length, outOfPlace };
  }

  #isPrimary(ring: NodeRing, partition: number, device: string): boolean {
    return partition < ring.partitionCount && ring.primaries(partition).some((d) => this.deps.self.is(d, device));
  }

  /** What the last passes of the repair workers found out of sync (see ReconAwaiting). */
  #awaiting(): ReconAwaiting {
    const stats = (name: ReconWorkerName) => this.deps.recorder.last(name)?.stats ?? {};
    const sum = (s: Record<string, number>, keys: string[]) => keys.reduce((n, k) => n + (s[k] ?? 0), 0);
    const replicator = stats('replicator');
    const reconstructor = stats('reconstructor');
    const listings = stats('listingReplicator');
    return {
      objects:
        sum(replicator, ['dataPushed', 'tombstonesPushed', 'metasPushed', 'reverted']) +
        sum(reconstructor, ['rebuilt', 'madeDurable', 'tombstonesPulled', 'reverted', 'tombstonesPushed', 'metasPushed']),
      listingRows: sum(listings, ['rowsPushed']),
      failedRequests: sum(replicator, ['failures']) + sum(reconstructor, ['failures']) + sum(listings, ['failures']),
    };
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.promises.access(path);
    return true;
  } catch {
    return false;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Files under `quarantined/objects[-N]/<hash>[-n]/`. */
async function countQuarantined(dir: string): Promise<number> {
  let n = 0;
  for (const objects of await readdirOrEmpty(dir)) {
    for (const hash of await readdirOrEmpty(join(dir, objects))) n += (await readdirOrEmpty(join(dir, objects, hash))).length;
  }
  return n;
}
