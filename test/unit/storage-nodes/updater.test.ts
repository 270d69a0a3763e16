import { readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { type ListingPage, listingPath, objectPath } from '../../../src/common/wire.js';
import { startTestNode } from './node-fixture.js';

const t1 = '1700000001.000000';
const t2 = '1700000002.000000';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test('listing replica down: the update is queued durably, and the updater delivers it once the replica is back', async (t) => {
  const objectNode = await startTestNode();
  const listingPort = await freePort();
  const target = { ip: '127.0.0.1', port: listingPort, device: 'd1', partition: 2 };
  const pending = join(objectNode.dir, 'devices', 'd1', 'async_pending');
  let listingNode: Awaited<ReturnType<typeof startTestNode>> | undefined;
  try {
    for (const [ts, body] of [[t1, 'one'], [t2, 'two']]) {
      const r = await objectNode.put(objectPath('d1', 7, 'AUTH_a', 'bkt', 'k'), { ts, body: Buffer.from(body), updates: [target] });
      t.is(r.status, 201, 'the object write succeeds although its listing replica is down');
    }
    t.is((await readdir(pending)).length, 2);
    t.deepEqual(await objectNode.node.workers.updater.runOnce(), { sent: 0, failed: 1 }, 'the superseded record is dropped; the replica is still down');
    t.is((await readdir(pending)).length, 1);

    listingNode = await startTestNode({ port: listingPort });
    const l = listingPath('d1', 2, 'AUTH_a', 'bkt');
    await listingNode.json('PUT', l, { ts: t1 });
    t.deepEqual(await objectNode.node.workers.updater.runOnce(), { sent: 1, failed: 0 });
    t.deepEqual(await readdir(pending), []);
    const page = JSON.parse((await listingNode.request('GET', l)).body.toString()) as ListingPage;
    t.like(page.entries, [{ name: 'k', ts: t2, size: 3 }]);
    t.deepEqual(await objectNode.node.workers.updater.runOnce(), { sent: 0, failed: 0 });
  } finally {
    await objectNode.node.close();
    await listingNode?.node.close();
    await rm(objectNode.dir, { recursive: true, force: true });
    if (listingNode) await rm(listingNode.dir, { recursive: true, force: true });
  }
});

test('a listing replica that answers 404 keeps the record for a later pass', async (t) => {
  const n = await startTestNode();
  try {
    const target = n.target(3);
    t.is((await n.put(objectPath('d1', 7, 'AUTH_a', 'bkt', 'k'), { ts: t1, body: Buffer.from('x'), updates: [target] })).status, 201);
    t.deepEqual(await n.node.workers.updater.runOnce(), { sent: 0, failed: 1 });
    await n.json('PUT', listingPath('d1', 3, 'AUTH_a', 'bkt'), { ts: t1 });
    t.deepEqual(await n.node.workers.updater.runOnce(), { sent: 1, failed: 0 });
  } finally {
    await n.node.close();
    await rm(n.dir, { recursive: true, force: true });
  }
});
