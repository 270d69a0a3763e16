/**
 * `syncfs(2)` for the write journal's checkpoints: flushes every dirty file of the file system that holds a
 * directory. Node has no binding for it; coreutils' `sync -f <dir>` is one. Spawning that for each checkpoint
 * forks the node process: ~6 ms of its event loop and ~5 ms of CPU at a node's size, and afterwards a
 * copy-on-write fault for each page of its heap it writes again; a checkpoint comes every 5 s per device
 * while writes come (docs/performance.md, item 46).
 *
 * So one small helper process runs the command instead: a shell that reads a directory per line, runs
 * `sync -f` on it and answers `ok` or `fail <message>`, in order. It is started on first use (one fork of the
 * node), started again after it exits, and stopped when a request outlives `timeoutMs`. It keeps the node's
 * event loop alive only while a request is waiting, and ends with its input when the node exits. A directory
 * whose name holds a line break goes to a `sync -f` of its own.
 */
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

const script = `while IFS= read -r d; do
  if out=$(sync -f -- "$d" 2>&1); then echo ok; else printf 'fail %s\\n' "$(printf '%s' "$out" | tr '\\n' ' ')"; fi
done`;

type Helper = ChildProcessByStdio<Writable, Readable, null>;

/** A child's stdio pipe is a socket: ref'd, it keeps the event loop alive. */
const pipe = (stream: Readable | Writable) => stream as unknown as Socket;

interface Waiter {
  dir: string;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** The error a failed flush rejects with: `code` EIO, as a failed write's would be. */
function syncError(dir: string, why: string): Error {
  return Object.assign(new Error(`sync -f ${dir}: ${why}`), { code: 'EIO' });
}

export class FileSystemSyncer {
  #child: Helper | undefined;
  readonly #waiting: Waiter[] = [];
  #buffered = '';

  constructor(private readonly timeoutMs = 120_000) {}

  /** Resolves once the file system holding `dir` is flushed; rejects (code EIO) when `sync -f` fails. */
  sync(dir: string): Promise<void> {
    if (dir.includes('\n')) return syncOnce(dir, this.timeoutMs);
    return new Promise((resolve, reject) => {
      const child = this.#helper();
      const timer = setTimeout(() => this.#stop(child, `no answer in ${this.timeoutMs} ms`), this.timeoutMs);
      timer.unref();
      this.#waiting.push({ dir, resolve, reject, timer });
      pipe(child.stdout).ref();
      child.stdin.write(`${dir}\n`);
    });
  }

  /** @internal The helper's pid while it runs (tests). */
  get helperPid(): number | undefined {
    return this.#child?.pid;
  }

  /** Stops the helper (tests); the next `sync` starts another. */
  close(): void {
    if (this.#child) this.#stop(this.#child, 'the syncer was closed');
  }

  #helper(): Helper {
    if (this.#child) return this.#child;
    const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.#child = child;
    this.#buffered = '';
    child.unref();
    pipe(child.stdin).unref();
    pipe(child.stdout).unref();
    child.stdout.setEncoding('utf8');
    // What a helper that was replaced still prints answers nothing of its successor's.
    child.stdout.on('data', (text: string) => {
      if (this.#child === child) this.#answers(text);
    });
    // A write to a helper that died fails with EPIPE; its exit answers the requests.
    child.stdin.on('error', () => {});
    child.on('error', (err) => this.#stop(child, err.message));
    child.on('exit', (code, signal) => this.#stop(child, `the helper exited (${signal ?? code})`));
    return child;
  }

  #answers(text: string): void {
    this.#buffered += text;
    for (let nl = this.#buffered.indexOf('\n'); nl >= 0; nl = this.#buffered.indexOf('\n')) {
      const line = this.#buffered.slice(0, nl);
      this.#buffered = this.#buffered.slice(nl + 1);
      const w = this.#waiting.shift();
      if (!w) continue;
      clearTimeout(w.timer);
      if (line === 'ok') w.resolve();
      else w.reject(syncError(w.dir, line.replace(/^fail ?/, '').trim() || 'failed'));
    }
    if (this.#waiting.length === 0 && this.#child) pipe(this.#child.stdout).unref();
  }

  /** Kills `child` if it is still the helper, and fails every request it had. */
  #stop(child: Helper, why: string): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    pipe(child.stdout).unref();
    child.kill('SIGKILL');
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(syncError(w.dir, why));
    }
  }
}

/** One `sync -f` of its own (a directory name the helper's line protocol cannot carry). */
function syncOnce(dir: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sync', ['-f', '--', dir], { timeout: timeoutMs }, (err, _out, stderr) => {
      if (err) reject(syncError(dir, stderr.trim() || err.message));
      else resolve();
    });
  });
}

/** The thread's syncer, shared by every journal the thread keeps (one helper process). */
let shared: FileSystemSyncer | undefined;

/** Flushes the file system holding `dir` (syncfs(2)) through the thread's shared helper. */
export function syncFileSystem(dir: string): Promise<void> {
  shared ??= new FileSystemSyncer();
  return shared.sync(dir);
}
