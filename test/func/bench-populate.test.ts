/**
 * bench:compare's big LIST bucket on a real `arca cluster` (its default 15 s worker intervals): the fill merges
 * rows into every listing replica, then waits until the listing replicators have passed them on, so the rounds
 * that follow do not measure that replication. A second fill finds the rows there and does not wait.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { listingReplicasSettled, populateArca } from '../../bench/compare/populate.js';
import { startArcaCluster } from '../../bench/lib/arca-cluster.js';
import type { ReconStatus } from '../../src/common/wire.js';
import { consecutiveFreePorts } from '../helpers/cluster.js';

test('a fill waits for the listing replicators; they then have nothing left to push', async (t) => {
  t.timeout(240_000);
  const cluster = await startArcaCluster({ basePort: await consecutiveFreePorts(5) });
  t.teardown(() => cluster.stop());
  const target = { endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey };

  const first = await populateArca(target, cluster.dataDir, 'bench-populate', 5_000);
  t.deepEqual(first.replicas, [5_000, 5_000, 5_000]);
  t.is(first.inserted, 3 * 4_999);
  t.true(first.replication?.settled, JSON.stringify(first));
  // Each replica's replicator had to send the other two replicas its 4,999 rows: that takes at least one pass.
  t.true(first.replication!.seconds > 0);

  // What the wait saw, from every node: a pass since the fill that found nothing to push.
  const nodePorts = (JSON.parse(readFileSync(join(cluster.dataDir, 'cluster.json'), 'utf8')) as { nodePorts: number[] }).nodePorts;
  for (const port of nodePorts) {
    const status = (await (await fetch(`http://127.0.0.1:${port}/recon/status`)).json()) as ReconStatus;
    t.is(status.awaiting.listingRows, 0, `node ${port}`);
  }

  const again = await populateArca(target, cluster.dataDir, 'bench-populate', 5_000);
  t.is(again.inserted, 0);
  t.is(again.replication, undefined);

  // A node that does not answer never counts as settled: the wait ends at its timeout.
  const unreachable = await listingReplicasSettled([{ ip: '127.0.0.1', port: 9 }], Date.now(), 3_000);
  t.false(unreachable.settled);
  t.true(unreachable.seconds >= 3);
});
