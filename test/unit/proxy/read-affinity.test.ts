/** The proxy's `readAffinity`: the order in which reads ask an object's primaries, and its config field. */
import test from 'ava';
import { parseProxyConfig } from '../../../src/common/config.js';
import { candidates, type PlacementRing, ReadAffinity, type RingDevice } from '../../../src/proxy/placement.js';

const dev = (port: number, device = `d${port}`): RingDevice => ({ id: port, ip: '127.0.0.1', port, device, zone: 1, region: 1, weight: 1 });

test('listed nodes first, in the list order; the rest after them in ring order; the input is left as it was', (t) => {
  const primaries = [dev(6004), dev(6002), dev(6003), dev(6001)];
  const affinity = new ReadAffinity(['127.0.0.1:6003', '127.0.0.1:6001']);
  t.deepEqual(
    affinity.order(primaries).map((d) => d.port),
    [6003, 6001, 6004, 6002],
  );
  t.deepEqual(
    primaries.map((d) => d.port),
    [6004, 6002, 6003, 6001],
  );
  // Two devices of one node keep their ring order.
  t.deepEqual(
    new ReadAffinity(['127.0.0.1:6002']).order([dev(6001, 'a'), dev(6002, 'b'), dev(6002, 'c')]).map((d) => d.device),
    ['b', 'c', 'a'],
  );
});

test('candidates: the primaries in the affinity order, then the handoffs as the ring gives them', (t) => {
  const ring: PlacementRing = {
    replicaCount: 3,
    partition: () => 0,
    primaries: () => [dev(6003), dev(6001), dev(6002)],
    handoffs: () => [dev(6004), dev(6005)],
  };
  t.deepEqual(
    [...candidates(ring, 0, 1, { affinity: new ReadAffinity(['127.0.0.1:6001', '127.0.0.1:6002', '127.0.0.1:6003', '127.0.0.1:6004']) })].map((d) => d.port),
    [6001, 6002, 6003, 6004],
  );
  t.deepEqual(
    [...candidates(ring, 0, 2)].map((d) => d.port),
    [6003, 6001, 6002, 6004, 6005],
  );
});

test('config: readAffinity is a list of ip:port, empty by default; anything else is InvalidConfig naming the field', (t) => {
  const base = { ringDir: '/r', port: 8080, rootAccessKey: 'a', rootSecretKey: 'b', policies: [{ index: 0, name: 'replica-3' }] };
  t.deepEqual(parseProxyConfig(base).readAffinity, []);
  t.deepEqual(parseProxyConfig({ ...base, readAffinity: ['127.0.0.1:6001', 'node2.example:6002'] }).readAffinity, ['127.0.0.1:6001', 'node2.example:6002']);
  for (const bad of ['127.0.0.1', ['127.0.0.1'], ['127.0.0.1:'], ['127.0.0.1:70000'], [':6001'], ['a b:1'], [6001]]) {
    const err = t.throws(() => parseProxyConfig({ ...base, readAffinity: bad }), undefined, JSON.stringify(bad));
    t.is((err as { code?: string }).code, 'InvalidConfig');
    t.regex(err!.message, /readAffinity/);
  }
});
