import test from 'ava';
import { ArcaError } from '../../../src/common/errors.js';
import { ListingClient } from '../../../src/proxy/listings.js';
import type { NodeAddress, NodeClient, NodeReply, NodeRequest } from '../../../src/proxy/node-client.js';
import type { ClusterRings, PlacementRing, RingDevice } from '../../../src/proxy/placement.js';

const device = (i: number): RingDevice => ({ id: i, region: 1, zone: i, ip: '127.0.0.1', port: 6000 + i, device: `d${i}`, weight: 1 });
const ring: PlacementRing = { replicaCount: 3, partition: () => 5, primaries: () => [device(1), device(2), device(3)], handoffs: () => [device(4), device(5)] };
const rings: ClusterRings = { account: ring, container: ring, object: () => ring };

/** A node client that records which port each request went to and answers as `answer` says. */
function fakeClient(answer: (port: number) => number | 'down'): { client: NodeClient; ports: number[] } {
  const ports: number[] = [];
  const client = {
    request: async (node: NodeAddress, _r: NodeRequest): Promise<NodeReply> => {
      ports.push(node.port);
      const status = answer(node.port);
      if (status === 'down') throw new ArcaError('Internal', 'connection refused');
      return { status, headers: {}, body: Buffer.from('{}') } as NodeReply;
    },
  } as unknown as NodeClient;
  return { client, ports };
}

const page = { method: 'GET' as const, query: { limit: 1000 } };

test('spread reads start at each primary in turn; plain reads always at the first', async (t) => {
  const { client, ports } = fakeClient(() => 200);
  const listings = new ListingClient(rings, client);
  for (let i = 0; i < 6; i++) await listings.read('AUTH_a', 'b', page, { spread: true });
  t.deepEqual(ports, [6001, 6002, 6003, 6001, 6002, 6003]);
  ports.length = 0;
  for (let i = 0; i < 3; i++) await listings.read('AUTH_a', 'b', { method: 'HEAD' });
  t.deepEqual(ports, [6001, 6001, 6001]);
});

test('a replica that failed a read goes after the others in spread reads until it answers again', async (t) => {
  const status = new Map<number, number | 'down'>([
    [6002, 'down'],
    [6003, 507],
  ]);
  const { client, ports } = fakeClient((port) => status.get(port) ?? 200);
  const listings = new ListingClient(rings, client);
  // Turn 0 starts at 6001 (fine); turn 1 at 6002, which fails, then 6003 (507), then 6001.
  await listings.read('AUTH_a', 'b', page, { spread: true });
  await listings.read('AUTH_a', 'b', page, { spread: true });
  t.deepEqual(ports, [6001, 6002, 6003, 6001]);
  ports.length = 0;
  // Both failed lately: every spread read asks 6001 first, whatever the turn.
  for (let i = 0; i < 3; i++) await listings.read('AUTH_a', 'b', page, { spread: true });
  t.deepEqual(ports, [6001, 6001, 6001]);
  // 6002 is back; once it answers a read (6001 has no such listing: 404), it takes its turns again.
  status.set(6002, 200);
  status.set(6001, 404);
  ports.length = 0;
  await listings.read('AUTH_a', 'b', { method: 'HEAD' });
  t.deepEqual(ports, [6001, 6002]);
  status.delete(6001);
  ports.length = 0;
  for (let i = 0; i < 4; i++) await listings.read('AUTH_a', 'b', page, { spread: true });
  t.deepEqual(ports.sort(), [6001, 6001, 6002, 6002]);
});

test('a plain read asks a replica that failed a read lately after the others (a hung first replica costs one read a timeout)', async (t) => {
  const status = new Map<number, number | 'down'>([[6001, 'down']]);
  const { client, ports } = fakeClient((port) => status.get(port) ?? 200);
  const listings = new ListingClient(rings, client);
  await listings.read('AUTH_a', 'b', { method: 'HEAD' });
  t.deepEqual(ports, [6001, 6002]);
  ports.length = 0;
  for (let i = 0; i < 3; i++) await listings.read('AUTH_a', 'b', { method: 'HEAD' });
  t.deepEqual(ports, [6002, 6002, 6002], 'not asked while it failed lately');
  // Asked last, it is still asked when the others fail; once it answers, it is first again.
  status.set(6001, 200);
  status.set(6002, 'down');
  status.set(6003, 'down');
  ports.length = 0;
  await listings.read('AUTH_a', 'b', { method: 'HEAD' });
  t.deepEqual(ports, [6002, 6003, 6001]);
  status.delete(6002);
  status.delete(6003);
  ports.length = 0;
  await listings.read('AUTH_a', 'b', { method: 'HEAD' });
  t.deepEqual(ports, [6001]);
});

test('spread reads fall back to the other replicas, then handoffs; 404 only when every answer was 404', async (t) => {
  const { client, ports } = fakeClient((port) => (port <= 6003 ? 404 : port === 6004 ? 'down' : 200));
  const listings = new ListingClient(rings, client);
  const reply = await listings.read('AUTH_a', 'b', page, { spread: true });
  t.is(reply.status, 200);
  t.deepEqual(ports, [6001, 6002, 6003, 6004, 6005]);
  const none = new ListingClient(rings, fakeClient(() => 404).client);
  t.is((await none.read('AUTH_a', 'b', page, { spread: true })).status, 404);
  const unreachable = new ListingClient(rings, fakeClient(() => 'down').client);
  await t.throwsAsync(unreachable.read('AUTH_a', 'b', page, { spread: true }), { message: /no listing replica/ });
});

test('a 404 from handoffs alone is not an answer: with every primary failing the read fails (503), not 404', async (t) => {
  const primariesDown = new ListingClient(rings, fakeClient((port) => (port <= 6003 ? 'down' : 404)).client);
  await t.throwsAsync(primariesDown.read('AUTH_a', 'b', { method: 'HEAD' }), { instanceOf: ArcaError, message: /no primary listing replica .* answered \(only handoffs/ });
  const slow = new ListingClient(rings, fakeClient((port) => (port <= 6003 ? 503 : 404)).client);
  await t.throwsAsync(slow.read('AUTH_a', 'b', page), { message: /only handoffs/ });
  // One primary that answers 404 is enough (the others down): the bucket is missing.
  const onePrimary = new ListingClient(rings, fakeClient((port) => (port >= 6003 ? 404 : 'down')).client);
  t.is((await onePrimary.read('AUTH_a', 'b', page)).status, 404);
});
