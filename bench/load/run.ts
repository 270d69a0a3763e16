/**
 * `runLoad`: drive one S3 workload against an endpoint for a bounded run and measure it.
 *
 * `concurrency` workers share one op counter; each takes the next op index, performs it, records its latency
 * and takes the next, until `count` ops have been issued or `durationSec` has elapsed (whichever comes first;
 * ops in flight at the deadline are finished and counted). Failures — an error status, a short GET, a reset
 * connection — are counted by label and never stop the run. See docs/benchmarks.md for every field.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ServerMeter, type ServerUsage } from '../lib/proc.js';
import { SigV4Signer, UNSIGNED_PAYLOAD } from '../lib/sigv4.js';
import { formatSize, percentile, round, Samples } from '../lib/stats.js';
import { type RepeatedBody, type Reply, S3Client, TransportError } from './client.js';

export const OP_KINDS = ['put', 'get', 'head', 'delete', 'list'] as const;
export type OpKind = (typeof OP_KINDS)[number];
export type Workload = OpKind | 'mixed';
export const WORKLOADS: readonly Workload[] = [...OP_KINDS, 'mixed'];

/** How the PUT body is signed: see docs/benchmarks.md, "Payload signing". */
export type PayloadMode = 'unsigned' | 'sha256';

/** Largest slice of the body buffer written at once; also the size of the shared random buffer. */
export const BODY_SLICE = 1024 * 1024;

export interface LoadOptions {
  /** `http://127.0.0.1:8080` (path-style requests). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Default `us-east-1`. */
  region?: string;
  bucket: string;
  /** PUT the bucket first (an existing bucket of ours is fine). Not part of the measurement. */
  createBucket?: boolean;
  workload: Workload;
  /** Object size in bytes (PUT body; the length a GET must return). */
  size: number;
  concurrency: number;
  /** Stop after this many ops (successful or not). At least one of `count` and `durationSec` is required. */
  count?: number;
  /** Stop issuing ops after this many seconds. */
  durationSec?: number;
  /** `mixed` only: relative weights per op kind; default `{get: 70, put: 30}`. */
  mix?: Partial<Record<OpKind, number>>;
  /**
   * Key space: op i addresses `${prefix}obj-${i % keys}` (`mixed`: a uniformly random index below `keys`).
   * Default `count`. `get`, `head` and `mixed` need one of them; `put` and `delete` without either use i.
   */
  keys?: number;
  /** Key prefix; `list` lists under it. Default ''. */
  prefix?: string;
  /** Server processes (their descendants included) to measure CPU and RSS of, Linux only. */
  serverPids?: readonly number[];
  /** Default `unsigned`. */
  payload?: PayloadMode;
  /** Per-request inactivity timeout; default 300000 ms. */
  timeoutMs?: number;
  /** Seed of the `mixed` op and key choice; default 1. */
  seed?: number;
}

export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface LoadResult {
  workload: Workload;
  /** Object size label, e.g. `4KiB`. */
  size: string;
  sizeBytes: number;
  concurrency: number;
  /** Successful ops. */
  ops: number;
  /** Failed ops by label: an HTTP status (`"404"`), `bad-length`, or a transport code (`ECONNRESET`, `TIMEOUT`). */
  errors: Record<string, number>;
  /** Wall time from the first op issued to the last op finished. */
  seconds: number;
  opsPerSec: number;
  /** Object payload moved by successful PUTs and GETs, MiB (2^20 bytes) per second. */
  mibPerSec: number;
  /** Latency of successful ops, ms. */
  latencyMs: LatencySummary;
  /** Successful ops per kind (`mixed` only). */
  opsByKind?: Partial<Record<OpKind, number>>;
  /** Server CPU ms per successful op (`serverPids` given). */
  serverCpuMsPerOp?: number | null;
  /** Highest sum of the server processes' RSS sampled during the run, MiB (`serverPids` given). */
  serverPeakRssMiB?: number;
  /** Sum of the server processes' VmHWM (lifetime peaks) at the end, MiB (`serverPids` given). */
  serverHwmMiB?: number;
  /** Sum of the server processes' Pss at the end, MiB: shared pages of forked workers counted once. */
  serverPssMiB?: number;
  /** Per server process (`serverPids` given): user and system CPU ms and minor page faults per successful op. */
  serverProcesses?: Array<{ pid: number; userMsPerOp: number | null; sysMsPerOp: number | null; minorFaultsPerOp: number | null }>;
  /** This process's CPU ms per successful op (signing, HTTP, the /proc sampler). */
  clientCpuMsPerOp: number | null;
  /** The first failure, for diagnosis. */
  firstError?: string;
}

