/**
 * The cluster's status for `GET /_arca/admin/v1/status` (and `arca status`): every storage node named in the
 * proxy's rings is asked for its recon report (`GET /recon/status`, src/common/wire.ts) in parallel, each
 * with a timeout, and the answers are summed into cluster totals beside the proxy's own view (its rings, and
 * whatever other parts of the proxy report, such as the event delivery lag of the hooks). A node that does not
 * answer is listed as unreachable; the status is still answered.
 */
import http from 'node:http';
import type { RingSet } from '../common/ring-files.js';
import type { ReconAwaiting, ReconStatus } from '../common/wire.js';

/** What the status needs of a ring. */
export interface StatusRing {
  readonly devices: ReadonlyArray<{ ip: string; port: number }>;
  readonly partitionCount: number;
  readonly replicaCount: number;
}

/** The rings of the proxy, by name (`account`, `container`, `object-N`). */
export interface StatusRings {
  rings(): Array<{ name: string; ring: StatusRing }>;
}

/** The rings of a RingSet serving `policyIndexes`, as the status names them. */
export function ringSetRings(set: RingSet, policyIndexes: readonly number[]): StatusRings {
  return {
    rings: () => [
      { name: 'account', ring: set.account },
      { name: 'container', ring: set.container },
      ...policyIndexes.map((i) => ({ name: `object-${i}`, ring: set.object(i) })),
    ],
  };
}

/** One storage node: its recon report, or why there is none. */
export interface NodeStatus {
  /** `ip:port` as the rings name it. */
  node: string;
  reachable: boolean;
  error?: string;
  status?: ReconStatus;
}

/** A ring as the proxy has it, with the partitions the nodes hold out of place under their copy of it. */
export interface RingStatus {
  name: string;
  partitions: number;
  replicas: number;
  devices: number;
  outOfPlace: number;
}

export interface ClusterStatus {
  time: string;
  proxy: {
    startedAt: string;
    rings: RingStatus[];
    /** Reports of other parts of the proxy (e.g. `events`: hook delivery lag), by name. */
    reports: Record<string, unknown>;
  };
  nodes: NodeStatus[];
  totals: {
    nodes: number;
    nodesUp: number;
    devices: number;
    devicesMounted: number;
    /** Bytes over the file systems of the devices that answered (one shared by devices of a host counts once). */
    size: number;
    used: number;
    avail: number;
    partitionsOutOfPlace: number;
    awaiting: ReconAwaiting;
    asyncPending: number;
    quarantined: number;
  };
}

export interface ClusterStatusDeps {
  rings: StatusRings;
  /** Milliseconds to wait for each node. */
  timeoutMs: number;
  startedAt: Date;
  /** Other parts of the proxy that report into the status (a failing one reports its error). */
  reports?: Record<string, () => unknown>;
}

/** Reads the cluster's status; one per proxy. */
export class ClusterStatusReader {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(private readonly deps: ClusterStatusDeps) {}

  async read(): Promise<ClusterStatus> {
    const rings = this.deps.rings.rings();
    const nodes = new Set<string>();
    for (const { ring } of rings) for (const d of ring.devices) nodes.add(hostPort(d.ip, d.port));
    const answers = await Promise.all([...nodes].sort().map((n) => this.#node(n)));
    const reports: Record<string, unknown> = {};
    for (const [name, report] of Object.entries(this.deps.reports ?? {})) {
      try {
        reports[name] = await report();
      } catch (err) {
        reports[name] = { error: (err as Error).message };
      }
    }
    const outOfPlace = new Map<string, number>();
    const totals: ClusterStatus['totals'] = {
      nodes: answers.length,
      nodesUp: 0,
      devices: 0,
      devicesMounted: 0,
      size: 0,
      used: 0,
      avail: 0,
      partitionsOutOfPlace: 0,
      awaiting: { objects: 0, listingRows: 0, failedRequests: 0 },
      asyncPending: 0,
      quarantined: 0,
    };
    const filesystems = new Set<string>();
    for (const a of answers) {
      if (!a.status) continue;
      totals.nodesUp++;
      totals.awaiting.objects += a.status.awaiting.objects;
      totals.awaiting.listingRows += a.status.awaiting.listingRows;
      totals.awaiting.failedRequests += a.status.awaiting.failedRequests;
      for (const d of a.status.devices) {
        totals.devices++;
        if (d.mounted) totals.devicesMounted++;
        const fsKey = d.filesystem === undefined ? `${a.node}/${d.device}` : `${a.node.slice(0, a.node.lastIndexOf(':'))}/${d.filesystem}`;
        if (!filesystems.has(fsKey)) {
          filesystems.add(fsKey);
          totals.size += d.size ?? 0;
          totals.used += d.used ?? 0;
          totals.avail += d.avail ?? 0;
        }
        totals.asyncPending += d.asyncPending;
        totals.quarantined += d.quarantined;
        for (const p of d.partitions) {
          totals.partitionsOutOfPlace += p.outOfPlace;
          outOfPlace.set(p.ring, (outOfPlace.get(p.ring) ?? 0) + p.outOfPlace);
        }
      }
    }
    return {
      time: new Date().toISOString(),
      proxy: {
        startedAt: this.deps.startedAt.toISOString(),
        rings: rings.map(({ name, ring }) => ({
          name,
          partitions: ring.partitionCount,
          replicas: ring.replicaCount,
          devices: ring.devices.length,
          // Listing partitions are reported for the account and container rings together.
          outOfPlace: outOfPlace.get(name.startsWith('object-') ? name : 'listings') ?? 0,
        })),
        reports,
      },
      nodes: answers,
      totals,
    };
  }

  close(): void {
    this.#agent.destroy();
  }

  #node(node: string): Promise<NodeStatus> {
    const [host, port] = splitHostPort(node);
    return new Promise((resolve) => {
      const fail = (error: string) => resolve({ node, reachable: false, error });
      const req = http.get({ host, port, path: '/recon/status', agent: this.#agent, timeout: this.deps.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(err.message));
        res.on('end', () => {
          if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
          try {
            resolve({ node, reachable: true, status: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReconStatus });
          } catch {
            fail('not a recon status');
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.deps.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message));
    });
  }
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function splitHostPort(node: string): [string, number] {
  const i = node.lastIndexOf(':');
  return [node.slice(0, i).replace(/^\[|\]$/g, ''), Number(node.slice(i + 1))];
}
