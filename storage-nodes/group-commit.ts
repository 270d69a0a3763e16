/**
 * Group commit for a device's listing database. Listing merges arrive concurrently (every object PUT updates
 * a listing); each fsync'd write costs a disk flush, so writes queue while one batch is being synced and go
 * out together as the next `batch(…, {sync})`. Writers that computed their change from data not yet
 * committed read it from an overlay of the queued and in-flight batches, so a listing can take a new merge
 * before the previous one is on disk, and a reply is sent only once its batch is.
 */
import type { Level } from 'level';

export type WriteOp = { type: 'put'; key: Buffer; value: string } | { type: 'del'; key: Buffer };

interface Batch {
  ops: WriteOp[];
  /** Latest value per key (latin1 of the key bytes); null for a delete. */
  overlay: Map<string, string | null>;
  waiters: Array<{ resolve: () => void; reject: (err: Error) => void }>;
}

const newBatch = (): Batch => ({ ops: [], overlay: new Map(), waiters: [] });

/** A Level DB whose writes are batched into synced group commits. */
export class GroupCommitDb {
  #queued = newBatch();
  #inflight: Batch | undefined;
  #epoch = 0;
  #batches = 0;

  constructor(
    readonly db: Level<Buffer, string>,
    private readonly sync: boolean,
    private readonly wrapError: (err: unknown) => Error,
  ) {}

  /**
   * Changes whenever a batch fails: work computed from the overlay before then is void, and `write` refuses
   * it. Read it before computing a change and pass it to `write`.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** Number of batches written so far (tests check that writes were grouped). */
  get batchCount(): number {
    return this.#batches;
  }

  /** Reads a key as it will be once everything queued is committed. */
  async get(key: Buffer): Promise<string | undefined> {
    const [v] = await this.getMany([key]);
    return v;
  }

  /**
   * Reads keys as they will be once everything queued is committed. Keys not queued are read on the event
   * loop, not the thread pool: a key in the memtable, or absent (each table's bloom filter says so), costs
   * microseconds, while a pool round trip on two vCPUs costs a wake-up of a pool thread and one of the loop
   * (docs/performance.md, proposal 30). A row in a table is one block read, from leveldb's block cache or
   * the page cache.
   */
  async getMany(keys: Buffer[]): Promise<Array<string | undefined>> {
    const out: Array<string | undefined> = new Array(keys.length);
    try {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i].toString('latin1');
        const hit = this.#queued.overlay.has(k) ? this.#queued : this.#inflight?.overlay.has(k) ? this.#inflight : undefined;
        out[i] = hit ? (hit.overlay.get(k) ?? undefined) : this.db.getSync(keys[i]);
      }
    } catch (err) {
      throw this.wrapError(err);
    }
    return out;
  }

  /**
   * Queues `ops` (computed at `epoch`) for the next group commit; resolves once they are durable. With no
   * ops it still waits for what is queued, because the caller's decision may rest on it.
   */
  write(ops: WriteOp[], epoch: number): Promise<void> {
    if (epoch !== this.#epoch) return Promise.reject(this.wrapError(new Error('an earlier listing write failed')));
    const target = ops.length > 0 || this.#queued.ops.length > 0 ? this.#queued : this.#inflight;
    if (!target) return Promise.resolve();
    for (const op of ops) {
      target.ops.push(op);
      target.overlay.set(op.key.toString('latin1'), op.type === 'put' ? op.value : null);
    }
    const done = new Promise<void>((resolve, reject) => target.waiters.push({ resolve, reject }));
    this.#kick();
    return done;
  }

  /** Waits for every queued write, then closes the database. */
  async close(): Promise<void> {
    while (this.#inflight || this.#queued.ops.length > 0) await this.write([], this.#epoch).catch(() => {});
    await this.db.close();
  }

  #kick(): void {
    if (this.#inflight || this.#queued.ops.length === 0) return;
    const batch = this.#queued;
    this.#queued = newBatch();
    this.#inflight = batch;
    this.#batches++;
    writeBatch(this.db, batch.ops, this.sync).then(
      () => {
        this.#inflight = undefined;
        for (const w of batch.waiters) w.resolve();
        this.#kick();
      },
      (err: unknown) => {
        // Queued work was computed on top of the failed batch: fail it too, and void work in progress.
        this.#epoch++;
        const dependent = this.#queued;
        this.#queued = newBatch();
        this.#inflight = undefined;
        const error = this.wrapError(err);
        for (const w of [...batch.waiters, ...dependent.waiters]) w.reject(error);
      },
    );
  }
}

/** classic-level's implementation of a batch: its keys and values as given, its options read once. */
type RawBatch = (ops: WriteOp[], options: { sync: boolean }) => Promise<void>;

/**
 * `db.batch(ops, {sync})`, through classic-level's own `_batch` when nothing of abstract-level's is in play
 * (the db is open, no prewrite hook, ops with Buffer keys and string values, which both encodings here pass
 * through unchanged). abstract-level's wrapper copies, checks and encodes each op one by one: measured on this
 * VM, 61 µs of the event loop for a batch of 6 ops, against 17 µs for `_batch` (docs/performance.md,
 * proposal 33). `_batch` is the method abstract-level calls itself; classic-level is pinned.
 */
function writeBatch(db: Level<Buffer, string>, ops: WriteOp[], sync: boolean): Promise<void> {
  const impl = db as unknown as { _batch?: RawBatch; status?: string; hooks?: { prewrite?: { noop?: boolean } } };
  if (typeof impl._batch === 'function' && impl.status === 'open' && impl.hooks?.prewrite?.noop === true) return impl._batch(ops, { sync });
  return db.batch(ops, { sync });
}