/** An S3 client signing with SigV4 for `target`, with at most `maxSockets` connections. */
export function signedClient(target: Pick<LoadOptions, 'endpoint' | 'accessKey' | 'secretKey' | 'region'>, maxSockets: number, timeoutMs: number): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    signer: new SigV4Signer({ accessKeyId: target.accessKey, secretAccessKey: target.secretKey, region: target.region }),
    maxSockets,
    timeoutMs,
  });
}

/** Runs one bounded workload; resolves when every issued op has finished. Throws only on bad options or setup. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const plan = validate(options);
  const client = signedClient(options, options.concurrency, options.timeoutMs ?? 300_000);
  try {
    if (options.createBucket) await createBucket(client, options.bucket);
    return await measure(client, options, plan);
  } finally {
    client.close();
  }
}

interface Plan {
  keys: number;
  weights: Array<[OpKind, number]>;
  totalWeight: number;
  body: RepeatedBody;
}

function validate(o: LoadOptions): Plan {
  if (!WORKLOADS.includes(o.workload)) throw new Error(`workload must be one of ${WORKLOADS.join('|')}`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new Error('concurrency must be a positive integer');
  if (!Number.isInteger(o.size) || o.size < 0) throw new Error('size must be a non-negative integer');
  if (o.count === undefined && o.durationSec === undefined) throw new Error('a run needs count or durationSec: never unbounded');
  if (o.count !== undefined && !(Number.isInteger(o.count) && o.count >= 0)) throw new Error('count must be a non-negative integer');
  if (o.durationSec !== undefined && !(o.durationSec > 0)) throw new Error('durationSec must be positive');
  const keys = o.keys ?? o.count ?? (o.workload === 'put' || o.workload === 'delete' ? Number.POSITIVE_INFINITY : undefined);
  if (keys === undefined) throw new Error(`${o.workload} without count needs keys (how many objects exist)`);
  if (!(keys >= 1)) throw new Error('keys must be at least 1');
  const mix = o.workload === 'mixed' ? (o.mix ?? { get: 70, put: 30 }) : { [o.workload]: 1 };
  const weights = Object.entries(mix).filter(([, w]) => w !== undefined && w > 0) as Array<[OpKind, number]>;
  for (const [k] of weights) if (!(OP_KINDS as readonly string[]).includes(k)) throw new Error(`unknown op '${k}' in mix`);
  if (weights.length === 0) throw new Error('mix has no positive weight');
  return { keys, weights, totalWeight: weights.reduce((s, [, w]) => s + w, 0), body: makeBody(o.size, o.payload ?? 'unsigned') };
}

/** One random buffer of min(size, 1 MiB), shared by every PUT; its SHA-256 (if asked) computed once here. */
function makeBody(size: number, payload: PayloadMode): RepeatedBody {
  const chunk = randomBytes(Math.max(1, Math.min(size, BODY_SLICE)));
  if (payload === 'unsigned') return { chunk, size, payloadHash: UNSIGNED_PAYLOAD };
  const hash = createHash('sha256');
  for (let sent = 0; sent < size; sent += chunk.length) hash.update(chunk.subarray(0, Math.min(chunk.length, size - sent)));
  return { chunk, size, payloadHash: hash.digest('hex') };
}

async function createBucket(client: S3Client, bucket: string): Promise<void> {
  const r = await client.request({ method: 'PUT', path: `/${bucket}`, collect: true });
  if (r.status === 200) return;
  // 409 BucketAlreadyOwnedByYou is success; BucketAlreadyExists is too if the bucket answers to us.
  if (r.status === 409 && (await client.request({ method: 'HEAD', path: `/${bucket}` })).status === 200) return;
  throw new Error(`create bucket ${bucket}: HTTP ${r.status} ${r.body?.toString().slice(0, 300) ?? ''}`);
}

/** Outcome of one op: bytes of object payload moved, or a failure label. */
type Outcome = { ok: true; bytes: number } | { ok: false; label: string; detail: string };

