/** bench/compare/report and svg: tables, the RESULTS.md page and the charts. */
import test from 'ava';
import { limitOf, type Report, renderCharts, renderComparisonTable, renderResultsMd } from '../../../../bench/compare/report.js';
import { escapeXml, niceScale, renderChart, shortNumber } from '../../../../bench/compare/svg.js';
import { evaluateTargets } from '../../../../bench/compare/targets.js';
import { limits, row } from './_rows.js';

const rows = [
  row('4k-c16:put', 4096, { opsPerSec: 120, cpuMsPerOp: 10 }, { opsPerSec: 60, cpuMsPerOp: 30 }),
  row('4k-c16:get', 4096, { opsPerSec: 600 }, { opsPerSec: 200 }),
  row('64m-c2:put', 67108864, { opsPerSec: 2, mibPerSec: 128 }, { opsPerSec: 1, mibPerSec: 64, errors: 2 }),
  row('64m-c2:get', 67108864, { opsPerSec: 4, mibPerSec: 256 }, { opsPerSec: 2, mibPerSec: 128 }),
  row('list-1000000', 0, { p50Ms: 10, p99Ms: 30 }, { p50Ms: 100, p99Ms: 300 }),
];

function report(): Report {
  return {
    bench: 'compare',
    date: '2026-11-30T12:00:00.000Z',
    commit: { commit: 'abcdef0123456789', dirty: false },
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 24, kernel: '6.1', node: 'v20.20.2', loadAvg: [1, 2, 3] },
    quick: false,
    roundsPlanned: 5,
    roundsDone: 5,
    durationSec: 1800,
    replicas: 3,
    arca: { cluster: '1 proxy + 4 storage nodes' },
    swift: { version: 'Swift 2.30.1' },
    limits,
    limitRuns: [limits, limits],
    idleCpuPct: { arca: 1, swift: 9 },
    bigList: { keys: 1_000_000, populate: { arca: { replicas: [1_000_000, 1_000_000, 1_000_000], inserted: 0, seconds: 1 } } },
    rows,
    memory: {
      concurrency: 64,
      sizeMiB: 64,
      arca: { proxyPeakRssMiB: 150, nodePeakRssMiB: [100, 110, 120, 130], totalPeakRssMiB: 700, totalPssMiB: 500, mibPerSec: 100, ops: 64, errors: 0 },
    },
    runPeaks: { arca: { proxyMiB: 160, nodesMiB: [120, 130, 140, 145] } },
    targets: evaluateTargets({ rows, limits, replicas: 3, bigListId: 'list-1000000', singlePutId: '64m-c1:put' }),
  };
}

test('limitOf: small writes against durable creates, large PUT against MD5 or disk, large GET against loopback', (t) => {
  t.deepEqual(limitOf(rows[0], limits, 3), { figure: 'opsPerSec', value: 240, name: 'durable creates/s ÷ 3' });
  t.is(limitOf(rows[1], limits, 3), undefined);
  t.is(limitOf(rows[2], limits, 3)?.name, "fsync'd MiB/s ÷ 3");
  t.is(limitOf(rows[3], limits, 3)?.value, 2000);
  t.is(limitOf(rows[0], undefined, 3), undefined);
});

test('comparison table: one line per row, ratios, the fraction of the limit, errors', (t) => {
  const md = renderComparisonTable(report());
  const lines = md.split('\n');
  t.is(lines.length, 2 + rows.length);
  t.true(lines.every((l) => l.startsWith('|') && l.endsWith('|')));
  const cells = (l: string) => l.split('|').length;
  t.true(lines.every((l) => cells(l) === cells(lines[0])));
  t.regex(lines[2], /^\| 4k-c16 \| PUT \| 120 \| 60 \| 2\.0× \|/);
  t.regex(lines[2], /\| 50 % \/ 25 % \|/); // 120 and 60 of 240
  t.regex(lines[4], /\| Swift 2 \|$/);
});

test('without Swift the table has Arca columns only', (t) => {
  const r = report();
  r.rows = r.rows.map((x) => ({ ...x, swift: undefined }));
  const md = renderComparisonTable(r);
  t.notRegex(md, /Swift/);
  t.is(md.split('\n')[0].split('|').length, 13);
});

