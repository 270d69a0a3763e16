/**
 * The object expirer (Swift's, kept on each storage node): a version stored with `deleteAt` (ms since the
 * epoch; Swift's X-Delete-At) is not served from that moment on (the object server answers 404), and this
 * worker then writes its tombstone. When the object server commits such a version it queues a record in
 * `<device>/expiring/<deleteAt>-<md5(name)>`; `runOnce()` takes the records that are due, oldest first, and
 * — if that version is still the object's — writes a tombstone at the `deleteAt` time itself, so every
 * replica's expirer makes the same tombstone and they agree without talking; then it sends the deleted row
 * to the listing replicas (async pending when one does not take it). A version under an object lock is
 * never removed (the DiskFiles refuse): its record is dropped and the node logs it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { isArcaError } from '../src/common/errors.js';
import { formatTimestamp, type Timestamp } from '../src/common/timestamp.js';
import type { ContainerUpdateTarget, ListingRow } from '../src/common/wire.js';
import type { AsyncPendingRecord } from './async-pending.js';
import type { DiskFiles, ObjectLocation } from './disk-file.js';
import { readdirIfExists, unlinkIfExists, writeFileDurably } from './fs-util.js';

/** One version waiting for its expiry. */
export interface ExpiryRecord {
  location: ObjectLocation;
  account: string;
  bucket: string;
  key: string;
  /** The version's timestamp: only that version is removed. */
  ts: Timestamp;
  deleteAt: number;
  /** Listing replicas to send the deleted row to. */
  targets: ContainerUpdateTarget[];
}

/** The timestamp of an expiry tombstone: the expiry time itself. */
export function expiryTimestamp(deleteAt: number): Timestamp {
  return formatTimestamp(BigInt(Math.floor(deleteAt)) * 1000n);
}

/** The expiry queues of a node's devices. */
export class ExpiryQueue {
  constructor(private readonly opts: { devicesDir: string; fsync: boolean }) {}

  async add(device: string, record: ExpiryRecord): Promise<void> {
    const file = `${expiryTimestamp(record.deleteAt)}-${createHash('md5').update(record.location.name).digest('hex')}`;
    const devicePath = join(this.opts.devicesDir, device);
    await writeFileDurably(join(devicePath, 'tmp'), join(this.#dir(device), file), Buffer.from(JSON.stringify(record)), this.opts.fsync);
  }

  /** Names of the records due at `now`, oldest first. */
  async due(device: string, now: number): Promise<string[]> {
    const cutoff = expiryTimestamp(now);
    const names = (await readdirIfExists(this.#dir(device))) ?? [];
    return names.filter((f) => /^\d{10}\.\d{6}-[0-9a-f]{32}$/.test(f) && f.slice(0, 17) <= cutoff).sort();
  }

  async read(device: string, file: string): Promise<ExpiryRecord | undefined> {
    try {
      return JSON.parse(await fs.promises.readFile(join(this.#dir(device), file), 'utf8')) as ExpiryRecord;
    } catch {
      return undefined;
    }
  }

  async remove(device: string, file: string): Promise<void> {
    await unlinkIfExists(join(this.#dir(device), file));
  }

  #dir(device: string): string {
    return join(this.opts.devicesDir, device, 'expiring');
  }
}

export interface ObjectExpirerDeps {
  devices: readonly string[];
  files: DiskFiles;
  queue: ExpiryQueue;
  sendRows(target: ContainerUpdateTarget, account: string, bucket: string, rows: ListingRow[]): Promise<number>;
  queueUpdate(device: string, record: AsyncPendingRecord): Promise<void>;
  log: (line: string) => void;
  now?: () => number;
}

export interface ExpirerPass {
  expired: number;
  /** Records dropped because a newer version replaced the expiring one. */
  superseded: number;
  /** Versions an object lock kept. */
  locked: number;
}

export class ObjectExpirer {
  constructor(private readonly deps: ObjectExpirerDeps) {}

  async runOnce(signal?: AbortSignal): Promise<ExpirerPass> {
    const pass: ExpirerPass = { expired: 0, superseded: 0, locked: 0 };
    const now = (this.deps.now ?? Date.now)();
    for (const device of this.deps.devices) {
      let due: string[];
      try {
        due = await this.deps.queue.due(device, now);
      } catch (err) {
        this.deps.log(`expirer: ${device}: ${(err as Error).message}`);
        continue;
      }
      for (const file of due) {
        if (signal?.aborted) return pass;
        const record = await this.deps.queue.read(device, file);
        if (record) await this.#expire(device, record, pass);
        await this.deps.queue.remove(device, file);
      }
    }
    return pass;
  }

  async #expire(device: string, r: ExpiryRecord, pass: ExpirerPass): Promise<void> {
    const newest = await this.deps.files.newest(r.location);
    if (newest?.kind !== 'data' || newest.ts !== r.ts) {
      pass.superseded++;
      return;
    }
    const ts = expiryTimestamp(r.deleteAt);
    try {
      await this.deps.files.delete(r.location, ts);
    } catch (err) {
      if (isArcaError(err, 'Locked')) {
        pass.locked++;
        this.deps.log(`expirer: ${r.location.name} is locked; not expired`);
        return;
      }
      if (isArcaError(err, 'Conflict')) {
        pass.superseded++;
        return;
      }
      throw err;
    }
    pass.expired++;
    const row: ListingRow = { name: r.key, ts, deleted: true };
    await Promise.all(
      r.targets.map(async (target) => {
        const status = await this.deps.sendRows(target, r.account, r.bucket, [row]);
        if (status < 200 || status >= 300) await this.deps.queueUpdate(device, { target, account: r.account, bucket: r.bucket, row });
      }),
    );
  }
}
