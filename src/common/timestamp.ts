/**
 * Timestamps order every write in the cluster: the proxy assigns one per request and "newest wins" on the
 * storage nodes. The string form is fixed-width (`SSSSSSSSSS.UUUUUU`, seconds and microseconds since the
 * epoch), so timestamps compare correctly as strings and sort correctly as file names.
 */
export type Timestamp = string;

const tsPattern = /^\d{10}\.\d{6}$/;

/** True when `s` is a well-formed timestamp string. */
export function isTimestamp(s: unknown): s is Timestamp {
  return typeof s === 'string' && tsPattern.test(s);
}

/** Formats microseconds since the epoch. */
export function formatTimestamp(micros: bigint | number): Timestamp {
  const us = BigInt(micros);
  const secs = us / 1_000_000n;
  const frac = us % 1_000_000n;
  return `${secs.toString().padStart(10, '0')}.${frac.toString().padStart(6, '0')}`;
}

/** Milliseconds since the epoch of a timestamp (for Last-Modified and listings). */
export function timestampMillis(ts: Timestamp): number {
  const [s, us] = ts.split('.');
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

const twoDigits = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
/** `YYYY-MM-DDT` of days since the epoch, for the days seen lately (listings show few distinct days). */
const isoDays = new Map<number, string>();

/**
 * `new Date(timestampMillis(ts)).toISOString()` (S3's LastModified in listings), without a Date per call: a
 * listing page formats a thousand of them, and `toISOString` was most of the cost of rendering one.
 */
export function timestampIso(ts: Timestamp): string {
  if (!tsPattern.test(ts)) return new Date(timestampMillis(ts)).toISOString();
  const secs = Number(ts.slice(0, 10));
  const day = Math.floor(secs / 86_400);
  let date = isoDays.get(day);
  if (date === undefined) {
    if (isoDays.size >= 4096) isoDays.clear();
    date = new Date(day * 86_400_000).toISOString().slice(0, 11);
    isoDays.set(day, date);
  }
  const s = secs - day * 86_400;
  return `${date}${twoDigits[Math.floor(s / 3600)]}:${twoDigits[Math.floor(s / 60) % 60]}:${twoDigits[s % 60]}.${ts.slice(11, 14)}Z`;
}

/** Compares two timestamps: negative, zero or positive like a sort comparator. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Hands out strictly increasing timestamps for one process, even when the wall clock stalls or steps back.
 * Created once in a process's composition root; `clock` is injectable for tests.
 */
export class TimestampSource {
  #last = 0n;
  constructor(private readonly clock: () => number = () => Date.now()) {}

  /** The next timestamp: the current time in microseconds, or one past the last one handed out. */
  next(): Timestamp {
    const nowMicros = BigInt(Math.floor(this.clock() * 1000));
    this.#last = nowMicros > this.#last ? nowMicros : this.#last + 1n;
    return formatTimestamp(this.#last);
  }
}
