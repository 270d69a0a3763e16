/**
 * The last pass of each background worker of a node, for recon (`GET /recon/status`): when it started, how
 * long it took and the stats its `runOnce()` returned. Kept in memory and written to `<device>/recon.json` on
 * every device after each pass (tmp file in the device's `tmp/`, then rename; no fsync — it is a report, not
 * data), so a restarted node still shows what its workers last did; at startup the newest record of each
 * worker over all devices is taken. A device without `tmp/` (unmounted, or wiped) gets nothing written.
 *
 * A recorded worker never runs two passes at once: the loop's passes and those asked through `/recon/run`
 * queue behind each other.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { ReconPass, ReconWorker, ReconWorkerName } from '../src/common/wire.js';
import { tmpName } from './fs-util.js';
import type { Worker } from './worker-loop.js';

/** File name of the record in a device dir. */
export const reconFileName = 'recon.json';

interface ReconFile {
  format: 'arca-recon';
  version: 1;
  workers: Partial<Record<ReconWorkerName, ReconPass>>;
}

export interface PassRecorderDeps {
  devicesDir: string;
  devices: readonly string[];
  log: (line: string) => void;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

interface Entry {
  worker: Worker;
  intervalSec: number;
  running?: string;
  last?: ReconPass;
  /** The pass in progress or queued last: the next one waits for it. */
  tail: Promise<unknown>;
}

/** Records the passes of a node's workers; one per node, made by the composition root. */
export class PassRecorder {
  readonly #entries = new Map<ReconWorkerName, Entry>();
  readonly #now: () => number;
  /** Persisting runs one write at a time, so an older snapshot never replaces a newer one. */
  #persisting: Promise<void> = Promise.resolve();

  constructor(private readonly deps: PassRecorderDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** Reads the records an earlier run of the node left (the newest pass of each worker over all devices). */
  async load(): Promise<void> {
    for (const device of this.deps.devices) {
      let file: ReconFile;
      try {
        file = JSON.parse(await fs.promises.readFile(join(this.deps.devicesDir, device, reconFileName), 'utf8')) as ReconFile;
      } catch {
        continue; // none yet, or torn: only a report is lost
      }
      if (file?.format !== 'arca-recon' || typeof file.workers !== 'object' || file.workers === null) continue;
      for (const [name, pass] of Object.entries(file.workers) as Array<[ReconWorkerName, ReconPass]>) {
        const entry = this.#entries.get(name);
        if (entry && typeof pass?.start === 'string' && (!entry.last || entry.last.start < pass.start)) entry.last = pass;
      }
    }
  }

  /**
   * Registers a worker under `name` and returns it wrapped: each `runOnce` waits for the worker's previous
   * pass, then runs and is recorded. Register every worker before `load()`.
   */
  wrap(name: ReconWorkerName, worker: Worker, intervalSec: number): Worker {
    this.#entries.set(name, { worker, intervalSec, tail: Promise.resolve() });
    return { runOnce: (signal?: AbortSignal) => this.run(name, signal).then((pass) => pass.stats) };
  }

  /** Runs one pass of a registered worker (after any pass in progress) and records it. */
  run(name: ReconWorkerName, signal?: AbortSignal): Promise<ReconPass> {
    const entry = this.#entries.get(name);
    if (!entry) return Promise.reject(new Error(`no worker ${name}`));
    const pass = entry.tail.then(() => this.#pass(entry, signal));
    entry.tail = pass.catch(() => {});
    return pass;
  }

  /** Every registered worker with its running and last pass. */
  workers(): ReconWorker[] {
    return [...this.#entries].map(([name, e]) => ({
      name,
      intervalSec: e.intervalSec,
      ...(e.running ? { running: e.running } : {}),
      ...(e.last ? { last: e.last } : {}),
    }));
  }

  /** The last finished pass of a worker. */
  last(name: ReconWorkerName): ReconPass | undefined {
    return this.#entries.get(name)?.last;
  }

  /** Waits for the records written so far (close, tests). */
  flush(): Promise<void> {
    return this.#persisting;
  }

  async #pass(entry: Entry, signal?: AbortSignal): Promise<ReconPass> {
    const started = this.#now();
    entry.running = new Date(started).toISOString();
    let pass: ReconPass;
    try {
      const stats = await entry.worker.runOnce(signal);
      pass = { start: entry.running, durationMs: this.#now() - started, stats: numbersOf(stats) };
    } catch (err) {
      pass = { start: entry.running, durationMs: this.#now() - started, error: (err as Error)?.message ?? String(err) };
      entry.last = pass;
      entry.running = undefined;
      this.#persist();
      throw err;
    }
    entry.last = pass;
    entry.running = undefined;
    this.#persist();
    return pass;
  }

  #persist(): void {
    const file: ReconFile = { format: 'arca-recon', version: 1, workers: {} };
    for (const [name, e] of this.#entries) if (e.last) file.workers[name] = e.last;
    const text = JSON.stringify(file);
    this.#persisting = this.#persisting.then(() => Promise.all(this.deps.devices.map((d) => this.#write(d, text))).then(() => {}));
  }

  async #write(device: string, text: string): Promise<void> {
    const dir = join(this.deps.devicesDir, device);
    const tmp = join(dir, 'tmp', `recon.${tmpName()}`);
    try {
      await fs.promises.writeFile(tmp, text, { flag: 'wx' });
      await fs.promises.rename(tmp, join(dir, reconFileName));
    } catch (err) {
      await fs.promises.unlink(tmp).catch(() => {});
      // No tmp/ means no device to write to (unmounted or wiped): nothing to report.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.log(`recon: cannot write ${dir}/${reconFileName}: ${(err as Error).message}`);
    }
  }
}

/** The numeric fields of a worker's stats (the rest is not part of the report). */
function numbersOf(stats: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof stats !== 'object' || stats === null) return out;
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') out[k] = v;
  return out;
}
