/**
 * The event dispatcher: delivers the change feeds of event-enabled buckets to their consumers — webhooks
 * named by notification rules, and event hooks bound to the bucket — at least once and in order per key.
 *
 * Where events come from: each listing replica of a bucket logs every object write and delete with the
 * listing update of the write itself (storage-nodes/change-log.ts), numbered by that replica. A consumer
 * reads one replica's log at a time, its *source*, from a checkpoint (a change number of that replica), so
 * it sees each key's versions in order. For the other replicas it keeps *shadow* checkpoints, moved past
 * every entry the source has already delivered (or superseded: the source's row of the key is at least as
 * new and its change is behind the source checkpoint). When the source cannot be reached, the next replica
 * becomes the source from its shadow checkpoint: what the old source delivered since is delivered again
 * (at least once), nothing is skipped.
 *
 * Checkpoints live in the compute bucket (`events/state/<bucket>`, one object per bucket with a lease), so
 * a proxy that dies loses at most the progress since its last save (delivered again by whoever takes the
 * lease). One proxy holds a bucket's lease at a time; it renews it every pass.
 */
import { randomUUID } from 'node:crypto';
import type { EventsConfig } from '../../common/config.js';
import { ArcaError } from '../../common/errors.js';
import type { BucketInfo, ChangeFeed, ChangeRecord, ObjectStore } from '../../proxy/object-store.js';
import { bindingsOf, type HookBinding, keyMatches } from '../hooks/bindings.js';
import type { SystemBucket } from '../system-bucket.js';
import { ruleMatches, rulesOf, type StoredRule, webhookOfArn } from './notification.js';
import { eventRecord } from './records.js';
import { postJson } from './webhook.js';

/** Runs an event hook binding on one change; resolves when done (throws to retry). */
export type EventHookRunner = (bucket: BucketInfo, binding: HookBinding, change: ChangeRecord) => Promise<void>;

/** A consumer's persisted progress. */
export interface ConsumerState {
  /** The replica (id) it reads from. */
  source?: string;
  /** Change number per replica id: delivered (source) or known covered (shadow) up to there. */
  cursors: Record<string, number>;
  delivered: number;
  /** Events dropped for good (an event hook that kept failing on one). */
  dropped: number;
  failures: number;
  lastError?: string;
  lastErrorAt?: number;
  lastDeliveredAt?: number;
  /** Milliseconds from an event's recording to its delivery, for the last delivered. */
  lastLagMs?: number;
}

export interface BucketDeliveryState {
  lease?: { holder: string; until: number };
  consumers: Record<string, ConsumerState>;
}

/** What a consumer is: a webhook with its rules, or an event hook binding. */
type Consumer = { id: string; kind: 'webhook'; name: string; rules: StoredRule[] } | { id: string; kind: 'hook'; binding: HookBinding };

/** A consumer's live view, for status. */
interface ConsumerRuntime {
  backoffUntil: number;
  streak: number;
  /** Attempts at the current event (hooks). */
  attempts: number;
  head?: number;
  headReplica?: string;
  oldestPendingAt?: number;
}

interface BucketRun {
  state: BucketDeliveryState;
  loadedAt: number;
  savedAt: number;
  dirty: boolean;
  trimmedAt: number;
  runtime: Map<string, ConsumerRuntime>;
  /** Replica index → id, as last seen. */
  ids: Map<number, string>;
}

export interface DispatcherDeps {
  store: ObjectStore;
  system: SystemBucket;
  config: EventsConfig;
  region: string;
  runHook: EventHookRunner;
  log: (line: string) => void;
  now?: () => number;
}

const watchPrefix = 'events/watch/';
const statePrefix = 'events/state/';
const pageSize = 500;
/** Pages one consumer reads per pass, so one busy bucket does not starve the others. */
const pagesPerPass = 8;

export interface DeliveryStatus {
  bucket: string;
  holder?: string;
  leaseUntil?: number;
  consumers: Array<ConsumerState & { id: string; head?: number; pending?: number; oldestPendingAgeMs?: number; backoffMs?: number }>;
}

