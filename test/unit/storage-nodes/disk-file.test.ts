import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
