/** bench/compare/summary: medians, ratios and the round book. */
import test from 'ava';
import { median, medianFigures, RoundBook, ratio } from '../../../../bench/compare/summary.js';
import type { LoadResult } from '../../../../bench/load/run.js';
import { figures } from './_rows.js';

test('median of odd and even counts ignores nulls and non-finite values', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(median([null, 5, undefined, Number.NaN]), 5);
  t.is(median([]), null);
  t.is(median([null]), null);
});

test('ratio is a / b, and null when either is missing or b is 0', (t) => {
  t.is(ratio(10, 4), 2.5);
  t.is(ratio(0, 4), 0);
  t.is(ratio(10, 0), null);
  t.is(ratio(null, 4), null);
  t.is(ratio(4, undefined), null);
});

test('medianFigures takes each figure median on its own, sums ops and errors, rounds to 3 decimals', (t) => {
  const m = medianFigures([
    figures({ ops: 10, errors: 1, opsPerSec: 100, p99Ms: 9, cpuMsPerOp: null }),
    figures({ ops: 20, errors: 0, opsPerSec: 300, p99Ms: 1, cpuMsPerOp: 2 }),
    figures({ ops: 30, errors: 2, opsPerSec: 200.00000001, p99Ms: 5, cpuMsPerOp: 4 }),
  ]);
  t.is(m?.ops, 60);
  t.is(m?.errors, 3);
  t.is(m?.opsPerSec, 200);
  t.is(m?.p99Ms, 5);
  t.is(m?.cpuMsPerOp, 3);
  t.is(medianFigures([]), undefined);
});

function result(opsPerSec: number, errors: Record<string, number> = {}, firstError?: string): LoadResult {
  return {
    workload: 'put',
    size: '4KiB',
    sizeBytes: 4096,
    concurrency: 16,
    ops: 10,
    errors,
    seconds: 1,
    opsPerSec,
    mibPerSec: 0,
    latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 },
    clientCpuMsPerOp: 0.1,
    serverCpuMsPerOp: 5,
    serverPeakRssMiB: 100,
    serverPssMiB: 60,
    ...(firstError ? { firstError } : {}),
  };
}

test('RoundBook keeps steps in first-seen order with per-side medians and the first error', (t) => {
  const book = new RoundBook();
  const put = { id: 'g:put', workload: 'g', op: 'put', size: 4096, concurrency: 16 };
  const get = { id: 'g:get', workload: 'g', op: 'get', size: 4096, concurrency: 16 };
  book.add(put, 'arca', result(100));
  book.add(put, 'swift', result(10, { '503': 2 }, 'put obj-3: 503'));
  book.add(get, 'arca', result(1000));
  book.add(put, 'arca', result(300));
  book.add(put, 'swift', result(30, {}, 'later'));
  const rows = book.rows();
  t.deepEqual(
    rows.map((r) => r.id),
    ['g:put', 'g:get'],
  );
  t.is(rows[0].arca?.opsPerSec, 200);
  t.is(rows[0].swift?.opsPerSec, 20);
  t.is(rows[0].swift?.errors, 2);
  t.deepEqual(rows[0].rounds, { arca: 2, swift: 2 });
  t.deepEqual(rows[0].firstError, { swift: 'put obj-3: 503' });
  t.is(rows[1].swift, undefined);
  t.deepEqual(rows[1].rounds, { arca: 1 });
});

test('RoundBook keeps the CPU of the replication after a write step apart, as a median of the rounds that had it', (t) => {
  const book = new RoundBook();
  const put = { id: 'g:put', workload: 'g', op: 'put', size: 4096, concurrency: 16 };
  book.add(put, 'arca', result(100), 1);
  book.add(put, 'arca', result(100), 3);
  book.add(put, 'arca', result(100), 2.0004);
  book.add(put, 'swift', result(10));
  const [r] = book.rows();
  t.is(r.arca?.passCpuMsPerOp, 2);
  t.is(r.swift?.passCpuMsPerOp, undefined);
  t.false('passCpuMsPerOp' in r.swift!);
});
