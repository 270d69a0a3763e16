import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { ListingUpdateClient } from '../../../storage-nodes/listing-updates.js';
import type { ContainerUpdateTarget, ListingRow } from '../../../src/common/wire.js';

/** A listing server stand-in: records each request's rows, answers after `delayMs` (never when null). */
async function fakeListing(delayMs: number | null, status = 204) {
  const requests: { path: string; names: string[] }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { rows: ListingRow[] };
      requests.push({ path: req.url ?? '', names: body.rows.map((r) => r.name) });
      if (delayMs === null) return;
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const target: ContainerUpdateTarget = { ip: '127.0.0.1', port: (server.address() as AddressInfo).port, device: 'sda', partition: 7 };
  return { server, requests, target };
}

const row = (name: string): ListingRow => ({ name, ts: '1700000001.000000', value: { size: 1, etag: 'e', contentType: 'text/plain' } }) as unknown as ListingRow;

test('rows for one listing replica that come while a request is in flight go together in the next one', async (t) => {
  const { server, requests, target } = await fakeListing(100);
  const agent = new http.Agent({ keepAlive: true });
  try {
    const client = new ListingUpdateClient(agent, 2000);
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
  } finally {
    agent.destroy();
    server.close();
  }
});

test('a replica that does not answer: every caller gets 0 within its timeout, queued ones too', async (t) => {
  const { server, target } = await fakeListing(null);
  const agent = new http.Agent({ keepAlive: true });
  try {
    const client = new ListingUpdateClient(agent, 150);
    const started = Date.now();
    const statuses = await Promise.all(Array.from({ length: 5 }, (_, i) => client.sendRows(target, 'acct', 'bkt', [row(`k${i}`)])));
    t.deepEqual(statuses, [0, 0, 0, 0, 0]);
    t.true(Date.now() - started < 1000, `${Date.now() - started} ms`);
  } finally {
    agent.destroy();
    server.closeAllConnections();
    server.close();
  }
});

test('a batch shares its status: a missing listing (404) reaches every caller of the batch', async (t) => {
  const { server, requests, target } = await fakeListing(50, 404);
  const agent = new http.Agent({ keepAlive: true });
  try {
    const client = new ListingUpdateClient(agent, 2000);
    const statuses = await Promise.all(Array.from({ length: 4 }, (_, i) => client.sendRows(target, 'acct', 'bkt', [row(`k${i}`)])));
    t.deepEqual(statuses, [404, 404, 404, 404]);
    t.is(requests.length, 2);
  } finally {
    agent.destroy();
    server.close();
  }
});
