/**
 * Erasure codec throughput: encode, decode with one data fragment lost, and decode with m data fragments
 * lost, for 4+2, 8+4 and 10+4 on 1 MiB segments, native (@ronomon/reed-solomon) and reference (TypeScript).
 * Segments are padded as the proxy's writer pads them (allocSegment), so native encode copies nothing;
 * `encode-copy` (10+4 only: 1 MiB is not a multiple of 10 * 8) shows the cost of a bare 1 MiB segment.
 * GB/s = 10^9 bytes of segment per second: `perCore` per CPU-second of the whole process (process.cpuUsage,
 * threadpool included), `wall` per elapsed second. Each figure is the median of REPEATS timed runs. A
 * memcpy baseline measured in the same run gives the machine's speed at the time.
 *
 * Prints exactly one JSON line on stdout. Run: node dist/bench/ec/ec.bench.js [--quick]
 */
import { cpus } from 'node:os';
import { allocSegment, type CodecImpl, createCodec, type ErasureCodec } from '../../src/erasure/index.js';

const SEGMENT = 1048576;
const QUICK = process.argv.includes('--quick');
const RUN_MS = QUICK ? 100 : 400;
const REPEATS = 3;
const POLICIES: Array<[number, number]> = [
  [4, 2],
  [8, 4],
  [10, 4],
];
const TARGET = { policy: '8+4', impl: 'native', op: 'encode', minPerCore: 2 };

type Op = 'encode' | 'encode-copy' | 'decode-1' | 'decode-m';

interface Result {
  policy: string;
  impl: CodecImpl;
  op: Op;
  /** Calls in flight at once. */
  concurrency: number;
  perCore: number;
  wall: number;
  segments: number;
}

/** Runs `call` back to back (`concurrency` chains at once) for RUN_MS, REPEATS times; medians. */
async function measure(call: () => Promise<unknown>, concurrency: number): Promise<Omit<Result, 'policy' | 'impl' | 'op'>> {
  const warmUntil = Date.now() + RUN_MS / 4;
  while (Date.now() < warmUntil) await call();
  const perCore: number[] = [];
  const wall: number[] = [];
  let total = 0;
  for (let r = 0; r < REPEATS; r++) {
    let count = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const deadline = Date.now() + RUN_MS;
    const chain = async (): Promise<void> => {
      while (Date.now() < deadline) {
        await call();
        count++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, chain));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    perCore.push((count * SEGMENT) / cpuSeconds / 1e9);
    wall.push((count * SEGMENT) / seconds / 1e9);
    total += count;
  }
  return { concurrency, perCore: round(median(perCore)), wall: round(median(wall)), segments: total };
}

function segment(): Buffer {
  const out = Buffer.alloc(SEGMENT);
  let x = 0x2545f491;
  for (let i = 0; i < SEGMENT; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x, i);
  }
  return out;
}

async function runCodec(codec: ErasureCodec, impl: CodecImpl, bare: Buffer): Promise<Result[]> {
  const policy = `${codec.k}+${codec.m}`;
  const data = allocSegment(bare.length, codec.k);
  bare.copy(data);
  const fragments: Array<Buffer | undefined> = await codec.encode(data);
  const lostOne = [...fragments];
  lostOne[0] = undefined;
  const lostM = [...fragments];
  for (let i = 0; i < codec.m; i++) lostM[i] = undefined;
  const out: Result[] = [];
  const add = async (op: Op, call: () => Promise<unknown>, concurrency = 1): Promise<void> => {
    out.push({ policy, impl, op, ...(await measure(call, concurrency)) });
  };
  await add('encode', () => codec.encode(data));
  if (impl === 'native') await add('encode', () => codec.encode(data), 2);
  if (impl === 'native' && data.length !== bare.length) await add('encode-copy', () => codec.encode(bare));
  await add('decode-1', () => codec.decode(lostOne));
  await add('decode-m', () => codec.decode(lostM));
  return out;
}

function memcpyBaseline(data: Buffer): number {
  const target = Buffer.allocUnsafe(data.length);
  let count = 0;
  const cpu0 = process.cpuUsage();
  const deadline = Date.now() + RUN_MS;
  while (Date.now() < deadline) {
    for (let i = 0; i < 64; i++) data.copy(target);
    count += 64;
  }
  const cpu = process.cpuUsage(cpu0);
  return round((count * data.length) / ((cpu.user + cpu.system) / 1e6) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

async function main(): Promise<void> {
  const started = Date.now();
  const data = segment();
  const results: Result[] = [];
  const baseline = memcpyBaseline(data);
  for (const [k, m] of POLICIES) {
    for (const impl of ['native', 'reference'] as const) {
      results.push(...(await runCodec(createCodec(k, m, impl), impl, data)));
    }
  }
  const hit = results.find(
    (r) => r.policy === TARGET.policy && r.impl === TARGET.impl && r.op === TARGET.op && r.concurrency === 1,
  );
  const line = {
    bench: 'ec',
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    segmentBytes: SEGMENT,
    unit: 'GB/s = 1e9 segment bytes/s; perCore per CPU-second of the process, wall per elapsed second; median of 3',
    baseline: { memcpyPerCore: baseline },
    results,
    target: {
      what: `${TARGET.policy} ${TARGET.impl} ${TARGET.op} perCore >= ${TARGET.minPerCore}`,
      value: hit?.perCore ?? null,
      pass: (hit?.perCore ?? 0) >= TARGET.minPerCore,
    },
    seconds: round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

await main();
