/**
 * Probe tests of the reconstructor's smaller duties: a node that missed a commit gets its archive made
 * durable (no rebuild), a node that missed a metadata update gets the `.meta` pushed, and a tombstone a node
 * missed is written there.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { CODEC_SCHEME, fragmentArchiveSize } from '../../src/erasure/index.js';
import { objectPath } from '../../src/common/wire.js';
import { request } from '../unit/storage-nodes/node-fixture.js';
import { bodyInput, withPolicies } from '../unit/proxy/policy-fixture.js';
import { archiveFiles, archivePlacement, nodeOfDevice, putPendingArchive } from './ec-cluster.js';

const policies = [
  { index: 0, name: 'replica-3' },
  { index: 1, name: 'ec-4+2' },
];
const name = (key: string) => `/AUTH_test/bkt/${key}`;

async function reconstructAll(cluster: import('../helpers/cluster.js').TestCluster): Promise<Record<string, number>> {
  const sum: Record<string, number> = {};
  for (const n of cluster.nodes) {
    if (!n) continue;
    for (const [k, v] of Object.entries(await n.workers.reconstructor.runOnce())) sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}

test(
  'a node that missed the commit: its pending archive is made durable, not rebuilt',
  withPolicies({ nodes: 6, policies }, async (t, f) => {
    const obj = name('uncommitted-here');
    const { primaries, partition } = archivePlacement(f.cluster, obj, 1);
    const ts = f.ts();
    const ec = { scheme: CODEC_SCHEME, k: 4, m: 2, segmentSize: 1048576, size: 999 };
    const archive = randomBytes(fragmentArchiveSize(999, 4, 1048576));
    for (const [i, d] of primaries.entries()) t.is((await putPendingArchive(f.cluster, d, obj, 1, i, ts, archive, ec)).status, 201);
    for (const [i, d] of primaries.entries()) {
      if (i === 3) continue;
      const r = await request(nodeOfDevice(f.cluster, d).port, 'POST', `${objectPath(d, partition, 'AUTH_test', 'bkt', 'uncommitted-here')}?commit`, {
        headers: { 'x-backend-timestamp': ts, 'x-backend-storage-policy-index': '1', 'x-backend-fragment-index': String(i), 'x-backend-container-updates': '[]' },
      });
      t.is(r.status, 202);
    }
    t.deepEqual(archiveFiles(f.cluster, obj, 1).get(primaries[3]), [`${ts}#3.data`]);
    const stats = await f.cluster.nodes[nodeOfDevice(f.cluster, primaries[3]).index]!.workers.reconstructor.runOnce();
    t.like(stats, { madeDurable: 1, rebuilt: 0, failures: 0 });
    t.deepEqual(archiveFiles(f.cluster, obj, 1).get(primaries[3]), [`${ts}#3#d.data`]);
  }),
);

test(
  'a node that missed a metadata update or a delete catches up',
  withPolicies({ nodes: 6, policies }, async (t, f) => {
    const p = f.policy('ec-4+2');
    await p.put(f.target('meta'), bodyInput(f.ts(), randomBytes(3000)));
    await p.put(f.target('gone'), bodyInput(f.ts(), randomBytes(3000)));
    const downDev = archivePlacement(f.cluster, name('meta'), 1).primaries[0];
    const down = nodeOfDevice(f.cluster, downDev).index;
    const downGone = archivePlacement(f.cluster, name('gone'), 1).primaries.find((d) => nodeOfDevice(f.cluster, d).index === down)!;
    await f.cluster.stopNode(down);
    const metaTs = f.ts();
    await p.post(f.target('meta'), metaTs, { tags: { a: '1' } });
    const deleteTs = f.ts();
    await p.delete(f.target('gone'), deleteTs);
    await f.cluster.startNode(down);
    t.false(archiveFiles(f.cluster, name('meta'), 1).get(downDev)!.some((file) => file.endsWith('.meta')));

    const stats = await reconstructAll(f.cluster);
    t.true(stats.metasPushed >= 1);
    t.is(stats.tombstonesPulled, 1);
    t.is(stats.failures, 0);
    for (const files of archiveFiles(f.cluster, name('meta'), 1).values()) t.true(files.includes(`${metaTs}.meta`));
    t.deepEqual(archiveFiles(f.cluster, name('gone'), 1).get(downGone), [`${deleteTs}.ts`]);
    t.like(await reconstructAll(f.cluster), { metasPushed: 0, tombstonesPulled: 0, rebuilt: 0 });
  }),
);

test(
  'once converged, a pass asks each peer device what changed and compares no partition but those it rescans; a new object gets its partition compared from the hashes the answers carry',
  withPolicies({ nodes: 6, policies }, async (t, f) => {
    const p = f.policy('ec-4+2');
    const objects = 5;
    for (let i = 0; i < objects; i++) await p.put(f.target(`idle-${i}`), bodyInput(f.ts(), randomBytes(3000)));
    t.like(await reconstructAll(f.cluster), { rebuilt: 0, failures: 0 });
    // (Every tenth pass of a partition rescans it if it holds archives: at most the 6 archives of each object.)
    const rescans = objects * 6;
    const idle = await reconstructAll(f.cluster);
    t.like(idle, { fullPass: 0, failures: 0, rebuilt: 0 });
    t.true(idle.primaryPartitions > 100);
    t.true(idle.unchangedPartitions >= idle.primaryPartitions - rescans, `${idle.unchangedPartitions} of ${idle.primaryPartitions} left alone`);
    t.true(idle.requests <= idle.changeRequests + 5 * (idle.primaryPartitions - idle.unchangedPartitions), `${idle.requests} requests`);

    await p.put(f.target('late'), bodyInput(f.ts(), randomBytes(3000)));
    const after = await reconstructAll(f.cluster);
    t.like(after, { failures: 0, rebuilt: 0 });
    t.true(after.unchangedPartitions >= after.primaryPartitions - 6 - rescans);
    t.true(after.unchangedPartitions < after.primaryPartitions, 'the new archives are compared');
  }),
);
