import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { FrameClient } from '../../../src/common/frames.js';
import { FrameServer } from '../../../storage-nodes/frame-server.js';
import { ListingUpdateClient } from '../../../storage-nodes/listing-updates.js';
import type { ContainerUpdateTarget, ListingRow } from '../../../src/common/wire.js';

/**
 * A listing server stand-in: records each request's rows, answers after `delayMs` (never when null), over
 * HTTP or framed (a node's FrameServer).
 */
async function fakeListing(delayMs: number | null, status = 204) {
  const requests: { path: string; names: string[]; via: string }[] = [];
  const server = http.createServer((req, res) => handle(req, res, 'http'));
  const frames = new FrameServer((req, res) => handle(req, res, 'frames'));
  server.on('upgrade', (req, socket, head) => frames.upgrade(req, socket, head));
  const handle = (req: http.IncomingMessage, res: http.ServerResponse, via: string) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { rows: ListingRow[] };
      requests.push({ path: req.url ?? '', names: body.rows.map((r) => r.name), via });
      if (delayMs === null) return;
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const target: ContainerUpdateTarget = { ip: '127.0.0.1', port: (server.address() as AddressInfo).port, device: 'sda', partition: 7 };
  const close = () => {
    frames.destroy();
    server.closeAllConnections();
    server.close();
  };
  return { server: { close }, requests, target };
}

/** Each test runs over HTTP and framed: the client under test, and what to close after it. */
const transports = [
  { name: '', client: (agent: http.Agent, ms: number) => ({ client: new ListingUpdateClient(agent, ms), close: () => {} }) },
  {
    name: ' (framed)',
    client: (agent: http.Agent, ms: number) => {
      const frames = new FrameClient({ connTimeoutMs: 1000, nodeTimeoutMs: ms });
      return { client: new ListingUpdateClient(agent, ms, frames), close: () => frames.close() };
    },
  },
];

const row = (name: string): ListingRow => ({ name, ts: '1700000001.000000', value: { size: 1, etag: 'e', contentType: 'text/plain' } }) as unknown as ListingRow;

for (const tr of transports) {
test(`rows for one listing replica that come while a request is in flight go together in the next one${tr.name}`, async (t) => {
  const { server, requests, target } = await fakeListing(100);
  const agent = new http.Agent({ keepAlive: true });
  const closers: (() => void)[] = [];
  try {
    const { client, close } = tr.client(agent, 2000);
    closers.push(close);
    const first = client.sendRows(target, 'acct', 'bkt', [row('k0')]);
    const rest = Array.from({ length: 9 }, (_, i) => client.sendRows(target, 'acct', 'bkt', [row(`k${i + 1}`)]));
    // Another bucket is another replica's listing: it does not wait.
    const other = client.sendRows(target, 'acct', 'other', [row('x')]);
    t.deepEqual(await Promise.all([first, ...rest, other]), Array(11).fill(204));
    t.is(requests.length, 3);
    const ours = requests.filter((r) => r.path.includes('/bkt'));
    t.deepEqual(ours.map((r) => r.names), [['k0'], ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']]);
    // Nothing in flight any more: the next row goes at once, alone.
    t.is(await client.sendRows(target, 'acct', 'bkt', [row('k10')]), 204);
    t.deepEqual(requests.at(-1)?.names, ['k10']);
    t.deepEqual(new Set(requests.map((r) => r.via)), new Set([tr.name ? 'frames' : 'http']));
  } finally {
    for (const c of closers) c();
    agent.destroy();
    server.close();
  }
});
}

for (const tr of transports) {
test(`a replica that does not answer: every caller gets 0 within its timeout, queued ones too${tr.name}`, async (t) => {
  const { server, target } = await fakeListing(null);
  const agent = new http.Agent({ keepAlive: true });
  const closers: (() => void)[] = [];
  try {
    const { client, close } = tr.client(agent, 150);
    closers.push(close);
    const started = Date.now();
    const statuses = await Promise.all(Array.from({ length: 5 }, (_, i) => client.sendRows(target, 'acct', 'bkt', [row(`k${i}`)])));
    t.deepEqual(statuses, [0, 0, 0, 0, 0]);
    t.true(Date.now() - started < 1000, `${Date.now() - started} ms`);
  } finally {
    for (const c of closers) c();
    agent.destroy();
    server.close();
  }
});
}

for (const tr of transports) {
test(`a batch shares its status: a missing listing (404) reaches every caller of the batch${tr.name}`, async (t) => {
  const { server, requests, target } = await fakeListing(50, 404);
  const agent = new http.Agent({ keepAlive: true });
  const closers: (() => void)[] = [];
  try {
    const { client, close } = tr.client(agent, 2000);
    closers.push(close);
    const statuses = await Promise.all(Array.from({ length: 4 }, (_, i) => client.sendRows(target, 'acct', 'bkt', [row(`k${i}`)])));
    t.deepEqual(statuses, [404, 404, 404, 404]);
    t.is(requests.length, 2);
  } finally {
    for (const c of closers) c();
    agent.destroy();
    server.close();
  }
});
}
