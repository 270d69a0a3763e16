import { createHook } from 'node:async_hooks';
import test from 'ava';
import { parseBackendPath, partitionPath } from '../../../src/common/wire.js';
import { minPauseMs, Pacer, TokenBucket, WriteActivity } from '../../../storage-nodes/pacer.js';

test('the pacer sleeps tranquility times the work, and at least enough to stay under the rate', async (t) => {
  let now = 0;
  const tranquil = new Pacer({ maxPerSec: 0, tranquility: 2, clock: () => now });
  tranquil.begin();
  now += 10; // 10 ms of work → 20 ms of pause
  const start = performance.now();
  await tranquil.end();
  t.true(performance.now() - start >= 15);

  const capped = new Pacer({ maxPerSec: 20, tranquility: 0 });
  const t0 = performance.now();
  for (let i = 0; i < 4; i++) {
    capped.begin();
    await capped.end();
  }
  t.true(performance.now() - t0 >= 190, 'four units at 20/s take at least 200 ms');
});

test('a pacer with quiet yields to client writes between units, within its budget for the pass', async (t) => {
  const activity = new WriteActivity();
  const pacer = new Pacer({ maxPerSec: 0, tranquility: 0, quiet: { activity, quietMs: 50, maxWaitMs: 120 } });
  // No write yet: no wait.
  let start = performance.now();
  pacer.begin();
  await pacer.end();
  t.true(performance.now() - start < 30);
  // A write just now: the unit after it waits until 50 ms have passed since.
  activity.touch();
  start = performance.now();
  pacer.begin();
  await pacer.end();
  const waited = performance.now() - start;
  t.true(waited >= 45 && waited < 110, `waited ${Math.round(waited)} ms`);
  // Writes that go on: it waits what is left of its 120 ms, then no more.
  const writes = setInterval(() => activity.touch(), 5);
  activity.touch();
  start = performance.now();
  pacer.begin();
  await pacer.end();
  pacer.begin();
  await pacer.end();
  clearInterval(writes);
  const rest = performance.now() - start;
  t.true(rest >= 55 && rest < 110, `waited ${Math.round(rest)} ms more, the rest of the budget`);
});

test('short pauses add up and are slept together, at the same average pace', async (t) => {
  const pacer = new Pacer({ maxPerSec: 10_000, tranquility: 0 });
  const timers = { n: 0 };
  const hook = createHook({ init: (_id, type) => void (type === 'Timeout' && timers.n++) }).enable();
  const start = performance.now();
  for (let i = 0; i < 1000; i++) {
    pacer.begin();
    await pacer.end();
  }
  hook.disable();
  t.true(performance.now() - start >= 90, '1,000 units at 10,000/s take at least 100 ms');
  t.true(timers.n <= 1000 / minPauseMs + 5, `${timers.n} timers, not one per unit`);
});

test('a stop signal cuts a pause short', async (t) => {
  const pacer = new Pacer({ maxPerSec: 0.01, tranquility: 0 });
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 20);
  const start = performance.now();
  pacer.begin();
  await pacer.end(stop.signal);
  t.true(performance.now() - start < 1000);
});

test('the token bucket allows a second of burst, then holds to its rate', async (t) => {
  const bucket = new TokenBucket(10_000);
  const start = performance.now();
  await bucket.take(10_000);
  t.true(performance.now() - start < 50);
  await bucket.take(2_000);
  t.true(performance.now() - start >= 180);
});

test('partition and device paths parse as their own kinds; object and listing paths are unchanged', (t) => {
  t.is(partitionPath('o', 'sd b', 12), '/o/sd%20b/12');
  t.deepEqual(parseBackendPath('/o/sd%20b/12'), { kind: 'partition', server: 'object', device: 'sd b', partition: 12 });
  t.deepEqual(parseBackendPath('/l/d1/0'), { kind: 'partition', server: 'listing', device: 'd1', partition: 0 });
  t.is(parseBackendPath('/o/d1/'), undefined);
  t.is(parseBackendPath('/x/d1/3'), undefined);
  t.like(parseBackendPath('/o/d1/3/a/b/k'), { kind: 'object', key: 'k' });
  t.like(parseBackendPath('/l/d1/3/a'), { kind: 'listing', account: 'a' });
  t.deepEqual(parseBackendPath('/o/sd%20b'), { kind: 'device', device: 'sd b' });
  t.is(parseBackendPath('/o/'), undefined);
  t.is(parseBackendPath('/l/d1'), undefined, 'listing servers have no device path');
  t.is(parseBackendPath('/o/%zz'), undefined);
});
