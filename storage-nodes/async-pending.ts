/**
 * Swift's async pending: a listing update that no listing replica took in time is written durably to
 * `<device>/async_pending/<ts>-<key>` (`key` = hash of the object name and the target), so the updater can
 * replay it later and listings converge without loss. Names sort oldest first; a newer record for the same
 * object and target makes older ones obsolete (listings keep the newest row anyway).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { ContainerUpdateTarget, ListingRow } from '../src/common/wire.js';
import { DeviceUnavailableError } from './disk-file.js';
import { readdirIfExists, unlinkIfExists, writeFileDurably } from './fs-util.js';

/** One queued listing update. */
export interface AsyncPendingRecord {
  target: ContainerUpdateTarget;
  account: string;
  bucket: string;
  row: ListingRow;
}

/** A queued record as found on disk. */
export interface QueuedRecord {
  device: string;
  /** File name: `<ts>-<key>`. */
  file: string;
  /** Identifies the object and target; records with the same key supersede each other by timestamp. */
  key: string;
}

export interface AsyncPendingQueueOptions {
  devicesDir: string;
  fsync: boolean;
}

/** The async-pending directories of a node's devices. */
export class AsyncPendingQueue {
  constructor(private readonly opts: AsyncPendingQueueOptions) {}

  /** Writes a record durably (tmp → fsync → rename → fsync dir). */
  async add(device: string, record: AsyncPendingRecord): Promise<void> {
    const { target, account, bucket, row } = record;
    const key = createHash('md5').update(`${account}\0${bucket}\0${row.name}\0${target.ip}\0${target.port}\0${target.device}\0${target.partition}`).digest('hex');
    const devicePath = join(this.opts.devicesDir, device);
    try {
      await writeFileDurably(join(devicePath, 'tmp'), join(devicePath, 'async_pending', `${row.ts}-${key}`), Buffer.from(JSON.stringify(record)), this.opts.fsync);
    } catch (err) {
      throw new DeviceUnavailableError(device, devicePath, `cannot queue a listing update: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  }

  /** The device's records, oldest first. */
  async list(device: string): Promise<QueuedRecord[]> {
    const names = (await readdirIfExists(this.#dir(device))) ?? [];
    return names
      .filter((f) => /^\d{10}\.\d{6}-[0-9a-f]{32}$/.test(f))
      .sort()
      .map((file) => ({ device, file, key: file.slice(18) }));
  }

  /** Reads a record; undefined when it is gone or unreadable (a torn record is dropped by the caller). */
  async read(q: QueuedRecord): Promise<AsyncPendingRecord | undefined> {
    try {
      return JSON.parse(await fs.promises.readFile(join(this.#dir(q.device), q.file), 'utf8')) as AsyncPendingRecord;
    } catch {
      return undefined;
    }
  }

  /** Removes a record once a listing replica took it (or a newer one replaced it). */
  async remove(q: QueuedRecord): Promise<void> {
    await unlinkIfExists(join(this.#dir(q.device), q.file));
  }

  #dir(device: string): string {
    return join(this.opts.devicesDir, device, 'async_pending');
  }
}
