/** bench/compare/plan: every step is bounded, quick is smaller than full. */
import test from 'ava';
import { makePlan } from '../../../../bench/compare/plan.js';

test('every step has an op count and a time cap', (t) => {
  for (const quick of [false, true]) {
    const p = makePlan({ quick });
    for (const g of p.groups) {
      for (const b of [g.put, g.get, g.head, g.list]) {
        t.true(b.count > 0 && b.durationSec > 0);
      }
      t.true(g.deleteSec > 0);
    }
    t.true(p.mixed.count > 0 && p.mixed.durationSec > 0);
    t.true(p.bigList.count > 0 && p.bigList.durationSec > 0);
    t.true(p.budgetSec > 0 && p.rounds > 0);
  }
});

test('the workloads of the issue: 4 KiB at 16 and 64, 1 MiB at 8, 64 MiB at 2; 64 uploads for memory', (t) => {
  const p = makePlan({ quick: false });
  t.deepEqual(
    p.groups.map((g) => [g.size, g.concurrency]),
    [
      [4096, 16],
      [4096, 64],
      [1048576, 8],
      [67108864, 2],
    ],
  );
  t.is(p.memory.concurrency, 64);
  t.is(p.bigList.keys, 1_000_000);
  t.is(p.bigList.bucket, 'cmp-list-1000000');
});

test('quick: fewer rounds, smaller counts, fewer keys; --keys and --rounds override', (t) => {
  const full = makePlan({ quick: false });
  const quick = makePlan({ quick: true });
  t.true(quick.rounds < full.rounds);
  t.true(quick.bigList.keys < full.bigList.keys);
  t.true(quick.groups.every((g, i) => g.put.count < full.groups[i].put.count));
  const custom = makePlan({ quick: false, keys: 5000, rounds: 3, budgetMin: 10 });
  t.is(custom.bigList.keys, 5000);
  t.is(custom.rounds, 3);
  t.is(custom.budgetSec, 600);
  t.throws(() => makePlan({ quick: false, keys: 0 }));
});