export class EventDispatcher {
  readonly id = randomUUID();
  readonly #runs = new Map<string, BucketRun>();
  #watched: string[] = [];
  #scannedAt = 0;
  readonly #now: () => number;

  constructor(private readonly deps: DispatcherDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** Marks a bucket as having consumers (its change log on); the dispatcher picks it up on its next scan. */
  async watch(bucket: string): Promise<void> {
    await this.deps.system.put(watchPrefix + bucket, Buffer.alloc(0));
    this.#scannedAt = 0;
  }

  async unwatch(bucket: string): Promise<void> {
    await this.deps.system.delete(watchPrefix + bucket);
    this.#runs.delete(bucket);
    this.#scannedAt = 0;
  }

  /** One pass over every watched bucket; resolves to the number of events delivered. Passes never overlap. */
  runOnce(signal?: AbortSignal): Promise<number> {
    const run = this.#pass.then(() => this.#runPass(signal));
    this.#pass = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #pass: Promise<void> = Promise.resolve();

  async #runPass(signal?: AbortSignal): Promise<number> {
    const now = this.#now();
    if (now - this.#scannedAt > 2000) {
      this.#watched = await this.deps.system.keys(watchPrefix);
      this.#scannedAt = now;
    }
    let delivered = 0;
    const queue = [...this.#watched];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined && !signal?.aborted; name = queue.shift()) {
        try {
          delivered += await this.#bucket(name);
        } catch (err) {
          this.deps.log(`events: ${name}: ${(err as Error).stack ?? err}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return delivered;
  }

  /** Delivery state of every watched bucket, as this proxy knows it. */
  async status(): Promise<DeliveryStatus[]> {
    const out: DeliveryStatus[] = [];
    const now = this.#now();
    for (const name of await this.deps.system.keys(watchPrefix)) {
      const run = this.#runs.get(name);
      const state = run?.state ?? (await this.#load(name));
      out.push({
        bucket: name,
        holder: state.lease?.holder,
        leaseUntil: state.lease?.until,
        consumers: Object.entries(state.consumers).map(([id, c]) => {
          const rt = run?.runtime.get(id);
          const cursor = rt?.headReplica ? (c.cursors[rt.headReplica] ?? 0) : undefined;
          return {
            id,
            ...c,
            head: rt?.head,
            pending: rt?.head !== undefined && cursor !== undefined ? Math.max(0, rt.head - cursor) : undefined,
            oldestPendingAgeMs: rt?.oldestPendingAt !== undefined ? now - rt.oldestPendingAt : undefined,
            backoffMs: rt && rt.backoffUntil > now ? rt.backoffUntil - now : undefined,
          };
        }),
      });
    }
    return out;
  }

  /**
   * Delivers again the events of `bucket` from change `from` (inclusive) of its source replica to one
   * consumer (`target`: a webhook name, or `hook:<binding id>`), at most `limit`; checkpoints stay.
   */
  async replay(bucketName: string, from: number, target: string, limit: number): Promise<{ delivered: number; next: number; more: boolean; replica: string }> {
    const bucket = await this.deps.store.getBucket(bucketName);
    if (!bucket) throw new ArcaError('NotFound', `no bucket ${bucketName}`);
    const consumer = consumersOf(bucket).find((c) => c.id === target || (c.kind === 'webhook' && c.name === target));
    if (!consumer) throw new ArcaError('BadRequest', `bucket ${bucketName} has no consumer ${target} (webhook name or hook:<binding id>)`);
    const state = this.#runs.get(bucketName)?.state ?? (await this.#load(bucketName));
    const feed = this.deps.store.changeFeed(bucket);
    const source = state.consumers[consumer.id]?.source;
    let delivered = 0;
    let after = Math.max(0, from - 1);
    for (const index of replicaOrder(feed.replicas, undefined)) {
      let page = await feed.read(index, after, Math.min(pageSize, limit));
      if (!page) continue;
      if (source && page.replica !== source) {
        // Prefer the consumer's own source, whose numbers the status shows.
        const other = await this.#findReplica(feed, source);
        if (other !== undefined) page = (await feed.read(other, after, Math.min(pageSize, limit))) ?? page;
      }
      for (;;) {
        const wanted = page.changes.filter((c) => matches(consumer, c));
        const why = await this.#deliver(bucket, consumer, wanted);
        if (why) throw new ArcaError('Busy', `replay to ${target} failed: ${why}`);
        delivered += wanted.length;
        after = page.changes.at(-1)?.seq ?? after;
        if (!page.more || delivered >= limit) return { delivered, next: after + 1, more: page.more, replica: page.replica };
        const next = await feed.read(index, after, Math.min(pageSize, limit - delivered));
        if (!next) throw new ArcaError('InsufficientReplicas', 'the replica went away during the replay');
        page = next;
      }
    }
    throw new ArcaError('InsufficientReplicas', `no listing replica of ${bucketName} answered`);
  }

  async #findReplica(feed: ChangeFeed, id: string): Promise<number | undefined> {
    for (let i = 0; i < feed.replicas; i++) if ((await feed.read(i, 0, 1))?.replica === id) return i;
    return undefined;
  }

  async #load(name: string): Promise<BucketDeliveryState> {
    const read = await this.deps.system.get(statePrefix + name);
    if (!read) return { consumers: {} };
    try {
      const parsed = JSON.parse(read.body.toString()) as BucketDeliveryState;
      return { lease: parsed.lease, consumers: parsed.consumers ?? {} };
    } catch {
      return { consumers: {} };
    }
  }

  async #save(name: string, run: BucketRun): Promise<void> {
    await this.deps.system.put(statePrefix + name, Buffer.from(JSON.stringify(run.state)));
    run.savedAt = this.#now();
    run.dirty = false;
  }

  /** One bucket's pass: lease, every consumer, checkpoints, trimming. */
  async #bucket(name: string): Promise<number> {
    const { config } = this.deps;
    const bucket = await this.deps.store.getBucket(name);
    if (!bucket) {
      this.#runs.delete(name);
      return 0;
    }
    const consumers = consumersOf(bucket);
    let run = this.#runs.get(name);
    let now = this.#now();
    // Take or renew the lease: re-read the state first, so a proxy that lost the lease notices.
    if (!run || now > (run.state.lease?.until ?? 0) - config.leaseMs / 2) {
      const state = await this.#load(name);
      if (state.lease && state.lease.holder !== this.id && state.lease.until > now) {
        this.#runs.delete(name);
        return 0;
      }
      if (!run || run.state.lease?.holder !== this.id) run = { state, loadedAt: now, savedAt: 0, dirty: true, trimmedAt: 0, runtime: new Map(), ids: new Map() };
      run.state.lease = { holder: this.id, until: now + config.leaseMs };
      this.#runs.set(name, run);
      await this.#save(name, run);
    }
    const feed = this.deps.store.changeFeed(bucket);
    let delivered = 0;
    for (const consumer of consumers) delivered += await this.#consumer(bucket, feed, run, consumer);
    for (const id of Object.keys(run.state.consumers)) {
      if (!consumers.some((c) => c.id === id)) {
        delete run.state.consumers[id];
        run.dirty = true;
      }
    }
    now = this.#now();
    if (run.dirty && now - run.savedAt >= 200) await this.#save(name, run);
    if (now - run.trimmedAt > 60_000) {
      run.trimmedAt = now;
      for (let i = 0; i < feed.replicas; i++) await feed.trim(i, now - config.retentionSec * 1000);
    }
    return delivered;
  }

  /** Delivers what is new for one consumer, then moves its shadow checkpoints. */
  async #consumer(bucket: BucketInfo, feed: ChangeFeed, run: BucketRun, consumer: Consumer): Promise<number> {
    const now = this.#now();
    let rt = run.runtime.get(consumer.id);
    if (!rt) run.runtime.set(consumer.id, (rt = { backoffUntil: 0, streak: 0, attempts: 0 }));
    if (now < rt.backoffUntil) return 0;
    let state = run.state.consumers[consumer.id];
    if (!state) {
      run.state.consumers[consumer.id] = state = { cursors: {}, delivered: 0, dropped: 0, failures: 0 };
      run.dirty = true;
    }
    const sourceIndex = await this.#pickSource(feed, run, state);
    if (sourceIndex === undefined) return 0;
    const sourceId = run.ids.get(sourceIndex)!;
    if (state.source !== sourceId) {
      if (state.source) this.deps.log(`events: ${bucket.name}/${consumer.id}: source replica ${state.source} unreachable; reading ${sourceId} from its shadow checkpoint ${state.cursors[sourceId] ?? 0}`);
      state.source = sourceId;
      run.dirty = true;
    }
    let delivered = 0;
    let caughtUp = false;
    for (let p = 0; p < pagesPerPass; p++) {
      const after = state.cursors[sourceId] ?? 0;
      const page = await feed.read(sourceIndex, after, pageSize);
      if (!page || page.replica !== sourceId) return delivered;
      rt.head = page.head;
      rt.headReplica = sourceId;
      rt.oldestPendingAt = page.changes[0]?.at;
      const result = await this.#deliverPage(bucket, consumer, state, rt, page.changes);
      delivered += result.delivered;
      if (result.upTo !== after) {
        state.cursors[sourceId] = result.upTo;
        run.dirty = true;
      }
      if (result.failed) return delivered;
      if (!page.more) {
        caughtUp = true;
        rt.oldestPendingAt = undefined;
        break;
      }
    }
    if (caughtUp) await this.#shadow(feed, run, state, consumer, sourceIndex);
    return delivered;
  }

  /** The replica to read: the consumer's source while it answers (at whatever index), else the first that does. */
  async #pickSource(feed: ChangeFeed, run: BucketRun, state: ConsumerState): Promise<number | undefined> {
    let preferred: number | undefined;
    for (const [i, id] of run.ids) if (id === state.source) preferred = i;
    const reachable: number[] = [];
    for (const index of replicaOrder(feed.replicas, preferred)) {
      // An empty page past the end: the replica's id and head, cheaply.
      const probe = await feed.read(index, Number.MAX_SAFE_INTEGER - 1, 1);
      if (!probe) continue;
      run.ids.set(index, probe.replica);
      if (!state.source || probe.replica === state.source) return index;
      reachable.push(index);
    }
    return reachable[0];
  }

  /**
   * Delivers the changes a consumer takes from one page, in order; returns how far the checkpoint may move
   * (past everything delivered or not for this consumer, up to the first failure).
   */
  async #deliverPage(bucket: BucketInfo, consumer: Consumer, state: ConsumerState, rt: ConsumerRuntime, changes: ChangeRecord[]): Promise<{ upTo: number; delivered: number; failed: boolean }> {
    let upTo = changes.length ? changes[0].seq - 1 : 0;
    if (changes.length === 0) return { upTo: state.cursors[state.source!] ?? 0, delivered: 0, failed: false };
    let delivered = 0;
    const batchMax = consumer.kind === 'webhook' ? this.deps.config.maxRecordsPerRequest : 1;
    let i = 0;
    while (i < changes.length) {
      // A run of changes: those the consumer does not take are passed over with the batch.
      const batch: ChangeRecord[] = [];
      let j = i;
      for (; j < changes.length && batch.length < batchMax; j++) if (matches(consumer, changes[j])) batch.push(changes[j]);
      const why = batch.length ? await this.#deliver(bucket, consumer, batch) : undefined;
      const now = this.#now();
      if (why) {
        state.failures++;
        state.lastError = why;
        state.lastErrorAt = now;
        rt.streak++;
        rt.attempts++;
        if (consumer.kind === 'hook' && rt.attempts >= this.deps.config.hookAttempts) {
          // A hook that keeps failing on one event must not hold the bucket's other events forever.
          this.deps.log(`events: ${bucket.name}/${consumer.id}: dropping ${batch[0].key} at ${batch[0].ts} after ${rt.attempts} attempts: ${why}`);
          state.dropped++;
          rt.attempts = 0;
          upTo = changes[j - 1].seq;
          i = j;
          continue;
        }
        rt.backoffUntil = now + Math.min(this.deps.config.retryMaxMs, this.deps.config.retryBaseMs * 2 ** Math.min(rt.streak - 1, 16));
        return { upTo, delivered, failed: true };
      }
      rt.streak = 0;
      rt.attempts = 0;
      if (batch.length) {
        delivered += batch.length;
        state.delivered += batch.length;
        state.lastDeliveredAt = now;
        state.lastLagMs = now - batch[batch.length - 1].at;
      }
      upTo = changes[j - 1].seq;
      i = j;
    }
    return { upTo, delivered, failed: false };
  }

  /** Delivers changes to a consumer; undefined when delivered, else why not. */
  async #deliver(bucket: BucketInfo, consumer: Consumer, changes: ChangeRecord[]): Promise<string | undefined> {
    if (changes.length === 0) return undefined;
    if (consumer.kind === 'webhook') {
      const target = this.deps.config.webhooks[consumer.name];
      if (!target) return `no webhook ${consumer.name} in the proxy config`;
      const Records = changes.map((c) => eventRecord(bucket, c, consumer.rules.find((r) => ruleMatches(r, c.event, c.key))?.id ?? '', this.deps.region));
      return postJson(target, { Records }, this.deps.config.requestTimeoutMs, { 'x-arca-bucket': bucket.name, 'x-arca-event-seq': String(changes[changes.length - 1].seq) });
    }
    try {
      for (const c of changes) await this.deps.runHook(bucket, consumer.binding, c);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /**
   * Moves the shadow checkpoints of the other replicas past every entry the consumer has had from the
   * source (or does not take), stopping at the first the source has not delivered yet.
   */
  async #shadow(feed: ChangeFeed, run: BucketRun, state: ConsumerState, consumer: Consumer, sourceIndex: number): Promise<void> {
    const sourceId = run.ids.get(sourceIndex)!;
    const delivered = state.cursors[sourceId] ?? 0;
    for (let index = 0; index < feed.replicas; index++) {
      if (index === sourceIndex) continue;
      const knownId = run.ids.get(index);
      const page = await feed.read(index, knownId ? (state.cursors[knownId] ?? 0) : 0, pageSize);
      if (!page) continue;
      run.ids.set(index, page.replica);
      if (page.changes.length === 0) continue;
      const keys = [...new Set(page.changes.map((c) => c.key))];
      const rows = await feed.rowStates(sourceIndex, keys);
      if (!rows) return;
      const byKey = new Map(keys.map((k, i) => [k, rows[i]]));
      let upTo = state.cursors[page.replica] ?? 0;
      for (const c of page.changes) {
        const row = byKey.get(c.key);
        const covered = !matches(consumer, c) || (row !== undefined && row.seq <= delivered && row.ts >= c.ts);
        if (!covered) break;
        upTo = c.seq;
      }
      if (upTo !== (state.cursors[page.replica] ?? 0)) {
        state.cursors[page.replica] = upTo;
        run.dirty = true;
      }
    }
  }
}

/** Replica indexes to try, the preferred first. */
function replicaOrder(count: number, preferred: number | undefined): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  return preferred === undefined ? all : [preferred, ...all.filter((i) => i !== preferred)];
}

/** The consumers of a bucket: one per webhook its rules name, one per event hook binding. */
export function consumersOf(bucket: BucketInfo): Consumer[] {
  const byHook = new Map<string, StoredRule[]>();
  for (const rule of rulesOf(bucket)) {
    const name = webhookOfArn(rule.arn);
    if (!name) continue;
    byHook.set(name, [...(byHook.get(name) ?? []), rule]);
  }
  const out: Consumer[] = [...byHook].map(([name, rules]) => ({ id: `webhook:${name}`, kind: 'webhook' as const, name, rules }));
  for (const binding of bindingsOf(bucket)) if (binding.on === 'event') out.push({ id: `hook:${binding.id}`, kind: 'hook', binding });
  return out;
}

/** Whether a consumer takes a change. */
function matches(consumer: Consumer, c: ChangeRecord): boolean {
  if (consumer.kind === 'webhook') return consumer.rules.some((r) => c.at >= r.since && ruleMatches(r, c.event, c.key));
  const b = consumer.binding;
  return !c.deleted && keyMatches(b, c.key) && !(c.origin ?? []).includes(b.hook) && (c.origin?.length ?? 0) < 8;
}
