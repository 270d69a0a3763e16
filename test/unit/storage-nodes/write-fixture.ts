/** Test fixture for the write queue and journal: a device dir in a temp dir, and write jobs into partition 1. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WriteRequest } from '../../../storage-nodes/write-queue.js';

/** A hash of 32 hex digits for object `i`. */
export const hashOf = (i: number) => i.toString(16).padStart(32, '0');

/** Runs `fn` with a device dir that has `tmp/` and `objects/1/`, removed afterwards. */
export async function withDeviceDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-wq-'));
  try {
    await mkdir(join(dir, 'tmp'));
    await mkdir(join(dir, 'objects', '1'), { recursive: true });
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A write of `body` as file `file` of the object with hash `hash`, in partition 1 of the device at `dir`. */
export function writeJob(dir: string, hash: string, file: string, body: string, extra: Partial<WriteRequest> = {}): WriteRequest {
  return {
    queue: dir,
    name: `/a/b/${hash}`,
    hashDir: join(dir, 'objects', '1', hash.slice(-3), hash),
    file,
    tmpPath: join(dir, 'tmp', `${hash}-${file}`),
    data: new TextEncoder().encode(body),
    invalidPath: join(dir, 'objects', '1', 'hashes.invalid'),
    invalidLine: `${hash.slice(-3)}\n`,
    sync: true,
    now: Date.now(),
    bypassGovernance: false,
    ...extra,
  };
}
