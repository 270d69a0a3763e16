/** bench/lib/proc: process trees, CPU time of a busy child, RSS sampling (Linux /proc). */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import test from 'ava';
import { processTree, readMemory, readPss, readStat, ServerMeter } from '../../../bench/lib/proc.js';

/**
 * A node child that burns CPU for `busyMs`, holding `mib` MiB, then idles until killed. By default it spins
 * `busyMs` of wall time after it says it is up; with `cpu`, until it has used `busyMs` of CPU itself, and says
 * it is up only then (so a busy machine cannot shorten what it burns).
 */
async function child(busyMs: number, mib = 0, cpu = false): Promise<ChildProcess> {
  const spin = cpu
    ? `const c = process.cpuUsage(); while (process.cpuUsage(c).user < ${busyMs * 1000}) x++; process.stdout.write('up\\n');`
    : `const end = Date.now() + ${busyMs}; process.stdout.write('up\\n'); while (Date.now() < end) x++;`;
  const script = `const b = Buffer.alloc(${mib} * 1048576, 1); let x = 0; ${spin} setInterval(() => b[0] + x, 1000);`;
  const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(c.stdout!, 'data');
  return c;
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = once(c, 'exit');
  c.kill();
  await exited;
}

test('readStat and readMemory describe this process; a missing pid is undefined', (t) => {
  const st = readStat(process.pid);
  t.is(st?.pid, process.pid);
  t.is(st?.ppid, process.ppid);
  t.true((st?.userTicks ?? -1) >= 0 && (st?.sysTicks ?? -1) >= 0);
  const mem = readMemory(process.pid);
  t.true((mem?.rss ?? 0) > 10 * 1048576);
  t.true((mem?.hwm ?? 0) >= (mem?.rss ?? 0));
  t.true((readPss(process.pid) ?? 0) > 0);
  t.is(readPss(2 ** 22 + 12345), undefined);
  t.is(readStat(2 ** 22 + 12345), undefined);
  t.is(readMemory(2 ** 22 + 12345), undefined);
});

test('processTree finds descendants of the roots', async (t) => {
  const c = await child(0);
  t.teardown(() => stop(c));
  const pids = processTree([process.pid]).map((p) => p.pid);
  t.true(pids.includes(process.pid));
  t.true(pids.includes(c.pid!));
  t.false(processTree([c.pid!]).some((p) => p.pid === process.pid), 'not the ancestors');
});

test('ServerMeter counts the CPU of a child born during the window and samples its RSS', async (t) => {
  const meter = new ServerMeter([process.pid], { sampleMs: 20, rescanMs: 20 });
  meter.start();
  const c = await child(400, 64, true);
  t.teardown(() => stop(c));
  await new Promise((r) => setTimeout(r, 500));
  const usage = meter.stop();
  t.true(usage.cpuMs >= 300, `cpuMs ${usage.cpuMs}`);
  t.true(usage.peakRssMiB >= 64, `peakRssMiB ${usage.peakRssMiB}`);
  // The window began before the child and its 64 MiB: only this process then.
  t.true(usage.startRssMiB > 0 && usage.startRssMiB < usage.peakRssMiB, `startRssMiB ${usage.startRssMiB}`);
  t.true(usage.hwmMiB > 0, 'children of concurrent tests come and go, so the sum of VmHWM is not compared');
  t.true(usage.pssMiB >= 64, `pssMiB ${usage.pssMiB}`);
  t.true(usage.processes >= 2);
  t.true(usage.samples >= 5);
  // Per process: the child's busy loop is user time, and its 64 MiB buffer was faulted in (page by page, or
  // in 2 MiB huge pages where the kernel gives those: 32 faults at least either way).
  const mine = usage.byProcess.find((p) => p.pid === c.pid);
  t.truthy(mine);
  t.true(mine!.userMs >= 250, `userMs ${mine!.userMs}`);
  t.true(mine!.minorFaults >= 32, `minorFaults ${mine!.minorFaults}`);
  t.is(usage.byProcess.reduce((sum, p) => sum + p.userMs + p.sysMs, 0), usage.cpuMs);
});

test('ServerMeter does not count CPU used before start()', async (t) => {
  const c = await child(400);
  t.teardown(() => stop(c));
  await new Promise((r) => setTimeout(r, 450));
  const meter = new ServerMeter([c.pid!]);
  meter.start();
  await new Promise((r) => setTimeout(r, 200));
  t.true(meter.stop().cpuMs < 100);
});

test('ServerMeter refuses pids that are not running', (t) => {
  t.throws(() => new ServerMeter([2 ** 22 + 12345]).start(), { message: /not running|none of/ });
});
