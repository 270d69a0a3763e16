/**
 * `arca status [--json] [--watch] [--interval SEC] [--count N]`: the cluster's status from the admin API
 * (`GET /_arca/admin/v1/status`, as the root user; admin-client.ts says where the endpoint and keys come
 * from) — per node and for the cluster: devices, fullness, partitions out of place, objects awaiting repair,
 * async pendings, quarantined files and the last pass of each worker. With `--watch` it refreshes, and while
 * out-of-place partitions and awaiting objects go down between refreshes (a rebalance or a repair draining)
 * it draws a progress bar from the most seen since the watch began.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { ClusterStatus } from '../admin/cluster-status.js';
import { ArcaError } from '../common/errors.js';
import type { ReconPass } from '../common/wire.js';
import { adminRequest, adminTarget } from './admin-client.js';

const usage = `usage: arca status [--json] [--watch] [--interval SEC] [--count N] [--data DIR]

Shows the cluster: nodes and devices (fullness, partitions out of place, async pendings, quarantined files),
objects awaiting repair and the last pass of each worker. --watch refreshes every --interval seconds
(default 2) until interrupted, or --count times, with a progress bar while a rebalance or repair drains.
Talks to ARCA_ENDPOINT as the root user (ARCA_ACCESS_KEY, ARCA_SECRET_KEY), by default the local cluster in
--data (default ./.arca-data).`;

/** The most work left seen during a watch, against which the progress bar measures what remains. */
export interface DrainState {
  peak: number;
}

/** Work left in a status: partitions out of place plus objects the last repair passes found to fix. */
export function workLeft(s: ClusterStatus): number {
  return s.totals.partitionsOutOfPlace + s.totals.awaiting.objects;
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes for people: `1.5 GiB`. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

/** A text progress bar of `width` cells for a fraction in [0, 1]. */
export function progressBar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, fraction));
  const done = Math.round(f * width);
  return `[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${Math.floor(f * 100)}%`;
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, cell] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

function passText(pass: ReconPass | undefined, now: number): [string, string, string] {
  if (!pass) return ['never', '', ''];
  const end = Date.parse(pass.start) + pass.durationMs;
  const stats = pass.error ? `failed: ${pass.error}` : Object.entries(pass.stats ?? {}).filter(([, v]) => v !== 0).map(([k, v]) => `${k}=${v}`).join(' ') || 'nothing to do';
  return [ago(now - end), duration(pass.durationMs), stats];
}

/**
 * The status as text. `drain` (a watch's state) is updated with the work left and, while it goes down, a
 * progress bar is drawn.
 */
export function renderStatus(s: ClusterStatus, drain?: DrainState): string {
  const now = Date.parse(s.time);
  const t = s.totals;
  const out: string[] = [];
  const pct = t.size > 0 ? ` (${((100 * t.used) / t.size).toFixed(1)}%)` : '';
  out.push(`Arca cluster at ${s.time}: ${t.nodesUp} of ${t.nodes} nodes up, ${t.devicesMounted} of ${t.devices} devices mounted`);
  out.push(`  used ${formatBytes(t.used)} of ${formatBytes(t.size)}${pct}, ${formatBytes(t.avail)} free`);
  out.push(`  partitions out of place ${t.partitionsOutOfPlace}, objects awaiting repair ${t.awaiting.objects}, listing rows ${t.awaiting.listingRows}, failed requests ${t.awaiting.failedRequests}`);
  out.push(`  async pendings ${t.asyncPending}, quarantined files ${t.quarantined}`);
  const left = workLeft(s);
  if (drain) {
    drain.peak = Math.max(drain.peak, left);
    if (drain.peak > 0 && left < drain.peak) {
      out.push(`  draining ${progressBar(1 - left / drain.peak)}  ${left === 0 ? 'everything in place' : `${left} of ${drain.peak} left`}`);
    }
  }
  for (const [name, report] of Object.entries(s.proxy.reports)) {
    const flat = typeof report === 'object' && report !== null ? Object.entries(report).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') : String(report);
    out.push(`  ${name}: ${flat}`);
  }
  out.push('');
  out.push(
    ...table([
      ['RING', 'PARTITIONS', 'REPLICAS', 'DEVICES', 'OUT OF PLACE'],
      ...s.proxy.rings.map((r) => [r.name, String(r.partitions), String(r.replicas), String(r.devices), r.name === 'account' || r.name === 'container' ? `${r.outOfPlace} (listings)` : String(r.outOfPlace)]),
    ]),
  );
  out.push('');
  const deviceRows = [['NODE', 'DEVICE', 'MOUNTED', 'USED', 'SIZE', 'FULL', 'PARTITIONS', 'OUT OF PLACE', 'ASYNC', 'QUARANTINED']];
  for (const n of s.nodes) {
    if (!n.status) {
      deviceRows.push([n.node, `unreachable: ${n.error ?? 'no answer'}`]);
      continue;
    }
    for (const d of n.status.devices) {
      const held = d.partitions.reduce((a, p) => a + p.held, 0);
      const oop = d.partitions.reduce((a, p) => a + p.outOfPlace, 0);
      const full = d.size ? `${Math.round((100 * (d.used ?? 0)) / d.size)}%` : '-';
      deviceRows.push([n.node, d.device, d.mounted ? 'yes' : 'NO', formatBytes(d.used), formatBytes(d.size), full, String(held), String(oop), String(d.asyncPending), String(d.quarantined) + (d.error ? `  (${d.error})` : '')]);
    }
  }
  out.push(...table(deviceRows));
  out.push('');
  const workerRows = [['NODE', 'WORKER', 'EVERY', 'LAST PASS', 'TOOK', 'STATS']];
  for (const n of s.nodes) {
    for (const w of n.status?.workers ?? []) {
      const [when, took, stats] = passText(w.last, now);
      workerRows.push([n.node, w.name, w.intervalSec > 0 ? `${w.intervalSec}s` : 'off', w.running ? `running since ${ago(now - Date.parse(w.running))}` : when, took, stats]);
    }
  }
  out.push(...table(workerRows));
  return `${out.join('\n')}\n`;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      watch: { type: 'boolean', short: 'w' },
      interval: { type: 'string', default: '2' },
      count: { type: 'string' },
      data: { type: 'string', default: '.arca-data' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const interval = Number(values.interval);
  const count = values.count === undefined ? (values.watch ? Number.POSITIVE_INFINITY : 1) : Number(values.count);
  if (positionals.length > 0 || !(interval > 0) || !(count >= 1)) throw new ArcaError('BadRequest', `bad arguments\n${usage}`);
  const target = adminTarget(process.env, values.data);
  const drain: DrainState = { peak: 0 };
  const clear = values.watch && process.stdout.isTTY && !values.json;
  // Ctrl-C ends a watch between refreshes (at once while it waits).
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    for (let i = 0; i < count && !stop.signal.aborted; i++) {
      if (i > 0) await sleep(interval * 1000, undefined, { signal: stop.signal }).catch(() => {});
      if (stop.signal.aborted) break;
      const status = (await adminRequest(target, 'GET', 'status')) as ClusterStatus;
      if (values.json) process.stdout.write(`${JSON.stringify(status)}\n`);
      else process.stdout.write(`${clear ? '\x1b[2J\x1b[H' : i > 0 ? '\n' : ''}${renderStatus(status, values.watch ? drain : undefined)}`);
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
  return 0;
}
