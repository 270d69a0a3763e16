import test from 'ava';
import { WriteActivity } from '../../../storage-nodes/pacer.js';
import { WorkerLoop } from '../../../storage-nodes/worker-loop.js';

test('runs the worker every interval until stopped, surviving a failing pass', async (t) => {
  let passes = 0;
  const logs: string[] = [];
  const loop = new WorkerLoop(
    'test',
    {
      async runOnce() {
        passes++;
        if (passes === 2) throw new Error('boom');
      },
    },
    10,
    (l) => logs.push(l),
  );
  loop.start();
  await new Promise((r) => setTimeout(r, 120));
  await loop.stop();
  const seen = passes;
  t.true(seen >= 3, `${seen} passes`);
  t.true(logs.some((l) => l.includes('boom')));
  await new Promise((r) => setTimeout(r, 40));
  t.is(passes, seen, 'no pass after stop');
});

test('an interval of 0 never runs', async (t) => {
  let passes = 0;
  const loop = new WorkerLoop('off', { runOnce: async () => passes++ }, 0, () => {});
  loop.start();
  await new Promise((r) => setTimeout(r, 30));
  await loop.stop();
  t.is(passes, 0);
});

test('stop asks a long pass to end early through its signal', async (t) => {
  let sawAbort = false;
  const loop = new WorkerLoop(
    'long',
    {
      runOnce: (signal) =>
        new Promise<void>((resolve) => {
          signal?.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          });
        }),
    },
    5,
    () => {},
  );
  loop.start();
  await new Promise((r) => setTimeout(r, 30));
  const start = performance.now();
  await loop.stop();
  t.true(sawAbort);
  t.true(performance.now() - start < 1000);
});

test('a pass that falls due while clients write waits for a quiet moment, or at most maxWaitMs', async (t) => {
  const activity = new WriteActivity();
  t.is(activity.idleMs(), Number.POSITIVE_INFINITY, 'no write yet');
  const passAt: number[] = [];
  const loop = new WorkerLoop('quiet', { runOnce: async () => void passAt.push(performance.now()) }, 20, () => {}, {
    activity,
    quietMs: 60,
    maxWaitMs: 10_000,
  });
  // Writes every 10 ms for 300 ms: the pass due at 20 ms waits until 60 ms after the last of them.
  const start = performance.now();
  activity.touch();
  // The time of the last write itself: a timer that fires late under load would put a clock read after
  // clearInterval well past it.
  let lastWrite = performance.now();
  const writes = setInterval(() => {
    activity.touch();
    lastWrite = performance.now();
  }, 10);
  loop.start();
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(writes);
  t.deepEqual(passAt, [], 'no pass while the writes came');
  await new Promise((r) => setTimeout(r, 200));
  await loop.stop();
  t.true(passAt.length >= 1);
  t.true(passAt[0] - lastWrite >= 50, `first pass ${Math.round(passAt[0] - lastWrite)} ms after the last write`);
  t.true(passAt[0] - start >= 300);

  // Writes that never stop: the pass waits maxWaitMs, then runs anyway.
  const busy = new WriteActivity();
  const capped: number[] = [];
  const loop2 = new WorkerLoop('capped', { runOnce: async () => void capped.push(performance.now()) }, 20, () => {}, {
    activity: busy,
    quietMs: 60,
    maxWaitMs: 100,
  });
  const start2 = performance.now();
  const writes2 = setInterval(() => busy.touch(), 5);
  busy.touch();
  loop2.start();
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(writes2);
  await loop2.stop();
  t.true(capped.length >= 1, 'ran although the writes went on');
  t.true(capped[0] - start2 >= 110, `after ${Math.round(capped[0] - start2)} ms`);
  t.true(capped[0] - start2 < 250, `after ${Math.round(capped[0] - start2)} ms`);
});
