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

test("an EC policy's six archives and three listing replicas: each replica updated twice, same-node pairs first", (t) => {
  // Archives on nodes 1 1 2 2 3 4 (two devices per node); listing replicas on nodes 2, 4 and 5.
  const primaries = [dev(1), dev(1, 'd2'), dev(2), dev(2, 'd2'), dev(3), dev(4)];
  const paired = pairListingUpdates(primaries, [target(2), target(4), target(5)]).map((u) => u.port);
  t.deepEqual(paired, [5, 4, 2, 2, 5, 4]);
  const counts = new Map<number, number>();
  for (const p of paired) counts.set(p, (counts.get(p) ?? 0) + 1);
  t.deepEqual([...counts.values()], [2, 2, 2]);
});

test('more primaries than listing replicas, not a multiple: every replica still updated; fewer: as many as there are primaries', (t) => {
  // Four object replicas, three listing replicas, one of them on two of the object replicas' node.
  const four = pairListingUpdates([dev(1), dev(1, 'd2'), dev(2), dev(3)], [target(1), target(8), target(9)]).map((u) => u.port);
  t.deepEqual(four, [1, 8, 9, 1]);
  t.deepEqual(new Set(four).size, 3);
  t.deepEqual(
    pairListingUpdates([dev(9), dev(2)], [target(1), target(2), target(3)]).map((u) => u.port),
    [1, 2],
  );
  t.deepEqual(pairListingUpdates([dev(1)], []), [undefined] as unknown[]);
});
