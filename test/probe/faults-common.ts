/**
 * What the fault tests share: a model of what each object should be (its bytes, or deleted), requests that
 * record their outcome and latency instead of throwing, and the end-of-test checks — every object byte for
 * byte through the proxy, listings through the proxy and on every listing replica, and placement on disk
 * (each object's newest version on exactly its primaries, EC archive i on primary i, nothing anywhere else).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ExecutionContext } from 'ava';
import { bodyBytes, type ProcessCluster } from './process-cluster.js';

/** The root user's account: buckets made with the cluster's root keys live in it. */
export const account = 'root';

/** An S3 client for a process cluster allowing `sockets` requests at once. */
export function s3Client(cluster: ProcessCluster, sockets = 64, timeoutMs = 60_000): S3Client {
  return cluster.s3({
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: sockets }), requestTimeout: timeoutMs, connectionTimeout: 5000 }),
  });
}

/** The policies of the fault probes' clusters: replica-3 (index 0) and ec-4+2 (index 1). */
export const replicaAndEc = [
  { index: 0, name: 'replica-3' },
  { index: 1, name: 'ec-4+2' },
];

/** CreateBucket, with the bucket's storage policy when given (`x-arca-storage-policy`). */
export async function createBucket(s3: S3Client, bucket: string, policy?: string): Promise<void> {
  const cmd = new CreateBucketCommand({ Bucket: bucket });
  if (policy) {
    cmd.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-arca-storage-policy'] = policy;
        return next(args);
      },
      { step: 'build' },
    );
  }
  await s3.send(cmd);
}

/** What an object should be: its bytes, or undefined once deleted. */
export interface Wanted {
  bucket: string;
  key: string;
  policyIndex: number;
  body: Buffer | undefined;
}

/** The objects a test wrote, by `bucket/key`. */
export class Model {
  readonly objects = new Map<string, Wanted>();

  set(bucket: string, key: string, policyIndex: number, body: Buffer | undefined): void {
    this.objects.set(`${bucket}/${key}`, { bucket, key, policyIndex, body });
  }

  get(bucket: string, key: string): Wanted | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }

  live(bucket: string): string[] {
    return [...this.objects.values()].filter((w) => w.bucket === bucket && w.body !== undefined).map((w) => w.key).sort();
  }
}

export interface Outcome {
  ok: boolean;
  status?: number;
  error?: string;
  ms: number;
}

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  const start = performance.now();
  try {
    await fn();
    return { ok: true, status: 200, ms: performance.now() - start };
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    return { ok: false, status: e.$metadata?.httpStatusCode, error: `${e.name}: ${e.message}`, ms: performance.now() - start };
  }
}

