/**
 * `arca cluster` as real processes, with the worker intervals it runs by default: a device directory wiped
 * while the cluster runs (its contents removed, the directory kept — a replaced, empty disk) is noticed by its
 * node, made usable again, and refilled by the repair workers within two minutes: every object it is a
 * primary of back on it (the same version file; for ec-4+2 the same fragment archive), its listings back too. `arca status` sees the
 * cluster, the device and the repair.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import type { ClusterStatus } from '../../src/admin/cluster-status.js';
import { RingSet } from '../../src/common/ring-files.js';
import { runCommand } from '../helpers/clients.js';
import { consecutiveFreePorts } from '../helpers/cluster.js';
import { createBucket } from './faults-common.js';
import { arcaMain, eventually } from './process-cluster.js';

function startArcaCluster(dataDir: string, port: number): { child: ChildProcess; ready: Promise<void>; output: () => string } {
  const child = spawn(process.execPath, [arcaMain, 'cluster', '--data', dataDir, '--port', String(port), '--nodes', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready: /m.test(out)) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`arca cluster exited ${code}: ${out}`)));
  });
  return { child, ready, output: () => out };
}

function hashDirFiles(dataDir: string, device: string, policy: number, part: number, name: string): string[] {
  const hash = createHash('md5').update(name).digest('hex');
  const dir = join(dataDir, 'devices', device, policy === 0 ? 'objects' : `objects-${policy}`, String(part), hash.slice(-3), hash);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

test('a device wiped under a running arca cluster is refilled within two minutes; arca status shows it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'arca-wipe-'));
  const port = await consecutiveFreePorts(5);
  const cluster = startArcaCluster(dataDir, port);
  const status = async (...args: string[]) => runCommand(process.execPath, [arcaMain, 'status', '--data', dataDir, ...args], {});
  try {
    await cluster.ready;
    const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'));
    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey } });
    // The local cluster offers replica-3 (the default, policy 0) and ec-4+2 (policy 1, two devices per node).
    await s3.send(new CreateBucketCommand({ Bucket: 'wipe' }));
    await createBucket(s3, 'wipe-ec', 'ec-4+2');
    const keys: string[] = [];
    for (let i = 0; i < 120; i++) {
      keys.push(`k${i}`);
      await s3.send(new PutObjectCommand({ Bucket: 'wipe', Key: `k${i}`, Body: randomBytes((i * 7919) % 200_000) }));
    }
    for (let i = 0; i < 30; i++) await s3.send(new PutObjectCommand({ Bucket: 'wipe-ec', Key: `e${i}`, Body: randomBytes(1 + ((i * 104_729) % 3_000_000)) }));
    const before = JSON.parse((await status('--json')).stdout) as ClusterStatus;
    t.like(before.totals, { nodes: 4, nodesUp: 4, devices: 8, devicesMounted: 8, partitionsOutOfPlace: 0, quarantined: 0 });

    const rings = new RingSet(join(dataDir, 'rings'), [0, 1]);
    const victim = 'd2';
    // What the victim holds of each object it is a primary of: its replica, or its fragment archive.
    const mine = [
      ...keys.map((k) => ({ name: `/root/wipe/${k}`, policy: 0 })),
      ...Array.from({ length: 30 }, (_, i) => ({ name: `/root/wipe-ec/e${i}`, policy: 1 })),
    ]
      .filter(({ name, policy }) => rings.object(policy).primaries(rings.object(policy).partition(name)).some((d) => d.device === victim))
      .map(({ name, policy }) => {
        const part = rings.object(policy).partition(name);
        return { name, policy, part, want: hashDirFiles(dataDir, victim, policy, part, name) };
      });
    t.true(mine.filter((m) => m.policy === 0).length > 20, `${mine.length} objects on ${victim}`);
    t.true(mine.some((m) => m.policy === 1), `fragment archives on ${victim}`);
    for (const m of mine) t.true(m.want.length > 0, m.name);
    const listingPart = rings.container.partition('/root/wipe');
    const listingOnVictim = rings.container.primaries(listingPart).some((d) => d.device === victim);

    const devicePath = join(dataDir, 'devices', victim);
    // The node may write into the device while it is wiped (repair of other devices' data): rm retries.
    for (let attempt = 1; ; attempt++) {
      try {
        for (const entry of readdirSync(devicePath)) rmSync(join(devicePath, entry), { recursive: true, force: true });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt === 20) throw err;
      }
    }
    const wipedAt = Date.now();
    t.true(mine.filter((m) => hashDirFiles(dataDir, victim, m.policy, m.part, m.name).length === 0).length > mine.length / 2, 'the wipe removed them');

    const victimPort = JSON.parse(readFileSync(join(dataDir, 'etc', 'node2.json'), 'utf8')).port as number;
    const listingRows = async (): Promise<string[]> => {
      const res = await fetch(`http://127.0.0.1:${victimPort}/l/${victim}/${listingPart}/root/wipe`);
      return res.status === 200 ? ((await res.json()) as { entries: Array<{ name: string }> }).entries.map((e) => e.name) : [];
    };
    let sawAwaiting = false;
    const back = await eventually(async () => {
      const s = JSON.parse((await status('--json')).stdout) as ClusterStatus;
      if (s.totals.awaiting.objects > 0) sawAwaiting = true;
      if (mine.some((m) => hashDirFiles(dataDir, victim, m.policy, m.part, m.name).join() !== m.want.join())) return false;
      return !listingOnVictim || (await listingRows()).length === keys.length;
    }, 120_000, 2000);
    const took = Date.now() - wipedAt;
    for (const m of mine.filter((m) => hashDirFiles(dataDir, victim, m.policy, m.part, m.name).join() !== m.want.join())) {
      t.log(`not back: ${m.name} (policy ${m.policy}): want ${m.want.join()}, have ${hashDirFiles(dataDir, victim, m.policy, m.part, m.name).join()}`);
    }
    t.true(back, `refilled within two minutes (${took} ms)`);
    t.log(`${mine.length} replicas and archives${listingOnVictim ? ' and the bucket listing' : ''} back on ${victim} after ${took} ms`);
    for (const m of mine) t.deepEqual(hashDirFiles(dataDir, victim, m.policy, m.part, m.name), m.want, m.name);
    if (listingOnVictim) t.deepEqual((await listingRows()).sort(), [...keys].sort());
    t.true(sawAwaiting, 'the status showed the objects the repair pushed');

    const text = await status();
    t.is(text.code, 0, text.stderr);
    t.regex(text.stdout, /4 of 4 nodes up, 8 of 8 devices mounted/);
    t.regex(text.stdout, /127\.0\.0\.1:\d+ +d2 +yes/);
    t.regex(text.stdout, /replicator/);
    const watched = await status('--watch', '--interval', '0.2', '--count', '2');
    t.is(watched.code, 0, watched.stderr);
    t.is(watched.stdout.match(/^Arca cluster at /gm)?.length, 2);
  } catch (err) {
    t.log(cluster.output().slice(-5000));
    throw err;
  } finally {
    await new Promise<void>((resolve) => {
      if (cluster.child.exitCode !== null) return resolve();
      cluster.child.once('exit', () => resolve());
      cluster.child.kill('SIGTERM');
    });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
