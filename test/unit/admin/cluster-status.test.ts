/**
 * The admin API's cluster status: every node named in the rings asked once, totals summed (a file system
 * shared by devices of one host counted once), partitions out of place per ring, an unreachable node listed
 * with its error, reports of other parts of the proxy included (a failing one reports its error).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { ClusterStatusReader, type StatusRing } from '../../../src/admin/cluster-status.js';
import type { ReconStatus } from '../../../src/common/wire.js';
import { freePorts } from '../../helpers/cluster.js';

function recon(port: number, devices: ReconStatus['devices'], awaitingObjects: number): ReconStatus {
  return {
    ip: '127.0.0.1',
    port,
    startedAt: new Date(0).toISOString(),
    time: new Date().toISOString(),
    devices,
    workers: [{ name: 'replicator', intervalSec: 30, last: { start: new Date().toISOString(), durationMs: 5, stats: { dataPushed: awaitingObjects } } }],
    awaiting: { objects: awaitingObjects, listingRows: 1, failedRequests: 0 },
  };
}

const dev = (device: string, filesystem: number, outOfPlace: number, listings = 0) => ({
  device,
  mounted: true,
  filesystem,
  size: 1000,
  used: 400,
  avail: 600,
  partitions: [
    { ring: 'object-0', held: 10, outOfPlace },
    { ring: 'listings', held: 5, outOfPlace: listings },
  ],
  asyncPending: 2,
  quarantined: 1,
});

test('status: nodes from the rings, totals, out of place per ring, an unreachable node, proxy reports', async (t) => {
  const servers: http.Server[] = [];
  const ports: number[] = [];
  let asked = 0;
  for (let i = 0; i < 2; i++) {
    const server = http.createServer((req, res) => {
      asked++;
      const port = (server.address() as AddressInfo).port;
      const body = i === 0 ? recon(port, [dev('d1', 7, 3), dev('d1-2', 7, 1, 2)], 4) : recon(port, [dev('d2', 9, 0)], 0);
      res.writeHead(req.url === '/recon/status' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  const [closed] = await freePorts(1);
  const devices = [...ports, ports[0], closed].map((port) => ({ ip: '127.0.0.1', port }));
  const ring = (n: number): StatusRing => ({ devices, partitionCount: 64, replicaCount: n });
  const reader = new ClusterStatusReader({
    rings: { rings: () => [{ name: 'account', ring: ring(3) }, { name: 'container', ring: ring(3) }, { name: 'object-0', ring: ring(3) }] },
    timeoutMs: 1000,
    startedAt: new Date(),
    reports: { events: () => ({ pending: 5 }), broken: () => Promise.reject(new Error('no dispatcher')) },
  });
  try {
    const s = await reader.read();
    t.is(asked, 2, 'each node asked once, whatever its devices and rings');
    t.deepEqual(s.nodes.map((n) => [n.node, n.reachable]).sort(), [...ports.map((p) => [`127.0.0.1:${p}`, true]), [`127.0.0.1:${closed}`, false]].sort());
    t.regex(s.nodes.find((n) => !n.reachable)!.error!, /ECONNREFUSED/);
    t.like(s.totals, {
      nodes: 3,
      nodesUp: 2,
      devices: 3,
      devicesMounted: 3,
      size: 2000,
      used: 800,
      avail: 1200,
      partitionsOutOfPlace: 6,
      awaiting: { objects: 4, listingRows: 2, failedRequests: 0 },
      asyncPending: 6,
      quarantined: 3,
    });
    t.deepEqual(s.proxy.rings.map((r) => [r.name, r.outOfPlace]), [['account', 2], ['container', 2], ['object-0', 4]]);
    t.deepEqual(s.proxy.reports, { events: { pending: 5 }, broken: { error: 'no dispatcher' } });
  } finally {
    reader.close();
    for (const s of servers) s.close();
  }
});
