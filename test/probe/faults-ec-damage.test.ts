/**
 * Fault test 2 (real processes): for each of several erasure-coded objects (ec-4+2; sizes from one byte to
 * several segments), one device's files are deleted and another device's archive has bits flipped in its
 * body — a data archive for some objects, a parity archive for others. GET still serves the right bytes
 * (the node checks each fragment before sending it and cuts the answer at a bad one; the proxy decodes from
 * the others). After one pass of the auditor (it quarantines the corrupt archive) and of the reconstructor
 * (it rebuilds both) on every node — run through each node's `POST /recon/run` — every archive is back on
 * its primary with its own bytes, and a second pass finds nothing to do.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { account, checkObjects, checkPlacement, createBucket, getBytes, Model, put, s3Client, withLogs } from './faults-common.js';
import { ProcessCluster } from './process-cluster.js';

const EC = 0;

/** The body of a `.data` file (`body || meta || u32le(metaLength) || magic`). */
function bodyOf(file: Buffer): Buffer {
  const metaLength = file.readUInt32LE(file.length - 12);
  return file.subarray(0, file.length - 12 - metaLength);
}

test('EC: a deleted archive and a corrupt one are read around, then quarantined and rebuilt on their primaries', async (t) => {
  const cluster = await ProcessCluster.start({ nodes: 4, policies: [{ index: EC, name: 'ec-4+2' }] });
  const s3 = s3Client(cluster);
  try {
    await withLogs(t, cluster, async () => {
      await createBucket(s3, 'ecd');
      const model = new Model();
      const sizes = [1, 4097, 100_000, 1024 * 1024 + 5, 3 * 1024 * 1024 - 7];
      for (const [i, size] of sizes.entries()) {
        const body = randomBytes(size);
        t.true((await put(s3, 'ecd', `o${i}`, body)).ok);
        model.set('ecd', `o${i}`, EC, body);
      }
      const deviceDir = (device: string) => join(cluster.nodeConfigs.find((c) => c.devices.includes(device))!.devicesDir, device);
      const damaged: Array<{ name: string; device: string; index: number; file: string; original: Buffer }> = [];
      for (const [i] of sizes.entries()) {
        const name = `/${account}/ecd/o${i}`;
        const primaries = cluster.primaries(name, EC);
        const files = cluster.objectFiles(name, EC);
        const part = cluster.rings().object(EC).partition(name);
        const hashDirOf = (device: string) => {
          const objects = join(deviceDir(device), 'objects', String(part));
          for (const suffix of readdirSync(objects)) {
            for (const hash of readdirSync(join(objects, suffix))) if (readdirSync(join(objects, suffix, hash)).some((f) => files.get(device)?.includes(f))) return join(objects, suffix, hash);
          }
          throw new Error(`no hash dir of ${name} on ${device}`);
        };
        // Deleted: a data archive for even objects, a parity archive for odd ones; corrupt: two places on.
        const gone = i % 2 === 0 ? i % 4 : 4 + (i % 2);
        const bad = (gone + 2) % 6;
        for (const [index, kind] of [
          [gone, 'deleted'],
          [bad, 'corrupt'],
        ] as const) {
          const device = primaries[index];
          const dir = hashDirOf(device);
          const [file] = files.get(device)!;
          t.regex(file, new RegExp(`#${index}#d\\.data$`));
          const original = readFileSync(join(dir, file));
          damaged.push({ name, device, index, file, original });
          if (kind === 'deleted') rmSync(dir, { recursive: true });
          else {
            const bytes = Buffer.from(original);
            const body = bodyOf(bytes);
            for (let k = 0; k < 8; k++) body[Math.floor((body.length * (k + 1)) / 9)] ^= 0x5a;
            writeFileSync(join(dir, file), bytes);
            t.is(statSync(join(dir, file)).size, original.length);
          }
        }
      }
      await checkObjects(t, s3, model, 'with an archive deleted and one corrupt');

      const audit = await cluster.runEverywhere('auditor');
      t.is(audit.quarantined, sizes.length, 'each corrupt archive quarantined');
      const rebuild = await cluster.runEverywhere('reconstructor');
      t.like(rebuild, { rebuilt: 2 * sizes.length, failures: 0 });

      checkPlacement(t, cluster, model, 'after the auditor and the reconstructor');
      for (const d of damaged) {
        const files = cluster.objectFiles(d.name, EC).get(d.device) ?? [];
        t.deepEqual(files, [d.file], `${d.name}: archive ${d.index} back on ${d.device}`);
        const dirOf = join(deviceDir(d.device), 'objects');
        const found = findFile(dirOf, d.file);
        t.true(found !== undefined && bodyOf(readFileSync(found)).equals(bodyOf(d.original)), `${d.name}: archive ${d.index} has its own bytes again`);
      }
      for (const [i] of sizes.entries()) t.true((await getBytes(s3, 'ecd', `o${i}`))?.equals(model.get('ecd', `o${i}`)!.body!));
      const quarantined = (await Promise.all(cluster.nodeConfigs.map((_, i) => cluster.recon(i)))).flatMap((s) => s.devices).reduce((n, d) => n + d.quarantined, 0);
      t.is(quarantined, sizes.length, 'recon counts the quarantined files');
      t.like(await cluster.runEverywhere('auditor'), { quarantined: 0 });
      t.like(await cluster.runEverywhere('reconstructor'), { rebuilt: 0, failures: 0 });
    });
  } finally {
    s3.destroy();
    await cluster.close();
  }
});

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (entry.name === name) return p;
  }
  return undefined;
}
