/**
 * Event delivery under faults, with real processes (`arca node` ×4 and `arca proxy`, dist/src/cli/main.js)
 * and a real webhook receiver: the receiver down for a while, the proxy killed with SIGKILL right after a
 * burst of writes (a new proxy takes over the lease and delivers), and the storage node holding the source
 * listing replica killed during delivery (the next replica takes over from its shadow checkpoint). Every
 * event arrives at least once, the first arrivals of each key in write order, each request signed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { RingSet } from '../../src/common/ring-files.js';
import { rootAccount } from '../../src/common/identity.js';
import { prepareLocalCluster } from '../../src/cli/local-cluster.js';
import { ringPath } from '../../src/proxy/placement.js';
import { freePorts } from '../helpers/cluster.js';

const main = join(process.cwd(), 'dist/src/cli/main.js');
const secret = 'webhook-secret';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function start(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.resume();
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code} before ready`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

interface Arrival {
  key: string;
  what: string;
  sequencer: string;
}

test('every event arrives at least once, in per-key order, through a receiver outage, a proxy kill and a node kill', async (t) => {
  t.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'arca-events-'));
  const children: ChildProcess[] = [];
  let mode: 'up' | 'down' | 'slow' = 'up';
  const arrivals: Arrival[] = [];
  let tests = 0;
  let badSignatures = 0;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      if (req.headers['x-arca-signature'] !== sig || req.headers.authorization !== 'Bearer t0ken') badSignatures++;
      if (mode === 'down') {
        res.writeHead(503).end();
        return;
      }
      if (mode === 'slow') await sleep(40);
      const msg = JSON.parse(body.toString());
      if (msg.Event === 's3:TestEvent') tests++;
      for (const r of msg.Records ?? []) {
        const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
        arrivals.push({ key, what: r.eventName.startsWith('ObjectRemoved') ? 'delete' : r.s3.object.eTag, sequencer: r.s3.object.sequencer });
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  try {
    const [port, ...nodePorts] = await freePorts(5);
    const layout = prepareLocalCluster(
      dir,
      { port, nodes: 4, nodePorts, policies: [{ index: 0, name: 'replica-3' }], defaultPolicy: 'replica-3', partPower: 6, seed: 11 },
      {
        fsync: false,
        workers: { replicatorIntervalSec: 0, listingReplicatorIntervalSec: 0, updaterIntervalSec: 1, reconstructorIntervalSec: 0, auditorIntervalSec: 0, expirerIntervalSec: 0 },
        events: { webhooks: { sink: { url, secret, authHeader: 'Bearer t0ken' } }, pollIntervalMs: 50, leaseMs: 1500, retryBaseMs: 100, retryMaxMs: 400, maxRecordsPerRequest: 3 },
      },
    );
    const nodes = await Promise.all(layout.nodeConfigFiles.map((f) => start(['node', '--config', f])));
    children.push(...nodes);
    let proxy = await start(['proxy', '--config', layout.proxyConfigFile]);
    children.push(proxy);
    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: layout.accessKey, secretAccessKey: layout.secretKey } });
    await s3.send(new CreateBucketCommand({ Bucket: 'evt' }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'evt',
        NotificationConfiguration: { QueueConfigurations: [{ Id: 'all', QueueArn: 'arn:arca:sqs::sink:webhook', Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }] },
      }),
    );
    t.is(tests, 1, 'the new destination got a test event');

    // The expected events of each key, in write order.
    const expected = new Map<string, string[]>();
    const put = async (key: string, body: string) => {
      await s3.send(new PutObjectCommand({ Bucket: 'evt', Key: key, Body: body }));
      expected.set(key, [...(expected.get(key) ?? []), md5(body)]);
    };
    const del = async (key: string) => {
      await s3.send(new DeleteObjectCommand({ Bucket: 'evt', Key: key }));
      expected.set(key, [...(expected.get(key) ?? []), 'delete']);
    };

    // 1. Receiver down; a burst of writes; the proxy killed right after them; a new proxy; receiver back.
    mode = 'down';
    for (let v = 0; v < 3; v++) for (let k = 0; k < 8; k++) await put(`k ${k}`, `k${k} v${v}`);
    await del('k 0');
    await del('k 1');
    await kill(proxy);
    proxy = await start(['proxy', '--config', layout.proxyConfigFile]);
    children.push(proxy);
    await sleep(1000);
    mode = 'up';

    // 2. More writes, delivered slowly; the node holding the source listing replica killed meanwhile.
    for (let v = 0; v < 3; v++) for (let k = 8; k < 12; k++) await put(`k ${k}`, `k${k} v${v}`);
    await put('k 2', 'k2 v3');
    const waitFor = async (what: () => boolean, ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until && !what(); ) await sleep(100);
      return what();
    };
    const total = () => [...expected.values()].reduce((n, e) => n + e.length, 0);
    t.true(await waitFor(() => arrivals.length >= 20, 60_000), `${arrivals.length} events arrived after the outage`);
    mode = 'slow';
    for (let v = 4; v < 7; v++) for (let k = 2; k < 6; k++) await put(`k ${k}`, `k${k} v${v}`);
    const rings = new RingSet(layout.ringDir, [0]);
    const part = rings.container.partition(ringPath(rootAccount, 'evt'));
    const source = rings.container.primaries(part)[0];
    const victim = nodePorts.indexOf(source.port);
    await kill(nodes[victim]);
    mode = 'up';
    const firstArrivals = () => {
      const seen = new Map<string, string[]>();
      const dedup = new Set<string>();
      for (const a of arrivals) {
        const id = `${a.key}\0${a.sequencer}`;
        if (dedup.has(id)) continue;
        dedup.add(id);
        seen.set(a.key, [...(seen.get(a.key) ?? []), a.what]);
      }
      return seen;
    };
    const complete = () => [...expected].every(([k, e]) => (firstArrivals().get(k) ?? []).length >= e.length);
    t.true(await waitFor(complete, 90_000), `all ${total()} events arrive (${arrivals.length} deliveries so far)`);
    const got = firstArrivals();
    for (const [key, want] of expected) t.deepEqual(got.get(key), want, `events of ${key}, first arrivals in write order`);
    // Sequencers grow per key in the first arrivals.
    for (const key of expected.keys()) {
      const seqs = [...new Set(arrivals.filter((a) => a.key === key).map((a) => a.sequencer))];
      t.deepEqual(seqs, [...seqs].sort(), `sequencers of ${key} increase`);
    }
    t.is(badSignatures, 0, 'every request carried the auth header and a valid HMAC');
    t.log(`${total()} events, ${arrivals.length} deliveries (duplicates: ${arrivals.length - total()}); node ${victim + 1} (the source replica) killed`);
    s3.destroy();
  } finally {
    await Promise.all(children.map(kill));
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
