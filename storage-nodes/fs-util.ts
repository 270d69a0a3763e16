/**
 * Small file-system helpers of the storage node: numeric-fd calls (cheaper than FileHandle on the hot path),
 * directory fsync, durable small-file writes, and a per-key mutex.
 */
import * as fs from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { promisify } from 'node:util';

export const openFd = promisify(fs.open);
export const closeFd = promisify(fs.close);
export const fsyncFd = promisify(fs.fsync);
export const fdatasyncFd = promisify(fs.fdatasync);
const writevFd = promisify(fs.writev);

/**
 * Reads exactly `length` bytes at `position` (fewer only at end of file), without the thread pool: for a read's
 * footer and small body, which the page cache holds.
 */
export function preadFullSync(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const bytesRead = fs.readSync(fd, buf, done, length - done, position + done);
    if (bytesRead === 0) return buf.subarray(0, done);
    done += bytesRead;
  }
  return buf;
}

/** Writes all of `chunks` at `position`, looping over short writes. */
export async function pwritevAll(fd: number, chunks: Uint8Array[], position: number): Promise<number> {
  let total = 0;
  for (const c of chunks) total += c.length;
  let written = 0;
  let rest = chunks;
  while (written < total) {
    const n = (await writevFd(fd, rest, position + written)) as unknown as number;
    written += n;
    if (written < total) rest = dropBytes(rest, n);
  }
  return total;
}

function dropBytes(chunks: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (n >= c.length) {
      n -= c.length;
      continue;
    }
    out.push(n > 0 ? c.subarray(n) : c);
    n = 0;
  }
  return out;
}

/** fsyncs a directory, making the renames and unlinks in it durable. */
export async function fsyncDir(path: string): Promise<void> {
  const fd = await openFd(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/**
 * Creates `dir` and any missing parents below `within` (a device's directory); returns the directories it
 * created (outermost first) so the caller can fsync their parents, or [] when `dir` existed. `within` itself
 * is never made: when it is missing (the device was unmounted or removed) a plain `mkdir -p` would make it
 * again, on the disk under the mount point, and the device would look present. That throws ENODEV instead,
 * after removing the directories it made.
 */
export async function mkdirTracked(
  dir: string,
  within: string,
  mkdirp: (dir: string) => Promise<string | undefined> = (d) => fs.promises.mkdir(d, { recursive: true }),
): Promise<string[]> {
  const first = await mkdirp(dir);
  if (first === undefined) return [];
  const created: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    created.unshift(d);
    if (d === first || d === dirname(d)) break;
  }
  if (!first.startsWith(within + sep)) {
    // Deepest first. A dir another writer already put something in stays (rmdir fails on a non-empty dir).
    for (const d of created.reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        // Not empty or gone: leave it.
      }
    }
    throw Object.assign(new Error(`ENODEV: ${within} is missing; not made again under ${dirname(within)}`), { code: 'ENODEV', path: within });
  }
  return created;
}

/** readdir that answers undefined for a missing directory. */
export async function readdirIfExists(dir: string): Promise<string[] | undefined> {
  try {
    return await fs.promises.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** readdirIfExists without the thread pool. */
export function readdirIfExistsSync(dir: string): string[] | undefined {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** unlink that ignores a file already gone. */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await fs.promises.unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** unlinkIfExists without the thread pool. */
export function unlinkIfExistsSync(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** A file's content (latin1), or undefined when it does not exist; without the thread pool. */
export function readFileIfExistsSync(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Writes a small file atomically and (with `sync`) durably: tmp file in `tmpDir` (a device's `tmp/`) → fsync
 * → rename → fsync the destination dir (and any dirs created for it, all below the device's dir).
 */
export async function writeFileDurably(tmpDir: string, dest: string, data: Uint8Array, sync: boolean): Promise<void> {
  const tmp = join(tmpDir, tmpName());
  const fd = await openFd(tmp, 'wx');
  try {
    await pwritevAll(fd, [data], 0);
    if (sync) await fsyncFd(fd);
  } catch (err) {
    await closeFd(fd).catch(() => {});
    await unlinkIfExists(tmp);
    throw err;
  }
  await closeFd(fd);
  const created = await mkdirTracked(dirname(dest), dirname(tmpDir)).catch(async (err) => {
    await unlinkIfExists(tmp);
    throw err;
  });
  await fs.promises.rename(tmp, dest);
  if (sync) await fsyncCreated(dirname(dest), created);
}

/** fsyncs `dir` and the parents of directories just created for it. */
export async function fsyncCreated(dir: string, created: readonly string[]): Promise<void> {
  const dirs = new Set([dir]);
  for (const d of created) dirs.add(dirname(d));
  await Promise.all([...dirs].map(fsyncDir));
}

/** A unique name for a file in a tmp dir. */
export function tmpName(): string {
  return `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 12)}`;
}

/** Serializes async sections per key (a hash dir, a listing); idle keys take no memory. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier section for `key` has finished. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev ? prev.then(() => mine) : mine;
    this.#tails.set(key, tail);
    try {
      if (prev) await prev;
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/**
 * Runs at most `limit` async sections at once; the others wait in arrival order. For work whose memory grows
 * with how many run together, not with how many wait (a waiting section holds only its closure).
 */
export class Gate {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot take it in between.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

/**
 * Syncs (of a directory, of a file), coalesced by key: a sync asked for while one of the same key runs waits
 * for it and then runs once for everyone who asked meanwhile (the running one may have started before their
 * changes); a sync asked for while such a follow-up waits joins it.
 */
export class CoalescedSyncs {
  constructor(private readonly syncOf: (key: string) => Promise<void>) {}

  readonly #keys = new Map<string, { running: Promise<void>; next?: { promise: Promise<void>; start: () => void } }>();

  sync(key: string): Promise<void> {
    const d = this.#keys.get(key);
    if (!d) {
      const running = this.#run(key);
      this.#keys.set(key, { running });
      return running;
    }
    if (d.next) return d.next.promise;
    let start!: () => void;
    const promise = new Promise<void>((resolve, reject) => {
      start = () => {
        const running = this.#run(key);
        this.#keys.set(key, { running });
        running.then(resolve, reject);
      };
    });
    d.next = { promise, start };
    return promise;
  }

  #run(key: string): Promise<void> {
    const running = this.syncOf(key);
    void running
      .catch(() => {})
      .then(() => {
        const d = this.#keys.get(key);
        if (d?.running !== running) return;
        if (d.next) d.next.start();
        else this.#keys.delete(key);
      });
    return running;
  }
}
