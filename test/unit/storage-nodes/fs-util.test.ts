import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Gate, mkdirTracked } from '../../../storage-nodes/fs-util.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a gate runs at most its limit of sections at once, the rest in arrival order', async (t) => {
  const gate = new Gate(3);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const releases: Array<() => void> = [];
  const all = Array.from({ length: 10 }, (_, i) =>
    gate.run(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      return i * 2;
    }),
  );
  await tick();
  t.deepEqual(started, [0, 1, 2]);
  // Finish them out of order: each finished section lets exactly one waiter in, the oldest.
  releases[1]();
  await tick();
  t.deepEqual(started, [0, 1, 2, 3]);
  while (started.length < 10 || running > 0) {
    releases.shift()?.();
    await tick();
  }
  t.is(most, 3);
  t.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.deepEqual(await Promise.all(all), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
});

test('a section that fails gives its slot back', async (t) => {
  const gate = new Gate(1);
  await t.throwsAsync(
    gate.run(async () => {
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  const failing = gate.run(() => Promise.reject(new Error('again')));
  const after = gate.run(async () => 'ran');
  await t.throwsAsync(failing, { message: 'again' });
  t.is(await after, 'ran');
});

test('mkdirTracked makes the missing dirs below a device dir, and never the device dir itself', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'arca-mkdir-'));
  try {
    const device = join(root, 'd1');
    await mkdir(device);
    const hashDir = join(device, 'objects', '7', 'abc', 'f00');
    t.deepEqual(await mkdirTracked(hashDir, device), [join(device, 'objects'), join(device, 'objects', '7'), join(device, 'objects', '7', 'abc'), hashDir]);
    t.deepEqual(await mkdirTracked(hashDir, device), []);
    t.deepEqual(await mkdirTracked(join(device, 'objects', '7', 'abd'), device), [join(device, 'objects', '7', 'abd')]);

    // The device went away (unmounted, removed): its mount point stays empty.
    await rm(device, { recursive: true });
    const err = await t.throwsAsync(mkdirTracked(hashDir, device));
    t.is((err as NodeJS.ErrnoException).code, 'ENODEV');
    t.false(existsSync(device));
    // The same when the devices' parent dir is gone too.
    const deeper = join(root, 'gone', 'd2');
    t.is(((await t.throwsAsync(mkdirTracked(join(deeper, 'objects', '1'), deeper))) as NodeJS.ErrnoException).code, 'ENODEV');
    t.false(existsSync(join(root, 'gone')));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
