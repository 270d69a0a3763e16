/**
 * The sandbox: a pool of worker threads, each running at most one hook call at a time. A call leases a
 * worker for its whole duration (begin, chunks, end), so a hook that loops, traps or exhausts its memory
 * harms only its own call: each step runs under a wall-clock timer, and a step that overruns it gets its
 * worker terminated and replaced. The CPU time a call uses in all is capped too. Workers are kept
 * (`idleWorkers` of them from the first call on) and reused, since starting one costs tens of milliseconds.
 */
import { Worker } from 'node:worker_threads';
import { ArcaError } from '../../common/errors.js';
import type { HooksConfig } from '../../common/config.js';
import { type FailureReason, maxChunkBytes, pageBytes, type WorkerReply, type WorkerRequest } from './abi.js';

/** A compiled hook as the pool runs it. */
export interface RunnableHook {
  name: string;
  module: WebAssembly.Module;
  /** Pages the module's memory import asks for at least, and at most (the manifest's cap, within config). */
  memoryMinPages: number;
  memoryMaxPages: number;
  /** The manifest's own step limit (ms), if lower than the config's. */
  stepTimeoutMs?: number;
}

/** What one step produced. */
export interface StepOutput {
  out: Buffer[];
  /** Metadata the hook set (after `end`, or with a rejection). */
  meta?: Record<string, string>;
}

export interface PoolStats {
  workers: number;
  busy: number;
  waiting: number;
  /** Workers terminated because a step overran its time. */
  killed: number;
  calls: number;
  failures: number;
}

interface PooledWorker {
  worker: Worker;
  /** Resolves once the thread runs (a step's timer must not count its start-up). */
  online: Promise<void>;
  /** The pending step's settle function. */
  pending?: (reply: WorkerReply | { died: string }) => void;
  dead: boolean;
}

const workerUrl = new URL('./sandbox-worker.js', import.meta.url);

export class SandboxPool {
  readonly #idle: PooledWorker[] = [];
  readonly #waiting: Array<{ resolve: (w: PooledWorker) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  #count = 0;
  #closed = false;
  readonly #stats = { killed: 0, calls: 0, failures: 0 };

  #warmed = false;

  constructor(private readonly config: HooksConfig) {}

  /** Starts the idle workers, at the first call (a proxy whose buckets have no hooks starts none). */
  #warm(): void {
    if (this.#warmed) return;
    this.#warmed = true;
    for (let i = this.#count; i < this.config.idleWorkers; i++) this.#idle.push(this.#spawn());
  }

  stats(): PoolStats {
    return { workers: this.#count, busy: this.#count - this.#idle.length, waiting: this.#waiting.length, ...this.#stats };
  }

  /** Starts a call of `hook` with its JSON context; the worker is the call's until `end()` or `abort()`. */
  async open(hook: RunnableHook, context: unknown): Promise<HookCall> {
    this.#warm();
    const worker = await this.#lease();
    await worker.online;
    this.#stats.calls++;
    const call = new HookCall(this, worker, hook, this.config);
    await call.begin(Buffer.from(JSON.stringify(context)));
    return call;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new ArcaError('Busy', 'the hook sandbox is shutting down'));
    }
    await Promise.all(this.#idle.splice(0).map((w) => w.worker.terminate()));
  }

  /** @internal A step: sends `req`, waits at most `timeoutMs`, terminating the worker past it. */
  step(w: PooledWorker, req: WorkerRequest, timeoutMs: number): Promise<WorkerReply> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#stats.killed++;
        this.#kill(w);
        resolve({ ok: false, reason: 'timeout', message: `exceeded its CPU time limit (${timeoutMs} ms on one step)`, cpuMs: timeoutMs });
      }, timeoutMs);
      if (w.dead) {
        clearTimeout(timer);
        resolve({ ok: false, reason: 'trap', message: 'its worker died', cpuMs: 0 });
        return;
      }
      w.pending = (reply) => {
        clearTimeout(timer);
        w.pending = undefined;
        resolve('died' in reply ? { ok: false, reason: 'trap', message: `its worker died: ${reply.died}`, cpuMs: 0 } : reply);
      };
      const transfer = req.op === 'chunk' ? [req.data.buffer as ArrayBuffer] : [];
      w.worker.postMessage(req, transfer);
    });
  }

  /** @internal Gives a worker back (after a reset), or replaces it when it is gone. */
  release(w: PooledWorker, failed: boolean): void {
    if (failed) this.#stats.failures++;
    if (w.dead) {
      if (this.#count < this.config.idleWorkers || this.#waiting.length > 0) this.#handOut(this.#spawn());
      return;
    }
    this.#handOut(w);
  }

  #handOut(w: PooledWorker): void {
    const next = this.#waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(w);
    } else if (this.#closed) {
      void w.worker.terminate();
      this.#count--;
    } else this.#idle.push(w);
  }

  #lease(): Promise<PooledWorker> {
    if (this.#closed) return Promise.reject(new ArcaError('Busy', 'the hook sandbox is shut down'));
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#count < this.config.maxWorkers) return Promise.resolve(this.#spawn());
    return new Promise((resolve, reject) => {
      const entry = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(entry), 1);
          reject(new ArcaError('Busy', `every hook worker stayed busy for ${this.config.queueTimeoutMs} ms`));
        }, this.config.queueTimeoutMs),
      };
      this.#waiting.push(entry);
    });
  }

  #spawn(): PooledWorker {
    // The JS heap of a worker only holds the glue; Wasm memory is capped by the memory import.
    const worker = new Worker(workerUrl, { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 } });
    // Online, or dead before it got there (its first step then fails at once).
    const online = new Promise<void>((resolve) => {
      worker.once('online', () => resolve());
      worker.once('exit', () => resolve());
    });
    const w: PooledWorker = { worker, dead: false, online };
    this.#count++;
    worker.unref();
    worker.on('message', (reply: WorkerReply) => w.pending?.(reply));
    worker.on('error', (err) => w.pending?.({ died: err.message }));
    worker.on('exit', (code) => {
      if (!w.dead) {
        w.dead = true;
        this.#count--;
        const i = this.#idle.indexOf(w);
        if (i >= 0) this.#idle.splice(i, 1);
      }
      w.pending?.({ died: `exit code ${code}` });
    });
    return w;
  }

  #kill(w: PooledWorker): void {
    if (!w.dead) {
      w.dead = true;
      this.#count--;
    }
    void w.worker.terminate();
  }
}