async function measure(client: S3Client, o: LoadOptions, plan: Plan): Promise<LoadResult> {
  const prefix = o.prefix ?? '';
  const limit = o.count ?? Number.POSITIVE_INFINITY;
  const latencies = new Samples();
  const errors: Record<string, number> = {};
  const byKind: Partial<Record<OpKind, number>> = {};
  let firstError: string | undefined;
  let issued = 0;
  let ok = 0;
  let bytes = 0;
  const random = xorshift(o.seed ?? 1);
  const pickKind = (): OpKind => {
    if (plan.weights.length === 1) return plan.weights[0][0];
    let r = random() * plan.totalWeight;
    for (const [kind, w] of plan.weights) if ((r -= w) < 0) return kind;
    return plan.weights[plan.weights.length - 1][0];
  };
  const keyOf = (i: number): string =>
    `${prefix}obj-${o.workload === 'mixed' ? Math.floor(random() * plan.keys) : Number.isFinite(plan.keys) ? i % plan.keys : i}`;

  const meter = o.serverPids && o.serverPids.length > 0 ? new ServerMeter(o.serverPids) : undefined;
  meter?.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = o.durationSec === undefined ? Number.POSITIVE_INFINITY : t0 + o.durationSec * 1000;

  const worker = async (): Promise<void> => {
    while (issued < limit && performance.now() < deadline) {
      const i = issued++;
      const kind = pickKind();
      const key = keyOf(i);
      const start = performance.now();
      let outcome: Outcome;
      try {
        outcome = check(kind, o.size, await perform(client, kind, o.bucket, key, prefix, plan.body));
      } catch (e) {
        const code = e instanceof TransportError ? e.code : 'ERROR';
        outcome = { ok: false, label: code, detail: (e as Error).message };
      }
      if (outcome.ok) {
        latencies.push(performance.now() - start);
        ok++;
        bytes += outcome.bytes;
        byKind[kind] = (byKind[kind] ?? 0) + 1;
      } else {
        errors[outcome.label] = (errors[outcome.label] ?? 0) + 1;
        firstError ??= `${kind} ${key}: ${outcome.label} ${outcome.detail}`.trim();
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));

  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server: ServerUsage | undefined = meter?.stop();
  const sorted = latencies.sorted();
  const perOp = (ms: number) => (ok > 0 ? round(ms / ok, 3) : null);
  const p = (q: number) => {
    const v = percentile(sorted, q);
    return v === undefined ? null : round(v, 3);
  };
  const result: LoadResult = {
    workload: o.workload,
    size: formatSize(o.size),
    sizeBytes: o.size,
    concurrency: o.concurrency,
    ops: ok,
    errors,
    seconds: round(seconds, 3),
    opsPerSec: round(ok / seconds),
    mibPerSec: round(bytes / 1048576 / seconds),
    latencyMs: { p50: p(50), p90: p(90), p99: p(99), max: p(100) },
    clientCpuMsPerOp: perOp((cpu.user + cpu.system) / 1000),
  };
  if (o.workload === 'mixed') result.opsByKind = byKind;
  if (server) {
    result.serverCpuMsPerOp = perOp(server.cpuMs);
    result.serverPeakRssMiB = round(server.peakRssMiB, 1);
    result.serverHwmMiB = round(server.hwmMiB, 1);
    result.serverPssMiB = round(server.pssMiB, 1);
    result.serverProcesses = server.byProcess.map((p) => ({
      pid: p.pid,
      userMsPerOp: perOp(p.userMs),
      sysMsPerOp: perOp(p.sysMs),
      minorFaultsPerOp: perOp(p.minorFaults),
    }));
  }
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

function perform(client: S3Client, kind: OpKind, bucket: string, key: string, prefix: string, body: RepeatedBody): Promise<Reply> {
  switch (kind) {
    case 'put':
      return client.request({ method: 'PUT', path: `/${bucket}/${key}`, body });
    case 'get':
      return client.request({ method: 'GET', path: `/${bucket}/${key}` });
    case 'head':
      return client.request({ method: 'HEAD', path: `/${bucket}/${key}` });
    case 'delete':
      return client.request({ method: 'DELETE', path: `/${bucket}/${key}` });
    case 'list': {
      const query: Array<[string, string]> = [
        ['list-type', '2'],
        ['max-keys', '1000'],
      ];
      if (prefix) query.push(['prefix', prefix]);
      return client.request({ method: 'GET', path: `/${bucket}`, query, collect: true });
    }
    default:
      throw new Error(`unhandled op ${kind satisfies never}`);
  }
}

/** Success criteria per op kind; a GET must return exactly `size` bytes, a HEAD must announce them. */
function check(kind: OpKind, size: number, r: Reply): Outcome {
  const want = kind === 'delete' ? [200, 204] : [200];
  if (!want.includes(r.status)) return { ok: false, label: String(r.status), detail: errorCode(r) };
  if (kind === 'get') {
    if (r.bytes !== size) return { ok: false, label: 'bad-length', detail: `got ${r.bytes} bytes, want ${size}` };
    return { ok: true, bytes: r.bytes };
  }
  if (kind === 'head' && Number(r.headers['content-length']) !== size) {
    return { ok: false, label: 'bad-length', detail: `content-length ${r.headers['content-length']}, want ${size}` };
  }
  if (kind === 'list' && !r.body?.includes('<ListBucketResult')) {
    return { ok: false, label: 'bad-listing', detail: r.body?.subarray(0, 200).toString() ?? '' };
  }
  return { ok: true, bytes: kind === 'put' ? size : 0 };
}

/** `<Code>NoSuchKey</Code>` → `NoSuchKey`, else the start of the body. */
function errorCode(r: Reply): string {
  const text = r.body?.subarray(0, 2048).toString() ?? '';
  return /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? text.slice(0, 200);
}

/** xorshift32 in [0, 1): deterministic, allocation-free. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
