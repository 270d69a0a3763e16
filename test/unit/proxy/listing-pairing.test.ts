import test from 'ava';
import { pairListingUpdates } from '../../../src/proxy/placement.js';

const dev = (port: number, device = 'd1') => ({ ip: '127.0.0.1', port, device });
const target = (port: number) => ({ ip: '127.0.0.1', port, device: 'l1', partition: 9 });

test('each object replica gets the listing replica on its own node where there is one, the rest in ring order', (t) => {
  const primaries = [dev(1), dev(2), dev(3)];
  // Listing replicas on nodes 3, 4 and 1: object replicas 1 and 3 pair with them, object replica 2 takes node 4's.
  const paired = pairListingUpdates(primaries, [target(3), target(4), target(1)]);
  t.deepEqual(
    paired.map((u) => u.port),
    [1, 4, 3],
  );
  // Every listing replica is updated exactly once.
  t.deepEqual(paired.map((u) => u.port).sort(), [1, 3, 4]);
  // No overlap: ring order, as before.
  t.deepEqual(
    pairListingUpdates(primaries, [target(7), target(8), target(9)]).map((u) => u.port),
    [7, 8, 9],
  );
  // Two object replicas on one node (several devices per node) take one local replica, not both.
  t.deepEqual(
    pairListingUpdates([dev(1), dev(1, 'd2'), dev(2)], [target(1), target(5), target(6)]).map((u) => u.port),
    [1, 5, 6],
  );
});

test('with a different number of listing replicas, object replicas take them round robin, as before', (t) => {
  t.deepEqual(
    pairListingUpdates([dev(1), dev(2), dev(3)], [target(1), target(2)]).map((u) => u.port),
    [1, 2, 1],
  );
  t.deepEqual(pairListingUpdates([dev(1)], []), [undefined] as unknown[]);
});