/** One running call of a hook: feed it input, take its output; `end` or `abort` frees the worker. */
export class HookCall {
  #done = false;
  #cpuMs = 0;
  #bytes = 0;
  readonly #stepMs: number;

  constructor(
    private readonly pool: SandboxPool,
    private readonly w: Parameters<SandboxPool['step']>[0],
    private readonly hook: RunnableHook,
    private readonly config: HooksConfig,
  ) {
    this.#stepMs = Math.min(config.stepTimeoutMs, hook.stepTimeoutMs ?? Number.POSITIVE_INFINITY);
  }

  /** @internal */
  async begin(context: Buffer): Promise<StepOutput> {
    const { module, memoryMinPages, memoryMaxPages } = this.hook;
    return this.#run({ op: 'begin', module, memory: { initial: memoryMinPages, maximum: memoryMaxPages }, context: new Uint8Array(context) });
  }

  /** Feeds input; the output the hook emitted meanwhile. */
  async chunk(data: Buffer): Promise<StepOutput> {
    const out: Buffer[] = [];
    for (let off = 0; off < data.length; off += maxChunkBytes) {
      const piece = data.subarray(off, off + maxChunkBytes);
      // Transferred to the worker: a copy the socket's buffers never share.
      const copy = new Uint8Array(piece.length);
      copy.set(piece);
      this.#bytes += piece.length;
      out.push(...(await this.#run({ op: 'chunk', data: copy })).out);
    }
    return { out };
  }

  /** Ends the input; the last output and the metadata the hook set. Frees the worker. */
  async end(): Promise<StepOutput> {
    const result = await this.#run({ op: 'end' });
    await this.#finish(false);
    return result;
  }

  /** Gives up the call (the request failed elsewhere); frees the worker. */
  abort(): void {
    void this.#finish(false);
  }

  async #finish(failed: boolean): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    if (!this.w.dead) {
      const reply = await this.pool.step(this.w, { op: 'reset' }, this.#stepMs);
      if (!reply.ok) failed = true;
    }
    this.pool.release(this.w, failed);
  }

  async #run(req: WorkerRequest): Promise<StepOutput> {
    if (this.#done) throw new ArcaError('HookFailed', `hook ${this.hook.name}: the call is over`, { hook: this.hook.name, reason: 'abi' });
    const reply = await this.pool.step(this.w, req, this.#stepMs);
    this.#cpuMs += reply.cpuMs;
    if (!reply.ok) {
      await this.#finish(true);
      throw hookFailure(this.hook.name, reply.reason, reply.message);
    }
    const budget = this.config.callCpuMs + (this.config.cpuMsPerMiB * this.#bytes) / (1024 * 1024);
    if (this.#cpuMs > budget) {
      await this.#finish(true);
      throw hookFailure(this.hook.name, 'timeout', `exceeded its CPU time limit (${Math.round(budget)} ms for this call)`);
    }
    if (reply.rejected !== undefined) {
      await this.#finish(false);
      throw new ArcaError('HookRejected', `hook ${this.hook.name} rejected the request: ${reply.rejected}`, { hook: this.hook.name, meta: reply.meta });
    }
    return { out: reply.out.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)), meta: reply.meta };
  }
}

function hookFailure(hook: string, reason: FailureReason, message: string): ArcaError {
  const what = reason === 'abi' ? `broke the hook ABI: ${message}` : reason === 'trap' ? `trapped: ${message}` : message;
  return new ArcaError('HookFailed', `hook ${hook} ${what}`, { hook, reason });
}

/** Pages of memory a hook gets at most: its manifest's wish and the module's own maximum, within config. */
export function memoryPages(limits: { min: number; max?: number }, manifestMiB: number | undefined, config: HooksConfig): { min: number; max: number } {
  const capPages = Math.floor((Math.min(manifestMiB ?? config.maxMemoryMiB, config.maxMemoryMiB) * 1024 * 1024) / pageBytes);
  const max = Math.min(capPages, limits.max ?? capPages);
  if (limits.min > max) throw new ArcaError('BadRequest', `the module needs ${limits.min} pages of memory at least; the limit is ${max}`);
  return { min: limits.min, max };
}
