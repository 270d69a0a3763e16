/** bench/compare/targets: each target's verdict and its numbers. */
import test from 'ava';
import { evaluateTargets, fmt, fmtRatio, tally } from '../../../../bench/compare/targets.js';
import { limits, row } from './_rows.js';

const rows = [
  row('4k-c16:put', 4096, { opsPerSec: 300, cpuMsPerOp: 2 }, { opsPerSec: 50, cpuMsPerOp: 33 }),
  row('4k-c16:get', 4096, { opsPerSec: 2400, cpuMsPerOp: 0.4 }, { opsPerSec: 230, cpuMsPerOp: 5 }),
  row('4k-c16:head', 4096, { opsPerSec: 900, cpuMsPerOp: 0.5 }, { opsPerSec: 260, cpuMsPerOp: 4.5 }),
  row('4k-c16:list', 4096, { opsPerSec: 900 }, { opsPerSec: 60 }),
  row('4k-c16:delete', 4096, { opsPerSec: 150, cpuMsPerOp: 3 }, { opsPerSec: 60, cpuMsPerOp: 20 }),
  row('1m-c8:put', 1048576, { mibPerSec: 150 }, { mibPerSec: 44 }),
  row('1m-c8:get', 1048576, { mibPerSec: 300 }, { mibPerSec: 133 }),
  row('mixed', 4096, { opsPerSec: 500 }, { opsPerSec: 100 }),
  row('list-1000000', 0, { p99Ms: 20 }, { p99Ms: 300 }),
  row('64m-c1:put', 67108864, { mibPerSec: 250 }, { mibPerSec: 100 }),
];

const byId = (id: string, nodeRunPeaksWhen?: string[]) => {
  const r = evaluateTargets({
    rows,
    limits,
    replicas: 3,
    memory: { concurrency: 64, proxyPeakRssMiB: 180, nodePeakRssMiB: [100, 120, 90, 110], ops: 64, errors: 0 },
    nodeRunPeaksMiB: [140, 149, 151, 100],
    nodeRunPeaksWhen,
    bigListId: 'list-1000000',
    singlePutId: '64m-c1:put',
  });
  const found = r.find((x) => x.id === id);
  if (!found) throw new Error(`no target ${id} in ${r.map((x) => x.id).join(', ')}`);
  return found;
};

test('ratio targets: met at or above the factor, missed below, with both figures and the ratio', (t) => {
  t.is(byId('4k-c16:get:10x').verdict, 'met');
  t.is(byId('4k-c16:get:10x').measured, '2,400 vs Swift 230 ops/s = 10×');
  t.is(byId('4k-c16:get:10x').needed, '≥ 2,300');
  t.is(byId('4k-c16:head:10x').verdict, 'missed');
  t.is(byId('4k-c16:put:5x').verdict, 'met');
  t.is(byId('4k-c16:delete:5x').verdict, 'missed');
  t.is(byId('1m-c8:put:3x').verdict, 'met');
  t.is(byId('1m-c8:get:3x').verdict, 'missed');
});

test('CPU targets are at most a tenth of Swift', (t) => {
  t.is(byId('4k-c16:put:cpu').verdict, 'met'); // 2 ≤ 3.3
  t.is(byId('4k-c16:get:cpu').verdict, 'met'); // 0.4 ≤ 0.5
  t.is(byId('4k-c16:head:cpu').verdict, 'missed'); // 0.5 > 0.45
  t.is(byId('4k-c16:delete:cpu').needed, '≤ 2');
});

test('disk target: 80 % of the durable create rate divided by the replicas', (t) => {
  // 720 / 3 = 240, 80 % = 192
  t.is(byId('4k-c16:put:disk').verdict, 'met');
  t.is(byId('4k-c16:put:disk').needed, '≥ 192');
  t.is(byId('4k-c16:delete:disk').verdict, 'missed');
  t.is(byId('4k-c16:delete:disk').measured, '150 ops/s = 62.5 % of 240');
});

test('single 64 MiB PUT against the lower of MD5 and the disk', (t) => {
  // MD5 0.6 GB/s = 572 MiB/s; disk 900 / 3 = 300 MiB/s binds: need 210
  const s = byId('single-64m-put');
  t.is(s.verdict, 'met');
  t.is(s.needed, '≥ 210');
  t.regex(s.measured, /disk 300 MiB\/s/);
});

test('memory and LIST targets', (t) => {
  t.is(byId('memory-proxy').verdict, 'met');
  t.is(byId('memory-proxy').measured, 'peak 180 MiB');
  // With the proxy's RSS when the uploads began, the figure says what the earlier steps left.
  const started = evaluateTargets({ rows, limits, replicas: 3, memory: { concurrency: 64, proxyPeakRssMiB: 205, proxyStartRssMiB: 190, nodePeakRssMiB: [100], ops: 64, errors: 0 }, bigListId: 'list-1000000', singlePutId: '64m-c1:put' });
  t.like(started.find((x) => x.id === 'memory-proxy'), { verdict: 'missed', measured: 'peak 205 MiB (190 when the uploads began)' });
  t.is(byId('memory-nodes').verdict, 'missed');
  t.is(byId('memory-nodes').measured, 'highest node peak 151 MiB');
  // A whole-run peak names the step it happened in, when the run noted it.
  t.is(byId('memory-nodes', ['a', 'b', 'round 2, Arca 64MiB ×2 get', 'd']).measured, 'highest node peak 151 MiB (round 2, Arca 64MiB ×2 get)');
  t.is(byId('list-big').verdict, 'met');
  t.regex(byId('list-big').target, /1,000,000-key/);
  t.is(byId('list-big').measured, 'p99 20 ms (Swift 300 ms)');
});

test('without Swift, limits or memory figures the targets are n/a, never met', (t) => {
  const arcaOnly = rows.map((r) => ({ ...r, swift: undefined }));
  const r = evaluateTargets({ rows: arcaOnly, replicas: 3, bigListId: 'list-1000000', singlePutId: '64m-c1:put' });
  const counts = tally(r);
  t.is(counts.met, 1); // only the LIST latency needs neither
  t.is(r.find((x) => x.id === '4k-c16:get:10x')?.verdict, 'n/a');
  t.is(r.find((x) => x.id === '4k-c16:put:disk')?.verdict, 'n/a');
  t.is(r.find((x) => x.id === 'memory-proxy')?.verdict, 'n/a');
  t.is(counts.met + counts.missed + counts['n/a'], r.length);
});

test('fmt and fmtRatio', (t) => {
  t.is(fmt(1234.5), '1,235');
  t.is(fmt(12.34), '12.3');
  t.is(fmt(1.234), '1.23');
  t.is(fmt(0.1234), '0.123');
  t.is(fmt(null), '–');
  t.is(fmtRatio(12.4), '12×');
  t.is(fmtRatio(2.44), '2.4×');
  t.is(fmtRatio(0.456), '0.46×');
  t.is(fmtRatio(null), '–');
});
