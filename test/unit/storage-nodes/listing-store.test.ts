import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelListingStore } from '../../../storage-nodes/level-listing-store.js';
import { MemoryListingStore } from '../../../storage-nodes/memory-listing-store.js';
import { listingStoreConformance } from './listing-store.conformance.js';

listingStoreConformance('MemoryListingStore', async () => ({ store: new MemoryListingStore(['d1']), device: 'd1', cleanup: async () => {} }));

listingStoreConformance('LevelListingStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'arca-ls-'));
  await mkdir(join(dir, 'd1'));
  const store = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
  return {
    store,
    device: 'd1',
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