export function put(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<Outcome> {
  return outcome(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
}

export function del(s3: S3Client, bucket: string, key: string): Promise<Outcome> {
  return outcome(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
}

/** GET of an object: its bytes, undefined for NoSuchKey; any other failure throws. */
export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await bodyBytes(r.Body);
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** Every key of a bucket through ListObjectsV2, all pages. */
export async function listKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, MaxKeys: 1000 }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Runs `fn` over `items`, `limit` at a time. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads every object of the model through the proxy: live ones byte for byte, deleted ones NoSuchKey. */
export async function checkObjects(t: ExecutionContext, s3: S3Client, model: Model, what: string): Promise<void> {
  const wrong: string[] = [];
  await pool([...model.objects.values()], 16, async (w) => {
    let got: Buffer | undefined;
    try {
      got = await getBytes(s3, w.bucket, w.key);
    } catch (err) {
      wrong.push(`${w.bucket}/${w.key}: ${(err as Error).name} ${(err as Error).message}`);
      return;
    }
    if (w.body === undefined && got !== undefined) wrong.push(`${w.bucket}/${w.key}: deleted, but GET answered ${got.length} bytes`);
    else if (w.body !== undefined && got === undefined) wrong.push(`${w.bucket}/${w.key}: NoSuchKey`);
    else if (w.body && got && sha(w.body) !== sha(got)) wrong.push(`${w.bucket}/${w.key}: ${got.length} bytes that differ from the ${w.body.length} written`);
  });
  t.deepEqual(wrong, [], `${what}: every object reads back as written`);
}

/** ListObjectsV2 of each bucket shows exactly its live objects. */
export async function checkListings(t: ExecutionContext, s3: S3Client, model: Model, buckets: readonly string[], what: string): Promise<void> {
  for (const b of buckets) t.deepEqual(await listKeys(s3, b), model.live(b), `${what}: listing of ${b}`);
}

/** Names of the live rows of a container listing on every one of its replicas (read from the nodes). */
export async function listingReplicaRows(cluster: ProcessCluster, bucket: string): Promise<Map<string, string[] | undefined>> {
  const ring = cluster.rings().container;
  const part = ring.partition(`/${account}/${bucket}`);
  const out = new Map<string, string[] | undefined>();
  for (const dev of ring.primaries(part)) {
    const res = await fetch(`http://${dev.ip}:${dev.port}/l/${dev.device}/${part}/${account}/${bucket}`);
    out.set(dev.device, res.status === 200 ? ((await res.json()) as { entries: Array<{ name: string }> }).entries.map((e) => e.name).sort() : undefined);
  }
  return out;
}

/**
 * After repair, everything converged: every object reads back as written, sits exactly where the rings say,
 * and each bucket's listing — through S3 and on every listing replica — shows exactly its live objects.
 */
export async function checkConverged(t: ExecutionContext, cluster: ProcessCluster, s3: S3Client, model: Model, buckets: readonly string[], what: string): Promise<void> {
  await checkObjects(t, s3, model, what);
  checkPlacement(t, cluster, model, what);
  await checkListings(t, s3, model, buckets, what);
  for (const b of buckets) {
    for (const [device, rows] of await listingReplicaRows(cluster, b)) t.deepEqual(rows, model.live(b), `${what}: listing replica of ${b} on ${device}`);
  }
}

/**
 * Placement: each object's newest version sits on exactly its primaries under the ring files as they are now
 * (replicated: the same `<ts>.data` or `<ts>.ts` on each; EC: `<ts>#i#d.data` on primary i, or `<ts>.ts`),
 * and on no other device.
 */
export function checkPlacement(t: ExecutionContext, cluster: ProcessCluster, model: Model, what: string): void {
  const wrong: string[] = [];
  for (const w of model.objects.values()) {
    const name = `/${account}/${w.bucket}/${w.key}`;
    const primaries = cluster.primaries(name, w.policyIndex);
    const files = cluster.objectFiles(name, w.policyIndex);
    const extra = [...files.keys()].filter((d) => !primaries.includes(d));
    if (extra.length > 0) wrong.push(`${name}: also on ${extra.map((d) => `${d} (${files.get(d)})`).join(', ')}`);
    const versions = new Set<string>();
    for (const [i, d] of primaries.entries()) {
      const held = files.get(d) ?? [];
      if (held.length !== 1) {
        wrong.push(`${name}: primary ${i} ${d} holds [${held}]`);
        continue;
      }
      const m = /^(\d{10}\.\d{6})(?:#(\d+)#d)?\.(data|ts)$/.exec(held[0]);
      if (!m) wrong.push(`${name}: primary ${d} holds ${held[0]}`);
      else if (m[3] === 'data' && w.body === undefined) wrong.push(`${name}: deleted, but ${d} holds ${held[0]}`);
      else if (m[3] === 'ts' && w.body !== undefined) wrong.push(`${name}: live, but ${d} holds a tombstone ${held[0]}`);
      else if (m[2] !== undefined && Number(m[2]) !== i) wrong.push(`${name}: primary ${i} ${d} holds archive ${m[2]}`);
      else if (w.policyIndex !== 0 && m[3] === 'data' && m[2] === undefined) wrong.push(`${name}: ${d} holds ${held[0]}, not an archive`);
      if (m) versions.add(`${m[1]}.${m[3]}`);
    }
    if (versions.size > 1) wrong.push(`${name}: primaries disagree: ${[...versions]}`);
  }
  t.deepEqual(wrong, [], `${what}: every object on exactly its primaries`);
}

/** Fails the test with the nodes' and the proxy's logs when `fn` throws. */
export async function withLogs(t: ExecutionContext, cluster: ProcessCluster, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    for (let i = 0; i < cluster.nodeConfigs.length; i++) t.log(`node${i + 1}:\n${cluster.logs(`node${i + 1}`).slice(-3000)}`);
    t.log(`proxy:\n${cluster.logs('proxy').slice(-3000)}`);
    throw err;
  }
}
