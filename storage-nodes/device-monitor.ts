/**
 * Notices devices that were wiped while the node runs and makes them usable again, so the repair workers
 * refill them without a restart. A device whose directory exists and is writable but has lost its `tmp/` or
 * its listing database (`listings/CURRENT`) is taken to be a new, empty disk — as at startup, where an empty
 * device dir is prepared the same way: `tmp/` is made again and the listing database reopened (a new, empty
 * one) — and its change epoch is renewed, so its peers' replicators compare all of its partitions again and,
 * with its own reconstructor, fill it (docs/repair.md).
 *
 * A device whose directory is missing or not writable stays unavailable (507: unmounted) until it is back.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { FsDiskFiles } from './fs-disk-file.js';

export interface DeviceMonitorDeps {
  devices: readonly string[];
  files: Pick<FsDiskFiles, 'devicePath' | 'prepareDevice'>;
  /** Reopens a device's listing database (creating it when it is gone). */
  listings: { reopen(device: string): Promise<void> };
  /** Told about each device made new, so its change epoch changes and peers compare all of it (FsPartitions). */
  partitions: { deviceReset(device: string): void };
  log: (line: string) => void;
}

/** What one pass found. */
export interface DeviceCheckStats {
  checked: number;
  /** Devices whose directory is missing or unusable (left alone). */
  unavailable: number;
  /** Wiped devices made usable again. */
  recreated: number;
}

/** Checks the node's devices; `runOnce` is one pass. */
export class DeviceMonitor {
  constructor(private readonly deps: DeviceMonitorDeps) {}

  async runOnce(): Promise<DeviceCheckStats> {
    const stats: DeviceCheckStats = { checked: 0, unavailable: 0, recreated: 0 };
    for (const device of this.deps.devices) {
      stats.checked++;
      const path = this.deps.files.devicePath(device);
      if (!(await usableDir(path))) {
        stats.unavailable++;
        continue;
      }
      const hasTmp = await exists(join(path, 'tmp'));
      const hasListings = await exists(join(path, 'listings', 'CURRENT'));
      if (hasTmp && hasListings) continue;
      this.deps.log(`device monitor: ${path} has lost ${hasTmp ? '' : 'tmp/ '}${hasListings ? '' : 'its listing database '}(wiped or replaced): making it a new empty device`);
      try {
        // Only a missing tmp/ is made again: prepareDevice clears tmp/, which would cut writes in progress.
        if (!hasTmp) await this.deps.files.prepareDevice(device);
        if (!hasListings) await this.deps.listings.reopen(device);
        this.deps.partitions.deviceReset(device);
        stats.recreated++;
      } catch (err) {
        stats.unavailable++;
        this.deps.log(`device monitor: cannot recreate ${path}: ${(err as Error).message}`);
      }
    }
    return stats;
  }
}

async function usableDir(path: string): Promise<boolean> {
  try {
    if (!(await fs.promises.stat(path)).isDirectory()) return false;
    await fs.promises.access(path, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.promises.access(path);
    return true;
  } catch {
    return false;
  }
}
