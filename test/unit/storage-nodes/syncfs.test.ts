import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { FileSystemSyncer } from '../../../storage-nodes/syncfs.js';
import { withDeviceDir as withDir } from './write-fixture.js';

test.serial('one helper flushes one directory after another, in order; a missing directory fails with EIO and the next request still works', async (t) => {
  await withDir(async (dir) => {
    const syncer = new FileSystemSyncer();
    try {
      const order: number[] = [];
      await Promise.all([0, 1, 2, 3].map((i) => syncer.sync(dir).then(() => order.push(i))));
      t.deepEqual(order, [0, 1, 2, 3]);
      const pid = syncer.helperPid;
      t.truthy(pid, 'one helper process answered them all');
      const err = await t.throwsAsync(syncer.sync(join(dir, 'missing')));
      t.is((err as NodeJS.ErrnoException).code, 'EIO');
      t.regex(err!.message, /missing/);
      await syncer.sync(dir);
      t.is(syncer.helperPid, pid, 'the same helper answered');
      // A name with a line break goes to a sync -f of its own; the helper's line protocol never sees it.
      const odd = join(dir, 'a\nb');
      await mkdir(odd);
      await syncer.sync(odd);
      await t.throwsAsync(syncer.sync(join(dir, 'missing\nname')), { code: 'EIO' });
      t.is(syncer.helperPid, pid);
      await syncer.sync(dir);
    } finally {
      syncer.close();
    }
  });
});

test.serial('a helper that died fails what it had and the next request starts another; a request without an answer times out', async (t) => {
  await withDir(async (dir) => {
    const syncer = new FileSystemSyncer(300);
    try {
      await syncer.sync(dir);
      const pid = syncer.helperPid!;
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      await syncer.sync(dir);
      const next = syncer.helperPid!;
      t.not(next, pid);
      // A stopped helper answers nothing: the request fails after the timeout, and the helper is replaced.
      process.kill(next, 'SIGSTOP');
      const err = await t.throwsAsync(syncer.sync(dir));
      t.regex(err!.message, /no answer in 300 ms/);
      await syncer.sync(dir);
      t.not(syncer.helperPid, next);
    } finally {
      syncer.close();
    }
  });
});

test('the helper does not keep a process alive once its flushes are answered', async (t) => {
  await withDir(async (dir) => {
    const module = fileURLToPath(new URL('../../../storage-nodes/syncfs.js', import.meta.url));
    const script = `import(${JSON.stringify(module)}).then(async (m) => { await m.syncFileSystem(${JSON.stringify(dir)}); console.log('synced'); })`;
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 10_000 });
    t.is(stdout.trim(), 'synced');
    t.true(Date.now() - t0 < 10_000);
  });
});
