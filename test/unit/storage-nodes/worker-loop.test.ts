import test from 'ava';
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
