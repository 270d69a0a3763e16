/**
 * A full garbage collection when the storage node goes idle, so that its memory comes back down to what it
 * uses before the next burst of requests.
 *
 * A node holds little that lives: ~14 MiB of objects after the first replication pass on a data-full device
 * (a heap snapshot; most of it code, the suffix-hash caches and module state). But V8 sizes the old generation
 * from what was live at the last full collection, and gives pages back only after a later one; on a server
 * nothing prompts that while it is idle. So a node carried the heap of its busiest moment into the next one:
 * ~40 MiB in use after the first pass, and 48–53 MiB of old space committed around 19–30 in use at the peaks
 * of bench:compare (docs/storage-nodes.md, "Collecting when idle"). Swift's object server (CPython) frees as
 * it goes.
 *
 * Node has no API for it; `gc` exists in contexts made after `--expose-gc` is set (v8-builtin.ts), and V8
 * compacts in that one collection when `--compact-on-every-full-gc` is set around it. A compacting collection
 * of a node's heap takes ~10–40 ms of the main thread, so it runs only when no request has been in flight for
 * `idleMs`, and only when the heap grew by `minGrowthBytes` since the last one.
 *
 * It is off unless the node config sets `idleCollectMs`: the next burst then starts from a small heap, which
 * V8 grows again with more collections, and small requests cost measurably more CPU on the 2-core test machine
 * (docs/storage-nodes.md, "Collecting when idle").
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { builtinBehindFlag } from '../src/common/v8-builtin.js';

type Gc = () => void;

/** `gc`, looked up the first time a collector is made: a node with idle collection off sets no flag for it. */
let gcFound: Gc | undefined | null = null;
function findGc(): Gc | undefined {
  if (gcFound === null) gcFound = builtinBehindFlag<Gc>('--expose-gc', 'gc');
  return gcFound;
}

/** Whether this process can collect on demand. */
export function canCollect(): boolean {
  return findGc() !== undefined;
}

/** The heap's size after this isolate's last idle collection (process-wide: the nodes of a test process share a heap). */
let afterLast = 0;

export interface IdleCollectorOptions {
  /** No request in flight for this long counts as idle. */
  idleMs: number;
  /** Collect only when V8's heap grew by this much since the last idle collection. */
  minGrowthBytes: number;
  /** How often to look (default: `idleMs`). */
  checkMs?: number;
}

export class IdleCollector {
  readonly #gc = findGc();
  #inFlight = 0;
  #lastActive = performance.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: IdleCollectorOptions) {}

  start(): void {
    if (!this.#gc || this.#timer) return;
    this.#timer = setInterval(() => this.check(), this.opts.checkMs ?? this.opts.idleMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Counts a request as in flight until its response closes. */
  track(res: ServerResponse): void {
    this.#inFlight++;
    res.once('close', () => {
      this.#inFlight--;
      this.#lastActive = performance.now();
    });
  }

  /** Collects now if the node is idle and its heap grew enough; true when it did. */
  check(): boolean {
    if (!this.#gc || this.#inFlight > 0 || performance.now() - this.#lastActive < this.opts.idleMs) return false;
    if (v8.getHeapStatistics().total_heap_size < afterLast + this.opts.minGrowthBytes) return false;
    // A plain full collection frees the dead objects but keeps their pages when live ones are scattered
    // across them (a node's are): compacting this one collection moves those and gives the pages back.
    v8.setFlagsFromString('--compact-on-every-full-gc');
    try {
      this.#gc();
    } finally {
      v8.setFlagsFromString('--no-compact-on-every-full-gc');
    }
    afterLast = v8.getHeapStatistics().total_heap_size;
    return true;
  }
}
