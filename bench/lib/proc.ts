/**
 * Server-side cost of a benchmark window, read from Linux /proc: CPU time and peak resident memory of a set of
 * server processes and all their descendants (forked workers, child node processes).
 *
 * - CPU: utime + stime from /proc/PID/stat (all threads of the process), in clock ticks of 10 ms (USER_HZ is
 *   100 on every Linux architecture Node runs on). The meter keeps each process's first and last reading, keyed
 *   by pid and start time so a reused pid is a new process; a process born during the window counts from zero,
 *   one that exits counts up to its last sample (what it burns in the final ≤ 100 ms before exiting is lost).
 *   cutime/cstime are deliberately left out: they would count a reaped child a second time.
 * - Memory: VmHWM (/proc/PID/status) is a per-process peak since the process started and cannot be reset, so
 *   the meter also samples VmRSS every `sampleMs` and reports the highest *sum* over the tree seen during the
 *   window. The sum of VmHWM is reported too, as the lifetime upper bound. RSS counts a page shared by
 *   forked workers (Swift's servers fork theirs) once per process, so the sum overstates a forking server's
 *   memory; the meter therefore also reads Pss (shared pages split among their sharers) once, at the end.
 *
 * Sampling uses synchronous reads of small /proc files (a few µs each): cheaper than the thread pool, and it
 * runs in the client process, so it shows up in the client's CPU figure, not the server's.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux USER_HZ: the unit of utime/stime in /proc/PID/stat. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Start time after boot, in ticks: with pid, identifies a process across pid reuse. */
  startTime: number;
  /** utime and stime, in ticks. */
  userTicks: number;
  sysTicks: number;
  /** Minor page faults (minflt): pages the process touched that the kernel had to map in. */
  minorFaults: number;
}

/** /proc/PID/stat, or undefined when the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, ppid: Number(f[1]), startTime: Number(f[19]), userTicks: Number(f[11]), sysTicks: Number(f[12]), minorFaults: Number(f[7]) };
}

export interface ProcMemory {
  /** VmRSS, bytes. */
  rss: number;
  /** VmHWM (peak RSS since the process started), bytes. */
  hwm: number;
}

/** VmRSS and VmHWM from /proc/PID/status, or undefined when the process is gone (or is a zombie). */
export function readMemory(pid: number): ProcMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(text);
  if (!rss || !hwm) return undefined;
  return { rss: Number(rss[1]) * 1024, hwm: Number(hwm[1]) * 1024 };
}

/**
 * Pss from /proc/PID/smaps_rollup, bytes: resident memory with each shared page divided among the processes
 * that map it, so a sum over forked workers does not count their shared pages once per worker. Reading it walks
 * the page tables (about 1 ms for an 80 MB Python process), too slow to sample every 100 ms.
 */
export function readPss(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The live processes among `roots` and all their descendants (one scan of /proc). */
export function processTree(roots: Iterable<number>): ProcStat[] {
  const all = new Map<number, ProcStat>();
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const st = readStat(pid);
    if (!st) continue;
    all.set(pid, st);
    const siblings = children.get(st.ppid);
    if (siblings) siblings.push(pid);
    else children.set(st.ppid, [pid]);
  }
  const out: ProcStat[] = [];
  const seen = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const st = all.get(pid);
    if (!st) continue;
    out.push(st);
    for (const c of children.get(pid) ?? []) queue.push(c);
  }
  return out;
}

export interface ServerUsage {
  /** CPU milliseconds used by the tree during the window (10 ms resolution per process). */
  cpuMs: number;
  /** Highest sum of VmRSS over the tree seen by the sampler, MiB. */
  peakRssMiB: number;
  /** Sum of VmRSS over the tree at `start()`, MiB: what the window began from. */
  startRssMiB: number;
  /** When the sampler saw that peak, ms since the epoch. */
  peakRssAt: number;
  /** Sum of VmHWM over the tree at the end of the window (each process's lifetime peak), MiB. */
  hwmMiB: number;
  /** Sum of Pss over the tree at the end of the window, MiB: shared pages counted once (see readPss). */
  pssMiB: number;
  /** Distinct processes seen during the window. */
  processes: number;
  /** RSS samples taken. */
  samples: number;
  /** The same window per process, in the order they were first seen. */
  byProcess: ProcessUsage[];
}

/** One process's share of a {@link ServerUsage} window. */
export interface ProcessUsage {
  pid: number;
  /** User and system CPU milliseconds during the window. */
  userMs: number;
  sysMs: number;
  /** Minor page faults during the window. */
  minorFaults: number;
}

