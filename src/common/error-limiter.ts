/**
 * Swift's error limiting: a device that failed more than `limit` requests (an error, a 5xx, a timeout), each
 * within `intervalMs` of the one before, is limited until `intervalMs` has passed since its last failure:
 * reads ask it last among their primaries (`order`; EC reads, ec-reader.ts), writes (replicated and EC) give
 * its share to a handoff (`withStandIns` in placement.ts). A node that hangs then costs the first requests a
 * timeout each, and the requests after them nothing, until it is offered again. Storage nodes keep one too, for
 * their listing updates to other nodes (listing-updates.ts).
 */
/** A device as the limiter knows it: by address and name. */
export interface LimitedDevice {
  ip: string;
  port: number;
  device: string;
}

export interface ErrorLimiterOptions {
  /** A device with more failures than this is limited (Swift's `error_suppression_limit`, 10); 0 turns limiting off. */
  limit: number;
  /** How long failures count, and a limited device stays limited after its last one (Swift's `error_suppression_interval`, 60 s). */
  intervalMs: number;
  /** The clock (ms; tests). */
  now?: () => number;
}

export class ErrorLimiter {
  readonly #errors = new Map<string, { count: number; last: number }>();
  readonly #now: () => number;

  constructor(private readonly opts: ErrorLimiterOptions) {
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Counts a failed request to `dev`; one that comes `intervalMs` after the last failure starts the count again. */
  failed(dev: LimitedDevice): void {
    if (this.opts.limit <= 0) return;
    const key = deviceKey(dev);
    const now = this.#now();
    const e = this.#errors.get(key);
    if (!e || now - e.last > this.opts.intervalMs) this.#errors.set(key, { count: 1, last: now });
    else {
      e.count++;
      e.last = now;
    }
  }

  /** Whether `dev` is asked last for now. */
  limited(dev: LimitedDevice): boolean {
    if (this.#errors.size === 0) return false;
    const key = deviceKey(dev);
    const e = this.#errors.get(key);
    if (!e) return false;
    if (this.#now() - e.last > this.opts.intervalMs) {
      this.#errors.delete(key);
      return false;
    }
    return e.count > this.opts.limit;
  }

  /** `devices` with the limited ones moved to the end, each group in its order (`devices` itself when none is). */
  order<D extends LimitedDevice>(devices: D[]): D[] {
    if (this.#errors.size === 0) return devices;
    // Each device is judged once: a read's primaries, on every read while any device has failed lately.
    const held = devices.filter((d) => this.limited(d));
    return held.length === 0 ? devices : [...devices.filter((d) => !held.includes(d)), ...held];
  }
}

function deviceKey(dev: LimitedDevice): string {
  return `${dev.ip}:${dev.port}/${dev.device}`;
}
