/**
 * Object lock on the storage node itself: both DiskFiles backends refuse to delete or replace a locked
 * version, or to weaken its retention, whoever asks (src/common/object-lock.ts for the rules).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { isArcaError } from '../../../src/common/errors.js';
import { activeLock, assertLockPatch } from '../../../src/common/object-lock.js';
import type { DiskFiles } from '../../../storage-nodes/disk-file.js';
import { FsDiskFiles } from '../../../storage-nodes/fs-disk-file.js';
import { MemoryDiskFiles } from '../../../storage-nodes/memory-disk-file.js';
import { writeObject } from './disk-file.conformance.js';

const now = 1_700_000_100_000;
const later = now + 3600_000;
const t1 = '1700000001.000000';
const t2 = '1700000002.000000';
const t3 = '1700000003.000000';
const t4 = '1700000004.000000';

async function backends(): Promise<Array<{ name: string; files: DiskFiles; cleanup(): Promise<void> }>> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-lock-'));
  await mkdir(join(dir, 'd1'));
  const fsFiles = new FsDiskFiles({ devicesDir: dir, devices: ['d1'], fsync: false, now: () => now });
  await fsFiles.prepareDevice('d1');
  return [
    { name: 'memory', files: new MemoryDiskFiles(['d1'], () => now), cleanup: async () => {} },
    { name: 'fs', files: fsFiles, cleanup: () => rm(dir, { recursive: true, force: true }) },
  ];
}

const loc = { device: 'd1', policyIndex: 0, partition: 3, name: '/a/b+versions/k' };
const locked = (err: unknown) => isArcaError(err, 'Locked');

test('compliance retention: no tombstone, no newer data, no shortening, even with bypass', async (t) => {
  for (const b of await backends()) {
    try {
      await writeObject(b.files, loc, t1, Buffer.from('x'), { retention: { mode: 'COMPLIANCE', retainUntil: later } });
      t.true(locked(await t.throwsAsync(b.files.delete(loc, t2, { bypassGovernance: true }))), b.name);
      t.true(locked(await t.throwsAsync(writeObject(b.files, loc, t3, Buffer.from('y')))), b.name);
      t.true(locked(await t.throwsAsync(b.files.post(loc, t3, { retention: null }, { bypassGovernance: true }))), b.name);
      t.true(locked(await t.throwsAsync(b.files.post(loc, t3, { retention: { mode: 'GOVERNANCE', retainUntil: later + 1 } }))), b.name);
      // Extending is allowed, and so are other metadata changes.
      const ext = await b.files.post(loc, t3, { retention: { mode: 'COMPLIANCE', retainUntil: later + 1 }, tags: [] });
      t.is(ext.kind, 'posted', b.name);
      const f = await b.files.open(loc);
      t.is(f?.kind, 'data', b.name);
      if (f?.kind === 'data') {
        t.is(f.read().toString(), 'x', b.name);
        t.is(activeLock(f.meta, now), 'compliance', b.name);
      }
    } finally {
      await b.cleanup();
    }
  }
});

test('governance retention yields to a bypassing delete; a legal hold yields to nothing', async (t) => {
  for (const b of await backends()) {
    try {
      await writeObject(b.files, loc, t1, Buffer.from('x'), { retention: { mode: 'GOVERNANCE', retainUntil: later } });
      t.true(locked(await t.throwsAsync(b.files.delete(loc, t2))), b.name);
      await b.files.post(loc, t2, { legalHold: true });
      t.true(locked(await t.throwsAsync(b.files.delete(loc, t3, { bypassGovernance: true }))), b.name);
      await b.files.post(loc, t3, { legalHold: false });
      const out = await b.files.delete(loc, t4, { bypassGovernance: true });
      t.is(out.previous, 'data', b.name);
    } finally {
      await b.cleanup();
    }
  }
});

test('an expired retention no longer protects', async (t) => {
  for (const b of await backends()) {
    try {
      await writeObject(b.files, loc, t1, Buffer.from('x'), { retention: { mode: 'COMPLIANCE', retainUntil: now - 1 } });
      t.is((await b.files.delete(loc, t2)).previous, 'data', b.name);
    } finally {
      await b.cleanup();
    }
  }
});

test('lock patch rules', (t) => {
  const gov = { retention: { mode: 'GOVERNANCE', retainUntil: later } };
  t.notThrows(() => assertLockPatch(gov, { retention: { mode: 'COMPLIANCE', retainUntil: later } }, now));
  t.throws(() => assertLockPatch(gov, { retention: { mode: 'GOVERNANCE', retainUntil: now + 1 } }, now));
  t.notThrows(() => assertLockPatch(gov, { retention: null }, now, true));
  t.notThrows(() => assertLockPatch(gov, { tags: [] }, now));
});