export interface ServerMeterOptions {
  /** RSS (and CPU) sampling period; default 100 ms. */
  sampleMs?: number;
  /** How often the process tree is rescanned for new descendants; default 1000 ms. */
  rescanMs?: number;
}

interface CpuTrack {
  pid: number;
  /** Readings at the start of the window (zeros for a process born in it) and the latest. */
  first: Pick<ProcStat, 'userTicks' | 'sysTicks' | 'minorFaults'>;
  last: ProcStat;
}

/**
 * Measures a window: `start()`, run the load, `stop()`. Not reusable: one meter per window.
 */
export class ServerMeter {
  readonly #roots: number[];
  readonly #sampleMs: number;
  readonly #rescanMs: number;
  readonly #cpu = new Map<string, CpuTrack>();
  #tree: ProcStat[] = [];
  #lastScan = 0;
  #peakRss = 0;
  #peakRssAt = 0;
  #startRss = 0;
  #samples = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(pids: readonly number[], options: ServerMeterOptions = {}) {
    this.#roots = [...pids];
    this.#sampleMs = options.sampleMs ?? 100;
    this.#rescanMs = options.rescanMs ?? 1000;
  }

  start(): void {
    this.#rescan(true);
    if (this.#tree.length === 0) throw new Error(`none of the server pids ${this.#roots.join(',')} is running`);
    this.#sampleMemory();
    this.#startRss = this.#peakRss;
    this.#timer = setInterval(() => this.#sample(), this.#sampleMs);
    this.#timer.unref();
  }

  stop(): ServerUsage {
    clearInterval(this.#timer);
    this.#rescan(false);
    const hwm = this.#sampleMemory();
    const ms = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
    const byProcess = [...this.#cpu.values()].map((t) => ({
      pid: t.pid,
      userMs: ms(t.last.userTicks - t.first.userTicks),
      sysMs: ms(t.last.sysTicks - t.first.sysTicks),
      minorFaults: t.last.minorFaults - t.first.minorFaults,
    }));
    let cpuMs = 0;
    for (const p of byProcess) cpuMs += p.userMs + p.sysMs;
    let pss = 0;
    for (const p of this.#tree) pss += readPss(p.pid) ?? 0;
    return {
      cpuMs,
      peakRssMiB: this.#peakRss / 1048576,
      startRssMiB: this.#startRss / 1048576,
      peakRssAt: this.#peakRssAt,
      hwmMiB: hwm / 1048576,
      pssMiB: pss / 1048576,
      processes: this.#cpu.size,
      samples: this.#samples,
      byProcess,
    };
  }

  #sample(): void {
    if (Date.now() - this.#lastScan >= this.#rescanMs) {
      this.#rescan(false);
    } else {
      // Between rescans only the known processes are read again.
      const fresh: ProcStat[] = [];
      for (const p of this.#tree) {
        const st = readStat(p.pid);
        if (st && st.startTime === p.startTime) fresh.push(st);
      }
      this.#track(fresh, false);
    }
    this.#sampleMemory();
  }

  #rescan(initial: boolean): void {
    this.#track(processTree(this.#roots), initial);
    this.#lastScan = Date.now();
  }

  /** Records CPU readings; a process first seen after start() was born in the window and counts from 0. */
  #track(tree: ProcStat[], initial: boolean): void {
    this.#tree = tree;
    for (const st of tree) {
      const key = `${st.pid}:${st.startTime}`;
      const t = this.#cpu.get(key);
      if (t) t.last = st;
      else this.#cpu.set(key, { pid: st.pid, first: initial ? st : { userTicks: 0, sysTicks: 0, minorFaults: 0 }, last: st });
    }
  }

  /** Sums VmRSS into the running peak; returns the sum of VmHWM. */
  #sampleMemory(): number {
    let rss = 0;
    let hwm = 0;
    for (const p of this.#tree) {
      const m = readMemory(p.pid);
      if (!m) continue;
      rss += m.rss;
      hwm += m.hwm;
    }
    if (rss > this.#peakRss) {
      this.#peakRss = rss;
      this.#peakRssAt = Date.now();
    }
    this.#samples++;
    return hwm;
  }
}

/** The pids in every `*.pid` file of a directory (e.g. the Swift peer's run/ directory). */
export function pidsFromDir(dir: string): number[] {
  const pids: number[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(readFileSync(`${dir}/${f}`, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}
