/**
 * The write journal (storage-nodes/write-journal.ts) on real node processes with fsync on: small writes,
 * overwrites and deletes are acknowledged through the journal; every node is then SIGKILLed and, as a power
 * cut before the file system wrote them back would, every object file is taken from the devices. Restarted,
 * each node replays its journal before it serves: every acknowledged write reads back, every delete stays
 * deleted, and the journals are empty.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { createBucket, del, getBytes, listKeys, put, s3Client, withLogs } from './faults-common.js';
import { ProcessCluster } from './process-cluster.js';

/** Every `.data` and `.ts` file under `dir`. */
function objectFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...objectFiles(path));
    else if (/\.(data|ts)$/.test(name)) out.push(path);
  }
  return out;
}

test('every node SIGKILLed and its object files lost: the journals bring back every acknowledged write and delete', async (t) => {
  // Checkpoints an hour apart: everything written stays in the journals until the kill.
  const cluster = await ProcessCluster.start({ nodes: 4, fsync: true, writes: { journalCheckpointMs: 3_600_000 } });
  const s3 = s3Client(cluster);
  try {
    await withLogs(t, cluster, async () => {
      await createBucket(s3, 'journal-bucket');
      const bodies = new Map<string, Buffer | undefined>();
      const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      await Promise.all(
        keys.map(async (key, i) => {
          const body = randomBytes(1 + ((i * 7919) % 60_000));
          t.true((await put(s3, 'journal-bucket', key, body)).ok);
          bodies.set(key, body);
        }),
      );
      await Promise.all(
        keys.slice(0, 10).map(async (key) => {
          t.true((await del(s3, 'journal-bucket', key)).ok);
          bodies.set(key, undefined);
        }),
      );
      await Promise.all(
        keys.slice(10, 15).map(async (key) => {
          const body = randomBytes(3000);
          t.true((await put(s3, 'journal-bucket', key, body)).ok);
          bodies.set(key, body);
        }),
      );

      const devices = cluster.nodeConfigs.flatMap((c) => c.devices.map((d) => join(c.devicesDir, d)));
      for (let i = 0; i < cluster.nodeConfigs.length; i++) await cluster.killNode(i);
      let lost = 0;
      for (const device of devices) {
        for (const file of objectFiles(device)) {
          rmSync(file);
          lost++;
        }
      }
      t.true(lost >= 3 * 30, `${lost} object files removed`);

      for (let i = 0; i < cluster.nodeConfigs.length; i++) await cluster.startNode(i);
      for (let i = 0; i < cluster.nodeConfigs.length; i++) t.regex(cluster.logs(`node${i + 1}`), /write journal replayed: \d+ records/);
      for (const device of devices) {
        const journal = join(device, 'journal');
        t.deepEqual(existsSync(journal) ? readdirSync(journal) : [], [], `${journal} is empty after the replay`);
      }
      t.true(devices.reduce((n, d) => n + objectFiles(d).length, 0) >= 3 * 30, 'the files are back');
      for (const [key, body] of bodies) {
        const got = await getBytes(s3, 'journal-bucket', key);
        if (body === undefined) t.is(got, undefined, `${key} stays deleted`);
        else t.true(got?.equals(body), `${key} reads back`);
      }
      t.deepEqual(await listKeys(s3, 'journal-bucket'), keys.slice(10));
    });
  } finally {
    await cluster.close();
  }
});
