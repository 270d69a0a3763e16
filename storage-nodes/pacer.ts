/**
 * How background work is paced so it never starves client requests. `Pacer` is Garage's tranquilizer with a
 * rate cap: after each unit of work (a partition), sleep `tranquility` times as long as the unit took, and at
 * least long enough to stay under `maxPerSec` (short pauses added up: `minPauseMs`). `TokenBucket` caps a byte
 * rate (the auditor's reads). Both sleep through an AbortSignal, so stopping a worker never waits out a pause.
 *
 * A pacer given `quiet` also yields to client writes: after a unit, while a client write arrived less than
 * `quietMs` ago, it waits for a quiet moment, at most `maxWaitMs` in all over its pass (docs/repair.md,
 * "Passes wait for a quiet moment").
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** When a client write last arrived at this node (the object server `touch`es it; loops and pacers read it). */
export class WriteActivity {
  #last = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = () => performance.now()) {}

  touch(): void {
    this.#last = this.now();
  }

  /** Milliseconds since the last client write (Infinity when none came). */
  idleMs(): number {
    return this.now() - this.#last;
  }
}

export interface QuietOptions {
  activity: WriteActivity;
  /** Work waits until no client write arrived for this long; 0 = it never waits. */
  quietMs: number;
  /** …or until it waited this long (a loop: for each pass to start; a pacer: in all, over its pass). */
  maxWaitMs: number;
}

export interface PacerOptions {
  /** Most units per second; 0 = no cap. */
  maxPerSec: number;
  /** Sleep this many times the duration of each unit; 0 = none. */
  tranquility: number;
  /** Yield to client writes. */
  quiet?: QuietOptions;
  /** Milliseconds clock (tests). */
  clock?: () => number;
}

/**
 * Shorter pauses than this are not slept at once but added up, and slept together once they reach it: a walk over
 * thousands of partitions that each take a fraction of a millisecond costs a few timers instead of one per
 * partition, at the same average pace.
 */
export const minPauseMs = 10;

/** Paces units of work: call `begin()` before a unit and `await end()` after it. */
export class Pacer {
  readonly #clock: () => number;
  #started = 0;
  /** Pause owed and not slept yet (ms). */
  #owed = 0;
  /** Waited for quiet so far (ms). */
  #waited = 0;

  constructor(private readonly opts: PacerOptions) {
    this.#clock = opts.clock ?? (() => performance.now());
  }

  begin(): void {
    this.#started = this.#clock();
  }

  /** Sleeps as the options ask after the unit that began with the last `begin()`. */
  async end(signal?: AbortSignal): Promise<void> {
    const worked = this.#clock() - this.#started;
    let delay = worked * this.opts.tranquility;
    // A unit and its pause together take at least 1/maxPerSec.
    if (this.opts.maxPerSec > 0) delay = Math.max(delay, 1000 / this.opts.maxPerSec - worked);
    this.#owed += Math.max(0, delay);
    await this.#quietMoment(signal);
    if (this.#owed < minPauseMs) return;
    const from = this.#clock();
    await pause(this.#owed, signal);
    this.#owed = Math.max(0, this.#owed - (this.#clock() - from));
  }

  /** Waits while client writes arrive, within what is left of `quiet.maxWaitMs`; the wait pays what is owed. */
  async #quietMoment(signal?: AbortSignal): Promise<void> {
    const q = this.opts.quiet;
    if (!q) return;
    const waited = await waitForQuiet(q, q.maxWaitMs - this.#waited, signal);
    this.#waited += waited;
    this.#owed = Math.max(0, this.#owed - waited);
  }
}

/**
 * Waits until no client write has arrived for `q.quietMs`, or for at most `budgetMs`, or until `signal`
 * aborts (without throwing); resolves to the milliseconds it waited.
 */
export async function waitForQuiet(q: QuietOptions, budgetMs: number, signal?: AbortSignal): Promise<number> {
  let waited = 0;
  if (q.quietMs <= 0) return waited;
  for (;;) {
    const wait = Math.min(q.quietMs - q.activity.idleMs(), budgetMs - waited);
    if (wait <= 0 || signal?.aborted) return waited;
    await pause(wait, signal);
    waited += wait;
  }
}

/** A token bucket of `ratePerSec` with one second of burst; taking more than is there sleeps off the debt. */
export class TokenBucket {
  readonly #clock: () => number;
  #tokens: number;
  #at: number;

  constructor(
    private readonly ratePerSec: number,
    clock?: () => number,
  ) {
    this.#clock = clock ?? (() => performance.now());
    this.#tokens = ratePerSec;
    this.#at = this.#clock();
  }

  /** Takes `n` tokens, sleeping until the bucket is out of debt. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const now = this.#clock();
    this.#tokens = Math.min(this.ratePerSec, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSec);
    this.#at = now;
    this.#tokens -= n;
    if (this.#tokens < 0) await pause((-this.#tokens / this.ratePerSec) * 1000, signal);
  }
}

/** Sleeps `ms` (nothing for ≤ 0); returns early, without throwing, when `signal` aborts. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks the signal
  }
}
