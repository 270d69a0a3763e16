/**
 * bench/repair/suffix-hashes: what reading a partition's suffix hashes costs a storage node, per partition, in
 * the three cases the replicator meets (repair.md, "Suffix hashes"):
 *
 * - **fold**: a write appended one line to the partition's `hashes.invalid` since the last read, so the read
 *   folds it in and recomputes that suffix (every changed partition, in the pass after a burst of writes);
 * - **relist**: nothing changed, and the caller lists the partition anyway (one pass in ten, full passes);
 * - **trusted**: nothing changed, and the caller trusts the memory cache (`listdir: false`, the other passes).
 *
 * Real files in a temp dir (`--partitions` partitions of `--suffixes` suffix dirs, one hash dir each), one
 * `FsSuffixHashes` as a node has, partitions read one after another as a pass reads them. CPU is the
 * process's, all threads (the main thread, the hash worker, libuv's pool); the figure of each case is the
 * median over `--rounds` rounds. Prints one JSON line.
 *
 *   node dist/bench/repair/suffix-hashes.bench.js [--partitions 500] [--suffixes 20] [--rounds 5]
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FsSuffixHashes } from '../../storage-nodes/fs-suffix-hashes.js';
import { machineInfo } from '../lib/machine.js';
import { percentile, round } from '../lib/stats.js';

const { values } = parseArgs({
  options: {
    partitions: { type: 'string', default: '500' },
    suffixes: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' },
  },
});
const partitions = Number(values.partitions);
const suffixes = Number(values.suffixes);
const rounds = Number(values.rounds);

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const suffixOf = (p: number, s: number) => hex((p * 37 + s * 101) % 4096, 3);

const base = mkdtempSync(join(tmpdir(), 'arca-bench-suffix-hashes-'));
const dirs: string[] = [];
for (let p = 0; p < partitions; p++) {
  const dir = join(base, String(p));
  dirs.push(dir);
  for (let s = 0; s < suffixes; s++) {
    const suffix = suffixOf(p, s);
    const hashDir = join(dir, suffix, `${hex(p, 8)}${hex(s, 8)}${'0'.repeat(13)}${suffix}`);
    mkdirSync(hashDir, { recursive: true });
    writeFileSync(join(hashDir, '1700000000.00000.data'), '');
  }
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU and wall ms per partition of `read` over every partition. */
async function measure(read: (dir: string) => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const cpu = cpuMs();
  const wall = performance.now();
  for (const dir of dirs) await read(dir);
  return { cpu: (cpuMs() - cpu) / partitions, wall: (performance.now() - wall) / partitions };
}

const hashes = new FsSuffixHashes();
try {
  for (const dir of dirs) await hashes.get(dir);
  type Run = { cpu: number; wall: number };
  const cases: Record<'fold' | 'relist' | 'trusted', Run[]> = { fold: [], relist: [], trusted: [] };
  for (let r = 0; r < rounds; r++) {
    // One write per partition, as the write queue appends it (under the partition's log lock).
    for (const [p, dir] of dirs.entries()) {
      await hashes.appending(dir, async () => appendFileSync(join(dir, 'hashes.invalid'), `${suffixOf(p, r % suffixes)}\n`, 'latin1'));
    }
    cases.fold.push(await measure((dir) => hashes.get(dir)));
    cases.relist.push(await measure((dir) => hashes.get(dir)));
    cases.trusted.push(await measure((dir) => hashes.get(dir, { listdir: false })));
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50) ?? Number.NaN;
  const out: Record<string, unknown> = { bench: 'suffix-hashes', partitions, suffixes, rounds };
  for (const [name, runs] of Object.entries(cases)) {
    out[name] = { cpuMsPerPartition: round(median(runs.map((x) => x.cpu)), 4), wallMsPerPartition: round(median(runs.map((x) => x.wall)), 4) };
  }
  out.machine = machineInfo();
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
// The hash worker does not keep the process alive, but say so plainly.
process.exit(0);
