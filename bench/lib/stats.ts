/** Small helpers shared by the benchmarks: latency recording, percentiles, sizes, rounding. */

/** Appends samples to a growing Float64Array: no boxing, one copy per doubling. */
export class Samples {
  #data = new Float64Array(1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  /** A sorted copy of the samples. */
  sorted(): Float64Array {
    return this.#data.slice(0, this.#length).sort();
  }
}

/** Nearest-rank percentile of ascending `sorted` (p in 0..100); undefined when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Rounds to `digits` decimals (default 2). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `4KiB`, `4k`, `1MiB`, `64M`, `1.5GiB`, `1000` → bytes. Suffixes are binary (K = 1024) whatever the spelling. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new Error(`bad size '${text}' (e.g. 4KiB, 1MiB, 64MiB, 1000)`);
  return Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

/** Bytes → the shortest exact binary label: 4096 → `4KiB`, 67108864 → `64MiB`, 1000 → `1000B`. */
export function formatSize(bytes: number): string {
  for (const [unit, f] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${unit}`;
  }
  return `${bytes}B`;
}
