/**
 * What this machine can do at most, measured in the benchmark's own run so that a server's figure can be read
 * as a fraction of it: loopback TCP to another process, fsync'd sequential writes and durable small-file
 * creates on the data disk, and MD5 / SHA-256 per core. Each measurement is bounded in bytes and time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { round } from './stats.js';

const MiB = 1024 * 1024;

/** A sink in another process: counts what one connection sends and answers the count when it ends. */
const SINK = `const s = require('node:net').createServer((c) => { let n = 0; c.on('data', (d) => { n += d.length; });
  c.on('end', () => c.end(String(n))); });
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`;

/**
 * Loopback TCP MiB/s: one connection from this process to a sink process, `mib` MiB in 1 MiB writes with
 * backpressure, timed until the sink has counted every byte.
 */
export async function loopbackMiBps(mib: number): Promise<number> {
  const sink: ChildProcess = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(sink.stdout!, 'data')) as [Buffer];
    const socket = connect(Number(line.toString().trim()), '127.0.0.1');
    await once(socket, 'connect');
    const chunk = randomBytes(MiB);
    const t0 = performance.now();
    for (let i = 0; i < mib; i++) if (!socket.write(chunk)) await once(socket, 'drain');
    socket.end();
    const [answer] = (await once(socket, 'data')) as [Buffer];
    const seconds = (performance.now() - t0) / 1000;
    socket.destroy();
    if (Number(answer.toString()) !== mib * MiB) throw new Error(`loopback sink counted ${answer} bytes, want ${mib * MiB}`);
    return round(mib / seconds, 1);
  } finally {
    sink.kill();
  }
}

/** Sequential write of `mib` MiB in 1 MiB writes to a file in `dir`, then fsync: MiB/s including the fsync. */
export function fsyncedWriteMiBps(dir: string, mib: number): number {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `seq-${process.pid}.tmp`);
  const chunk = randomBytes(MiB);
  const fd = openSync(file, 'w');
  try {
    const t0 = performance.now();
    for (let i = 0; i < mib; i++) writeSync(fd, chunk);
    fsyncSync(fd);
    return round(mib / ((performance.now() - t0) / 1000), 1);
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

export interface CreateRate {
  /** Serial durable creates per second. */
  perSec: number;
  creates: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Serial durable 4 KiB creates as an object server makes them: open a temp file, write 4 KiB, fdatasync,
 * close, rename into place, fsync the directory. At most `count` creates or `maxSec` seconds.
 */
export function durableCreates(dir: string, count: number, maxSec: number): CreateRate {
  const work = join(dir, `creates-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const body = randomBytes(4096);
  const dirFd = openSync(work, 'r');
  const times: number[] = [];
  try {
    const t0 = performance.now();
    const deadline = t0 + maxSec * 1000;
    for (let i = 0; i < count && performance.now() < deadline; i++) {
      const start = performance.now();
      const tmp = join(work, `tmp-${i}`);
      const fd = openSync(tmp, 'w');
      writeSync(fd, body);
      fdatasyncSync(fd);
      closeSync(fd);
      renameSync(tmp, join(work, `obj-${i}`));
      fsyncSync(dirFd);
      times.push(performance.now() - start);
    }
    const seconds = (performance.now() - t0) / 1000;
    times.sort((a, b) => a - b);
    const at = (q: number) => round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? 0, 3);
    return { perSec: round(times.length / seconds, 1), creates: times.length, p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    closeSync(dirFd);
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * MD5 or SHA-256 throughput of one core, GB/s (10^9 bytes per CPU-second of this process): `runs` runs of
 * hashing a 16 MiB buffer for `cpuMs` CPU milliseconds each, median. Per CPU-second, so a busy co-tenant does
 * not lower it (it would lower a wall-clock figure).
 */
export function hashGBps(algorithm: 'md5' | 'sha256', runs = 5, cpuMs = 250): number {
  const buf = randomBytes(16 * MiB);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    let bytes = 0;
    let used = 0;
    while (used < cpuMs * 1000) {
      createHash(algorithm).update(buf).digest();
      bytes += buf.length;
      const c = process.cpuUsage(c0);
      used = c.user + c.system;
    }
    rates.push(bytes / 1e9 / (used / 1e6));
  }
  rates.sort((a, b) => a - b);
  return round(rates[Math.floor(rates.length / 2)], 3);
}

export interface MachineLimits {
  loopbackMiBps: number;
  fsyncWriteMiBps: number;
  durableCreates: CreateRate;
  md5GBps: number;
  sha256GBps: number;
}

export interface LimitsPlan {
  loopbackMiB: number;
  seqWriteMiB: number;
  creates: number;
  createsMaxSec: number;
}

/** Every limit, one after the other (none overlaps another, or the servers' load). */
export async function measureLimits(dataDir: string, plan: LimitsPlan): Promise<MachineLimits> {
  return {
    loopbackMiBps: await loopbackMiBps(plan.loopbackMiB),
    fsyncWriteMiBps: fsyncedWriteMiBps(dataDir, plan.seqWriteMiB),
    durableCreates: durableCreates(dataDir, plan.creates, plan.createsMaxSec),
    md5GBps: hashGBps('md5'),
    sha256GBps: hashGBps('sha256'),
  };
}

/**
 * The better of two measurements of each limit: a limit is what the machine can do, and co-tenant load only
 * ever lowers a measurement of it.
 */
export function bestLimits(a: MachineLimits, b: MachineLimits): MachineLimits {
  return {
    loopbackMiBps: Math.max(a.loopbackMiBps, b.loopbackMiBps),
    fsyncWriteMiBps: Math.max(a.fsyncWriteMiBps, b.fsyncWriteMiBps),
    durableCreates: a.durableCreates.perSec >= b.durableCreates.perSec ? a.durableCreates : b.durableCreates,
    md5GBps: Math.max(a.md5GBps, b.md5GBps),
    sha256GBps: Math.max(a.sha256GBps, b.sha256GBps),
  };
}