test('RESULTS.md names the date, commit, machine, targets and charts, and says ratios hold', (t) => {
  const md = renderResultsMd(report(), ['charts/4k-c16.svg']);
  t.regex(md, /2026-11-30T12:00:00.000Z/);
  t.regex(md, /`abcdef0123456789`/);
  t.regex(md, /Test CPU, 2 cores, 24 GiB, Linux 6\.1, Node v20\.20\.2/);
  t.regex(md, /read the ratios/);
  t.regex(md, /## Targets: \d+ met, \d+ missed/);
  t.regex(md, /!\[charts\/4k-c16\.svg\]\(charts\/4k-c16\.svg\)/);
});

test('RESULTS.md puts the hand-written notes after the targets, and names idle CPU before and after', (t) => {
  const r = report();
  r.idleCpuPctAfter = { arca: 30, swift: 8 };
  const md = renderResultsMd(r, [], '### Why the misses\n\n- a reason\n');
  t.true(md.indexOf('### Why the misses') > md.indexOf('## Targets'));
  t.true(md.indexOf('### Why the misses') < md.indexOf('## Side by side'));
  t.regex(md, /Arca 1 %, Swift 9 % of a core before the rounds, Arca 30 %, Swift 8 % after them/);
  t.notRegex(renderResultsMd(report(), []), /Why the misses/);
});

test('RESULTS.md says what ran before round 1, when the report has it', (t) => {
  t.notRegex(renderResultsMd(report(), []), /Before round 1/);
  const r = report();
  r.warmup = { arcaSettle: { seconds: 41.5, settled: true }, sec: 5, count: 3000 };
  t.regex(renderResultsMd(r, []), /Arca's nodes finished the replication passes begun after the setup writes .* in 41\.5 s; then each side served up to 3,000 GETs and as many HEADs \(5 s each at most\)/);
  r.warmup.arcaSettle = { seconds: 300, settled: false };
  t.regex(renderResultsMd(r, []), /were still running the replication passes .* when the wait gave up after 300 s/);
  t.notRegex(renderResultsMd(r, []), /write path/);
  r.warmup.writes = { cycles: 2, count: 3000, sec: 8 };
  t.regex(renderResultsMd(r, []), /read path; then twice up to 3,000 PUTs of 4 KiB at ×16 and their DELETEs, then the same at ×64 \(8 s per PUT step at most\), with Arca's replication passes after each, so that the first rounds do not measure V8 compiling Arca's write path\./);
});

test('RESULTS.md says what the replication after each write step cost, when the run drove it', (t) => {
  t.notRegex(renderResultsMd(report(), []), /After each write step/);
  const r = report();
  r.warmup = { arcaSettle: { seconds: 41.5, settled: true }, sec: 5, count: 3000, passBaselineCpuMs: 340 };
  r.rows = [row('4k-c16:put', 4096, { cpuMsPerOp: 13, passCpuMsPerOp: 2.5 }, { cpuMsPerOp: 30 }), ...rows.slice(1)];
  const md = renderResultsMd(r, []);
  t.regex(md, /After each write step.*beyond what the same passes cost with nothing to replicate \(340 CPU-ms, measured before round 1;/);
  t.regex(md, /of the step's figure: 4k-c16 put 2\.5 of 13\)/);
});

test('RESULTS.md says how the big LIST bucket was filled, and how long Arca\'s listing replicators took to pass it on', (t) => {
  t.regex(renderResultsMd(report(), []), /Arca 1,000,000 \/ 1,000,000 \/ 1,000,000 rows per replica \(already there\)/);
  const r = report();
  r.bigList.populate.arca = { replicas: [1_000_000, 1_000_000, 1_000_000], inserted: 2_999_997, seconds: 387, replication: { seconds: 412, settled: true } };
  t.regex(renderResultsMd(r, []), /\(2,999,997 merged now, 387 s, then 412 s until its listing replicators had passed them on\)/);
  r.bigList.populate.arca.replication = { seconds: 1800, settled: false };
  t.regex(renderResultsMd(r, []), /387 s; its listing replicators were still passing them on after 1,800 s, when the rounds began\)/);
  r.bigList.populate.arca = { ...r.bigList.populate.arca, replication: { seconds: 412, settled: true }, restarted: true };
  t.regex(renderResultsMd(r, []), /387 s, then 412 s until its listing replicators had passed them on; then Arca was restarted\)/);
  r.bigList.populate.arca.replication = { seconds: 1800, settled: false };
  t.regex(renderResultsMd(r, []), /still passing them on after 1,800 s, when Arca was restarted\)/);
});

test('the whole-run peaks name the step each happened in, when the run noted it', (t) => {
  const r = report();
  t.regex(renderResultsMd(r, []), /- Arca: proxy 160 MiB; nodes 120, 130, 140, 145 MiB/);
  r.runPeaks.arca = { proxyMiB: 160, nodesMiB: [120, 145], proxyWhen: 'round 1, Arca 4KiB ×64 list', nodesWhen: ['idle after the rounds', 'round 2, Swift 64MiB ×2 get'] };
  t.regex(renderResultsMd(r, []), /- Arca: proxy 160 MiB \(round 1, Arca 4KiB ×64 list\); nodes 120 \(idle after the rounds\), 145 \(round 2, Swift 64MiB ×2 get\) MiB/);
});

test('one chart per workload, each a well-formed SVG', (t) => {
  const charts = renderCharts(report());
  t.deepEqual(
    charts.map((c) => c.file),
    ['4k-c16.svg', '64m-c2.svg', 'list-1000000.svg', 'memory.svg'],
  );
  for (const c of charts) {
    t.true(c.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    t.true(c.svg.trimEnd().endsWith('</svg>'));
    const opened = (c.svg.match(/<(rect|text|line|svg|title)\b/g) ?? []).length;
    const closed = (c.svg.match(/<\/(rect|text|svg|title)>|\/>/g) ?? []).length;
    t.is(opened, closed, c.file);
    t.notRegex(c.svg, /NaN|undefined|Infinity/, c.file);
  }
  t.regex(charts[2].svg, /target: p99 &lt; 50 ms/);
});

test('svg helpers: nice scales, short numbers, escaping, null bars skipped', (t) => {
  t.deepEqual(niceScale(430), { top: 600, step: 200 });
  t.deepEqual(niceScale(9), { top: 10, step: 2.5 });
  t.deepEqual(niceScale(0), { top: 1, step: 0.25 });
  t.is(shortNumber(12345), '12.3k');
  t.is(shortNumber(1234567), '1.2M');
  t.is(shortNumber(0.0123), '0.012');
  t.is(escapeXml(`a<b & "c"`), 'a&lt;b &amp; &quot;c&quot;');
  const svg = renderChart({
    title: 'T',
    panels: [{ title: 'p', unit: 'u', categories: ['A', 'B'], series: [{ name: 's', color: '#000', values: [1, null] }] }],
  });
  t.is((svg.match(/<rect x=/g) ?? []).length, 2); // one bar and one legend swatch
});
