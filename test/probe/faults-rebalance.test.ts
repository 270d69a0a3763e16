/**
 * Fault test 4 (real processes): a fifth node joins a running cluster (replicated and EC buckets) and the
 * rings are rebalanced with `arca ring add` / `arca ring rebalance` on the builder files, while clients
 * keep reading, writing, overwriting, deleting and listing. The proxy and the nodes pick up the new ring
 * files without a restart; the workers (run through `/recon/run`) move the partitions. No request fails
 * that would not fail on a static cluster: every write is acknowledged, every read returns the newest
 * acknowledged bytes (or NoSuchKey after a delete), every listing request succeeds. Afterwards every
 * partition sits exactly where the new rings say (no device holds one it is not a primary of, per recon),
 * every object on exactly its new primaries, and listings are exact.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { ReconStatus } from '../../src/common/wire.js';
import { runCommand } from '../helpers/clients.js';
import { checkListings, checkObjects, checkPlacement, createBucket, del, getBytes, listKeys, Model, put, replicaAndEc, s3Client, withLogs } from './faults-common.js';
import { arcaMain, ProcessCluster } from './process-cluster.js';

const buckets = [
  { bucket: 'rep', policy: 'replica-3', policyIndex: 0 },
  { bucket: 'ecb', policy: 'ec-4+2', policyIndex: 1 },
];

const sizeOf = (n: number) => (n % 17 === 4 ? 1_200_000 + (n % 7) * 1000 : (n * 7919) % 40_000);

const outOfPlace = (statuses: ReconStatus[]) => statuses.flatMap((s) => s.devices).reduce((n, d) => n + d.partitions.reduce((m, p) => m + p.outOfPlace, 0), 0);

test('a fifth node joins and the rings are rebalanced under load: no request fails, every partition ends where the new rings say', async (t) => {
  const cluster = await ProcessCluster.start({
    nodes: 4,
    policies: replicaAndEc,
  });
  const s3 = s3Client(cluster);
  const arca = async (...args: string[]) => {
    const r = await runCommand(process.execPath, [arcaMain, ...args], {});
    if (r.code !== 0) throw new Error(`arca ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    await withLogs(t, cluster, async () => {
      const model = new Model();
      for (const b of buckets) await createBucket(s3, b.bucket, b.policy);
      for (const b of buckets) {
        for (let i = 0; i < 30; i++) {
          const body = randomBytes(sizeOf(i));
          t.true((await put(s3, b.bucket, `pre/${i}`, body)).ok);
          model.set(b.bucket, `pre/${i}`, b.policyIndex, body);
        }
      }

      // The load: each client owns its keys, so what a read must return is known exactly.
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const failures: string[] = [];
      const counts = { put: 0, get: 0, delete: 0, list: 0 };
      let stop = false;
      const client = async (c: number) => {
        const b = buckets[c % 2];
        const mine = [...model.objects.values()].filter((w) => w.bucket === b.bucket && Number(w.key.slice(4)) % 3 === c).map((w) => w.key);
        for (let n = 0; !stop; n++) {
          // Clients with a little think time: the whole cluster shares the test machine's cores.
          await pause(20);
          const key = n % 4 === 0 || mine.length === 0 ? `new/${c}/${n}` : mine[(n * 31) % mine.length];
          const wanted = model.get(b.bucket, key);
          const op = n % 4 === 0 ? 'put' : n % 11 === 5 ? 'delete' : n % 13 === 7 ? 'list' : n % 3 === 0 ? 'put' : 'get';
          if (op === 'put') {
            const body = randomBytes(sizeOf(n + c));
            const r = await put(s3, b.bucket, key, body);
            if (r.ok) model.set(b.bucket, key, b.policyIndex, body);
            else failures.push(`PUT ${b.bucket}/${key}: ${r.error}`);
            if (!mine.includes(key)) mine.push(key);
            counts.put++;
          } else if (op === 'delete') {
            const r = await del(s3, b.bucket, key);
            if (r.ok) model.set(b.bucket, key, b.policyIndex, undefined);
            else failures.push(`DELETE ${b.bucket}/${key}: ${r.error}`);
            counts.delete++;
          } else if (op === 'list') {
            await listKeys(s3, b.bucket).catch((err) => failures.push(`LIST ${b.bucket}: ${(err as Error).name} ${(err as Error).message}`));
            counts.list++;
          } else {
            try {
              const got = await getBytes(s3, b.bucket, key);
              if (wanted?.body === undefined ? got !== undefined : !got?.equals(wanted.body)) failures.push(`GET ${b.bucket}/${key}: ${got === undefined ? 'NoSuchKey' : `${got.length} bytes, not the ${wanted?.body?.length ?? 0} written`}`);
            } catch (err) {
              failures.push(`GET ${b.bucket}/${key}: ${(err as Error).name} ${(err as Error).message}`);
            }
            counts.get++;
          }
        }
      };
      const load = Promise.all([0, 1, 2].map(client));
      await pause(2000);

      const phases: string[] = [];
      let phaseStart = Date.now();
      const phase = (name: string) => {
        phases.push(`${name} ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`);
        phaseStart = Date.now();
      };
      // A fifth node, its device added to every ring with the ring builder, then rebalanced.
      const fifth = await cluster.addNodeConfig(['d5']);
      await cluster.startNode(fifth);
      const port = String(cluster.nodeConfigs[fifth].port);
      const nowHours = String(Math.floor(Date.now() / 3_600_000) + 2);
      for (const builder of ['account', 'container', 'object', 'object-1']) {
        const file = `${cluster.ringDir}/${builder}.builder.json`;
        for (const device of ['d5']) await arca('ring', 'add', file, '--region', '1', '--zone', '5', '--ip', '127.0.0.1', '--port', port, '--device', device, '--weight', '1');
        const result = JSON.parse(await arca('ring', 'rebalance', file, '--now-hours', nowHours, '--json'));
        t.true(result.moved > 0, `${builder}: ${result.moved} partition-replicas move`);
      }
      phase('node added, rings rebalanced');
      // The proxy checks its ring files every 5 s; the workers reload them at each pass.
      await pause(5500);
      const before = outOfPlace(await Promise.all(cluster.nodeConfigs.map((_, i) => cluster.recon(i))));
      t.true(before > 0, `${before} partitions out of place after the rebalance`);

      const drained: number[] = [before];
      const took: string[] = [];
      for (let round = 0; round < 1; round++) {
        for (const w of ['replicator', 'reconstructor', 'listingReplicator', 'updater'] as const) {
          const start = Date.now();
          await cluster.runEverywhere(w, { parallel: true });
          took.push(`${w} ${Date.now() - start} ms`);
        }
        drained.push(outOfPlace(await Promise.all(cluster.nodeConfigs.map((_, i) => cluster.recon(i)))));
      }
      phase('one round of passes under load');
      stop = true;
      await load;
      t.log(`load: ${JSON.stringify(counts)}; partitions out of place: ${drained.join(' → ')}; passes: ${took.join(', ')}`);
      t.deepEqual(failures, [], 'no request failed during the move');
      t.true(counts.get > 50 && counts.put > 20, 'the load ran');

      await cluster.repair(2, { parallel: true });
      phase('two more rounds');
      const statuses = await Promise.all(cluster.nodeConfigs.map((_, i) => cluster.recon(i)));
      t.is(outOfPlace(statuses), 0, 'every partition where the new rings say');
      const fifthHolds = statuses[fifth].devices.map((d) => d.partitions.reduce((n, p) => n + p.held, 0));
      t.true(fifthHolds.every((n) => n > 0), `the new devices hold partitions (${fifthHolds})`);
      await checkObjects(t, s3, model, 'after the move');
      checkPlacement(t, cluster, model, 'after the move');
      await checkListings(t, s3, model, buckets.map((b) => b.bucket), 'after the move');
      phase('checks');
      t.log(phases.join(', '));
    });
  } finally {
    s3.destroy();
    await cluster.close();
  }
});
