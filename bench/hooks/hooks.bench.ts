/**
 * bench/hooks: what compute hooks cost and how fast events flow. An in-process cluster (replica-3 on 4
 * nodes, fsync off so the disk does not drown the difference) with the AWS SDK as the client:
 *
 * - PUT and GET of 64 KiB and 4 MiB objects, each with no hook and through the pass-through hook (a
 *   transforming PUT hook; a GET binding), concurrency 8: p50/p99 latency and MiB/s;
 * - event delivery: 2,000 small PUTs at concurrency 16 into a bucket notifying a local webhook receiver:
 *   events/s end to end, and the lag from each PUT's answer to its event's arrival (p50/p99).
 *
 * Prints one JSON line.   node dist/bench/hooks/hooks.bench.js [--quick]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { adminRequest } from '../../src/cli/admin-client.js';
import { prepareLocalCluster } from '../../src/cli/local-cluster.js';
import { startProxy } from '../../src/cli/proxy-root.js';
import { loadNodeConfig, loadProxyConfig } from '../../src/common/config.js';
import { startStorageNode } from '../../storage-nodes/server.js';
import { freePorts } from '../../test/helpers/cluster.js';
import { percentile, round } from '../lib/stats.js';

const quick = process.argv.includes('--quick');
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-bench-hooks-'));
  const arrivals = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      for (const r of JSON.parse(Buffer.concat(chunks).toString()).Records ?? []) if (!arrivals.has(r.s3.object.key)) arrivals.set(r.s3.object.key, now);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const [port, ...nodePorts] = await freePorts(5);
  const layout = prepareLocalCluster(
    dir,
    { port, nodes: 4, nodePorts, policies: [{ index: 0, name: 'replica-3' }], defaultPolicy: 'replica-3', partPower: 8, seed: 3 },
    {
      fsync: false,
      workers: { replicatorIntervalSec: 0, listingReplicatorIntervalSec: 0, updaterIntervalSec: 0, reconstructorIntervalSec: 0, auditorIntervalSec: 0, expirerIntervalSec: 0 },
      events: { webhooks: { sink: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` } }, pollIntervalMs: 20 },
    },
  );
  const nodes = await Promise.all(layout.nodeConfigFiles.map((f) => startStorageNode(loadNodeConfig(f), { log: () => {} })));
  const proxy = await startProxy(loadProxyConfig(layout.proxyConfigFile), { log: () => {} });
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: layout.accessKey, secretAccessKey: layout.secretKey }, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const target = { endpoint, accessKey: layout.accessKey, secretKey: layout.secretKey, region: 'us-east-1' };
  const hooksDir = new URL('../../hooks/', import.meta.url);
  await adminRequest(target, 'PUT', 'hooks/passthrough', {
    manifest: JSON.parse(readFileSync(new URL('passthrough.json', hooksDir), 'utf8')),
    module: readFileSync(new URL('passthrough.wasm', hooksDir)).toString('base64'),
  });
  for (const b of ['plain', 'hooked', 'events']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await adminRequest(target, 'POST', 'buckets/hooked/hooks', { hook: 'passthrough', on: 'put' });
  await adminRequest(target, 'POST', 'buckets/hooked/hooks', { hook: 'passthrough', on: 'get' });

  async function load(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<{ p50: number; p99: number; seconds: number }> {
    const lat: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          const t0 = performance.now();
          await op(i);
          lat.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    lat.sort((a, b) => a - b);
    return { p50: round(percentile(lat, 50)!), p99: round(percentile(lat, 99)!), seconds };
  }

  const results: Record<string, unknown> = {};
  for (const size of [64 * 1024, 4 * MiB]) {
    const count = size > MiB ? (quick ? 16 : 64) : quick ? 100 : 400;
    const body = Buffer.alloc(size, 7);
    for (const bucket of ['plain', 'hooked']) {
      const put = await load(count, 8, async (i) => {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `o${i}`, Body: body }));
      });
      const get = await load(count, 8, async (i) => {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `o${i}` }));
        await r.Body!.transformToByteArray();
      });
      const label = `${size >= MiB ? `${size / MiB}MiB` : `${size / 1024}KiB`}_${bucket === 'plain' ? 'noHook' : 'passthrough'}`;
      results[label] = {
        putP50Ms: put.p50,
        putP99Ms: put.p99,
        putMiBps: round((count * size) / MiB / put.seconds),
        getP50Ms: get.p50,
        getP99Ms: get.p99,
        getMiBps: round((count * size) / MiB / get.seconds),
      };
    }
  }

  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'events',
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: 'arn:arca:sqs::sink:webhook', Events: ['s3:ObjectCreated:*'] }] },
    }),
  );
  const n = quick ? 500 : 2000;
  const acked = new Map<string, number>();
  const start = performance.now();
  await load(n, 16, async (i) => {
    await s3.send(new PutObjectCommand({ Bucket: 'events', Key: `e${i}`, Body: 'x' }));
    acked.set(`e${i}`, performance.now());
  });
  const writeSeconds = (performance.now() - start) / 1000;
  for (const until = Date.now() + 120_000; arrivals.size < n && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
  const last = Math.max(...arrivals.values());
  const lags = [...acked].map(([k, t]) => (arrivals.get(k) ?? Number.NaN) - t).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  results.events = {
    events: n,
    delivered: arrivals.size,
    putsPerSec: round(n / writeSeconds),
    eventsPerSec: round(arrivals.size / ((last - start) / 1000)),
    lagP50Ms: round(percentile(lags, 50)!),
    lagP99Ms: round(percentile(lags, 99)!),
  };
  process.stdout.write(`${JSON.stringify({ bench: 'hooks', quick, cluster: 'in-process replica-3 on 4 nodes, fsync off', concurrency: 8, ...results })}\n`);
  s3.destroy();
  await proxy.close();
  await Promise.all(nodes.map((x) => x.close()));
  receiver.close();
  await rm(dir, { recursive: true, force: true });
}

await main();
