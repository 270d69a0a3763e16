/**
 * Fault test 1 (real processes): 200 uploads of mixed sizes (empty to several EC segments) start at once,
 * into a replicated and an erasure-coded bucket, and a storage node is SIGKILLed while they are in flight.
 * Every upload that got a 200 reads back intact during the outage and after repair. An upload that got an
 * error may or may not have landed, but never half: after repair the listings and GET agree exactly, and
 * whatever GET serves is the whole body that was sent. Placement is checked for everything that exists.
 */
import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { checkListings, checkObjects, checkPlacement, createBucket, getBytes, listKeys, Model, type Outcome, put, replicaAndEc, s3Client, withLogs } from './faults-common.js';
import { ProcessCluster } from './process-cluster.js';

const buckets = [
  { bucket: 'rep', policy: 'replica-3', policyIndex: 0 },
  { bucket: 'ecb', policy: 'ec-4+2', policyIndex: 1 },
];

/** Mostly small objects, some of a few hundred KiB, a few of several MiB (several EC segments). */
function sizeOf(i: number): number {
  if (i % 20 === 7) return 2 * 1024 * 1024 + ((i * 7919) % 1_000_000);
  if (i % 5 === 3) return 100_000 + ((i * 104_729) % 400_000);
  return (i * 2_654_435_761) % 40_000;
}

test('a node SIGKILLed during 200 concurrent uploads: every 200 reads back intact, nothing is half visible', async (t) => {
  const cluster = await ProcessCluster.start({
    nodes: 4,
    policies: replicaAndEc,
  });
  const s3 = s3Client(cluster, 256);
  try {
    await withLogs(t, cluster, async () => {
      for (const b of buckets) await createBucket(s3, b.bucket, b.policy);
      const uploads = Array.from({ length: 200 }, (_, i) => ({ ...buckets[i % 2], key: `u${String(i).padStart(3, '0')}`, body: randomBytes(sizeOf(i)) }));
      const victim = 2;
      let answered = 0;
      let killed: Promise<void> | undefined;
      const outcomes: Outcome[] = await Promise.all(
        uploads.map(async (u) => {
          const r = await put(s3, u.bucket, u.key, u.body);
          // Kill once a fifth of the uploads were answered: the larger ones are still streaming.
          if (++answered === 40) killed = cluster.killNode(victim);
          return r;
        }),
      );
      await killed;
      t.false(cluster.isRunning(victim));
      const ok = uploads.filter((_, i) => outcomes[i].ok);
      const failed = uploads.filter((_, i) => !outcomes[i].ok);
      t.log(`${ok.length} uploads acknowledged, ${failed.length} failed (${[...new Set(failed.map((u) => outcomes[uploads.indexOf(u)].status))].join(', ')})`);
      t.true(ok.length >= 100, 'most uploads succeed');
      for (const u of failed) {
        const o = outcomes[uploads.indexOf(u)];
        t.true(o.status === undefined || o.status >= 500, `${u.key}: an error is a 5xx or a cut connection, not ${o.status} ${o.error}`);
      }

      const acknowledged = new Model();
      for (const u of ok) acknowledged.set(u.bucket, u.key, u.policyIndex, u.body);
      await checkObjects(t, s3, acknowledged, 'during the outage');
      // A failed upload never shows half: GET answers all of its bytes or nothing.
      for (const u of failed) {
        const got = await getBytes(s3, u.bucket, u.key);
        t.true(got === undefined || got.equals(u.body), `${u.key}: failed upload read back as ${got?.length} of ${u.body.length} bytes`);
      }

      await cluster.startNode(victim);
      await cluster.repair(2);

      // After repair: the listing and GET agree on every failed upload, and the model is what they say.
      const model = new Model();
      for (const u of ok) model.set(u.bucket, u.key, u.policyIndex, u.body);
      const listed = new Map<string, Set<string>>();
      for (const b of buckets) listed.set(b.bucket, new Set(await listKeys(s3, b.bucket)));
      let landed = 0;
      for (const u of failed) {
        const got = await getBytes(s3, u.bucket, u.key);
        const inListing = listed.get(u.bucket)!.has(u.key);
        t.is(inListing, got !== undefined, `${u.key}: listing ${inListing ? 'shows' : 'hides'} it, GET ${got ? 'serves' : 'does not serve'} it`);
        if (got) {
          t.is(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(u.body).digest('hex'), `${u.key}: whole`);
          model.set(u.bucket, u.key, u.policyIndex, u.body);
          landed++;
        }
      }
      t.log(`${landed} of the failed uploads had landed whole (stored on fewer devices than the quorum, or only the answer lost) and were spread by repair`);
      await checkObjects(t, s3, model, 'after repair');
      await checkListings(t, s3, model, buckets.map((b) => b.bucket), 'after repair');
      checkPlacement(t, cluster, model, 'after repair');
    });
  } finally {
    s3.destroy();
    await cluster.close();
  }
});
