import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DeviceUnavailableError } from '../../../storage-nodes/disk-file.js';
import { FsDiskFiles } from '../../../storage-nodes/fs-disk-file.js';
import { MemoryDiskFiles } from '../../../storage-nodes/memory-disk-file.js';
import { diskFilesConformance } from './disk-file.conformance.js';

diskFilesConformance('MemoryDiskFiles', async () => ({ files: new MemoryDiskFiles(['d1']), device: 'd1', cleanup: async () => {} }));

for (const fsync of [true, false]) {
  diskFilesConformance(`FsDiskFiles (fsync ${fsync})`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arca-df-'));
    await mkdir(join(dir, 'd1'));
    const files = new FsDiskFiles({ devicesDir: dir, devices: ['d1'], fsync });
    await files.prepareDevice('d1');
    return { files, device: 'd1', cleanup: () => rm(dir, { recursive: true, force: true }) };
  });
}

test('MemoryDiskFiles: a failed device is unavailable until it is healthy again', async (t) => {
  const files = new MemoryDiskFiles(['d1']);
  const loc = { device: 'd1', policyIndex: 0, partition: 1, name: '/a/b/k' };
  files.setAvailable('d1', false);
  t.true((await t.throwsAsync(files.open(loc))) instanceof DeviceUnavailableError);
  files.setAvailable('d1', true);
  t.is(await files.open(loc), undefined);
});
