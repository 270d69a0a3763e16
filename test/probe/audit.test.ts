/**
 * Probe test of the auditor: a flipped bit and a torn footer are found, the files quarantined, and the
 * replicator brings good copies back from the other primaries.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { hashOfName } from '../../storage-nodes/disk-file.js';
import { tsAgo, withRepairCluster } from './repair-cluster.js';

test(
  'a corrupt .data is quarantined by the auditor and restored by the replicator',
  withRepairCluster({}, async (t, c) => {
    const big = '/AUTH_probe/bucket/big';
    const small = '/AUTH_probe/bucket/small';
    const bodies: Record<string, Buffer> = { [big]: randomBytes(300_000), [small]: randomBytes(2000) };
    const stamps: Record<string, string> = { [big]: tsAgo(10), [small]: tsAgo(9) };
    for (const name of [big, small]) for (const dev of c.placement(name).primaries) await c.put(dev, name, bodies[name], stamps[name]);

    // Flip one bit in the body of the big object on its first primary.
    const bad = c.placement(big).primaries[0];
    const file = join(c.hashDir(bad, big), `${stamps[big]}.data`);
    const bytes = await readFile(file);
    bytes[123_456] ^= 0x10;
    await writeFile(file, bytes);
    // Tear the footer of the small object on its second primary.
    const torn = c.placement(small).primaries[1];
    const smallFile = join(c.hashDir(torn, small), `${stamps[small]}.data`);
    await truncate(smallFile, (await stat(smallFile)).size - 3);

    const node = c.nodeOf(bad).node!;
    const audit = await node.workers.auditor.runOnce();
    t.is(audit.quarantined, torn.device === bad.device ? 2 : 1);
    t.true(audit.checked >= 1);
    t.true(audit.bytes >= 300_000);
    t.deepEqual(await c.files(bad, big), [], 'moved out of the object tree');
    const qdir = join(c.nodeOf(bad).config.devicesDir, bad.device, 'quarantined', 'objects', hashOfName(big));
    t.deepEqual(await readdir(qdir), [`${stamps[big]}.data`]);
    if (torn.device !== bad.device) t.is((await c.nodeOf(torn).node!.workers.auditor.runOnce()).quarantined, 1);
    t.deepEqual(await c.files(torn, small), []);

    await c.replicateAll();
    for (const name of [big, small]) {
      for (const dev of c.placement(name).primaries) {
        t.deepEqual(await c.files(dev, name), [`${stamps[name]}.data`], `${name} back on ${dev.device}`);
        t.deepEqual((await c.readVersion(dev, name, `${stamps[name]}.data`)).subarray(0, bodies[name].length), bodies[name]);
      }
    }
    t.is((await node.workers.auditor.runOnce()).quarantined, 0, 'the restored copy is good');
  }),
);

test(
  'a replicator never spreads a corrupt copy: the peer refuses a body that does not match its checksum',
  withRepairCluster({}, async (t, c) => {
    const name = '/AUTH_probe/bucket/rotten';
    const { primaries } = c.placement(name);
    const ts = tsAgo(5);
    await c.put(primaries[0], name, randomBytes(100_000), ts);
    const file = join(c.hashDir(primaries[0], name), `${ts}.data`);
    const bytes = await readFile(file);
    bytes[10] ^= 1;
    await writeFile(file, bytes);
    const stats = await c.nodeOf(primaries[0]).node!.workers.replicator.runOnce();
    t.is(stats.dataPushed, 0);
    t.true(stats.failures >= 2);
    for (const dev of primaries.slice(1)) t.deepEqual(await c.files(dev, name), []);
  }),
);

test(
  'the auditor reads at its configured rate (it frees each chunk it hashed, which must not hide its length from the rate)',
  withRepairCluster({ auditorBytesPerSec: 4 * 1024 * 1024 }, async (t, c) => {
    const name = '/AUTH_probe/bucket/large';
    const [dev] = c.placement(name).primaries;
    await c.put(dev, name, randomBytes(8 * 1024 * 1024), tsAgo(5));
    const node = c.nodeOf(dev).node!;
    const started = performance.now();
    const audit = await node.workers.auditor.runOnce();
    const ms = performance.now() - started;
    t.is(audit.quarantined, 0);
    t.true(audit.bytes >= 8 * 1024 * 1024, `${audit.bytes} bytes read`);
    // The bucket starts with one second's worth; everything past that waits for it.
    const rate = 4 * 1024 * 1024;
    t.true(ms >= ((audit.bytes - rate) / rate) * 1000 * 0.9, `${audit.bytes} bytes in ${Math.round(ms)} ms`);
  }),
);

test(
  'the auditor walks at most its configured hash dirs a second, tombstones counted like data files',
  withRepairCluster({ auditorHashDirsPerSec: 20 }, async (t, c) => {
    const dev = c.placement('/AUTH_probe/bucket/t-0').primaries[0];
    const names = Array.from({ length: 70 }, (_, i) => `/AUTH_probe/bucket/t-${i}`);
    for (const [i, name] of names.entries()) {
      if (i < 5) await c.put(dev, name, randomBytes(1000), tsAgo(9));
      else await c.del(dev, name, tsAgo(9));
    }
    const node = c.nodeOf(dev).node!;
    const held = (await node.workers.auditor.runOnce()).hashDirs;
    t.true(held >= 70, `${held} hash dirs on the node`);
    const started = performance.now();
    const audit = await node.workers.auditor.runOnce();
    const ms = performance.now() - started;
    t.like(audit, { hashDirs: held, quarantined: 0 });
    t.true(audit.checked >= 5);
    // The bucket starts with one second's worth (20), and is taken from a quarter second's worth (5) at a time.
    const waited = Math.floor(held / 5) * 5 - 20;
    t.true(ms >= (waited / 20) * 1000 * 0.9, `${held} hash dirs in ${Math.round(ms)} ms`);
  }),
);
