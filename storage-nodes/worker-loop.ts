/**
 * The throttled loop that runs a background worker in production: `runOnce`, then sleep the interval, until
 * stopped. Domain code stays free of timers; tests call `runOnce` directly instead.
 *
 * A loop given `quiet` holds a pass that falls due while clients are writing to the node: it starts once no
 * client write has arrived for `quietMs`, or once it has waited `maxWaitMs`, whichever comes first. The
 * replicators' passes after a burst of writes rehash and compare every partition the burst changed; a pass
 * that starts in the middle of the burst does that for partitions the rest of the burst changes again, and
 * takes the cores from the writes meanwhile (docs/repair.md, "Passes wait for a quiet moment"). A pass under
 * way yields to client writes the same way between partitions (pacer.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type QuietOptions, waitForQuiet } from './pacer.js';

export interface Worker {
  /** One pass; a long pass should stop early (between units of work) when `signal` aborts. */
  runOnce(signal?: AbortSignal): Promise<unknown>;
}

/** Runs a worker every `intervalMs` (0 = never) until `stop()`. */
export class WorkerLoop {
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly worker: Worker,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    private readonly quiet?: QuietOptions,
  ) {}

  /** Starts the loop (first pass after one interval, so startup stays quick). */
  start(): void {
    if (this.intervalMs <= 0 || this.#running) return;
    this.#running = this.#loop();
  }

  /** Stops the loop, asks a pass in progress to stop early, and waits for it to finish. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await sleep(this.intervalMs, undefined, { signal });
      } catch {
        return; // aborted while sleeping
      }
      if (this.quiet) await waitForQuiet(this.quiet, this.quiet.maxWaitMs, signal);
      if (signal.aborted) return;
      try {
        await this.worker.runOnce(signal);
      } catch (err) {
        this.log(`${this.name}: pass failed: ${(err as Error).stack ?? err}`);
      }
    }
  }
}
