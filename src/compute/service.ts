/**
 * The compute layer of a proxy: hooks (registry, sandbox, bindings) and event notifications (rules,
 * dispatcher), behind the two faces the proxy root wires in — what the S3 dialect asks (src/s3/compute.ts)
 * and what the admin API asks (src/admin/admin-app.ts). It reaches storage only through the ObjectStore.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventsConfig, HooksConfig } from '../common/config.js';
import { ArcaError } from '../common/errors.js';
import { changeLogMetaKey } from '../common/wire.js';
import type { BucketInfo, ChangeRecord, ObjectInfo, ObjectStore } from '../proxy/object-store.js';
import { type DeliveryStatus, EventDispatcher } from './events/dispatcher.js';
import { knownEventNames, notificationMetaKey, rulesOf, type StoredRule, webhookOfArn } from './events/notification.js';
import { testEvent } from './events/records.js';
import { postJson } from './events/webhook.js';
import { bindingFor, bindingsMetaKey, bindingsOf, type HookBinding } from './hooks/bindings.js';
import type { Trigger } from './hooks/manifest.js';
import { HookRegistry, type HookSummary, type LoadedHook } from './hooks/registry.js';
import { HookStage } from './hooks/streams.js';
import { type PoolStats, SandboxPool } from './sandbox/pool.js';
import { SystemBucket } from './system-bucket.js';

export interface ComputeOptions {
  store: ObjectStore;
  events: EventsConfig;
  hooks: HooksConfig;
  region: string;
  log: (line: string) => void;
}

/** A notification rule as the S3 dialect hands it over. */
export interface RuleInput {
  id: string;
  kind: 'Queue' | 'Topic' | 'CloudFunction';
  arn: string;
  events: string[];
  prefix?: string;
  suffix?: string;
}

/** Most bytes of derived output an event hook may produce for one object. */
const maxDerivedBytes = 256 * 1024 * 1024;
/** Reserved metadata names an event hook sets to name its output object. */
const outputKeyMeta = 'arca:key';
const outputTypeMeta = 'arca:content-type';

export class ComputeService {
  readonly system: SystemBucket;
  readonly hooks: HookRegistry;
  readonly pool: SandboxPool;
  readonly dispatcher: EventDispatcher;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(private readonly opts: ComputeOptions) {
    this.system = new SystemBucket(opts.store);
    this.hooks = new HookRegistry(this.system, opts.hooks);
    this.pool = new SandboxPool(opts.hooks);
    this.dispatcher = new EventDispatcher({
      store: opts.store,
      system: this.system,
      config: opts.events,
      region: opts.region,
      runHook: (bucket, binding, change) => this.#runEventHook(bucket, binding, change),
      log: opts.log,
    });
  }

  /** Starts delivering events (when this proxy is configured to). */
  start(): void {
    if (!this.opts.events.deliver || this.#loop) return;
    this.#loop = (async () => {
      const signal = this.#stop.signal;
      while (!signal.aborted) {
        try {
          await this.dispatcher.runOnce(signal);
        } catch (err) {
          this.opts.log(`events: pass failed: ${(err as Error).stack ?? err}`);
        }
        try {
          await sleep(this.opts.events.pollIntervalMs, undefined, { signal });
        } catch {
          return;
        }
      }
    })();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.pool.close();
  }

  // --- what S3 asks (src/s3/compute.ts) ---

  notification(bucket: BucketInfo): RuleInput[] {
    return rulesOf(bucket).map(({ since: _, ...r }) => r);
  }

  async putNotification(bucket: BucketInfo, rules: RuleInput[], requestId: string): Promise<string | undefined> {
    const before = rulesOf(bucket);
    const invalid: string[] = [];
    for (const r of rules) {
      const name = webhookOfArn(r.arn);
      if (!name || !this.opts.events.webhooks[name]) invalid.push(r.arn);
      for (const e of r.events) if (!knownEventNames.has(e)) return `The event ${e} is not supported for notification`;
    }
    if (invalid.length) return `Unable to validate the following destination configurations: ${[...new Set(invalid)].join(', ')}`;
    // Like AWS, a destination new to the bucket is sent a test event and must take it.
    const known = new Set(before.map((r) => webhookOfArn(r.arn)));
    for (const name of new Set(rules.map((r) => webhookOfArn(r.arn)!))) {
      if (known.has(name)) continue;
      const why = await postJson(this.opts.events.webhooks[name], testEvent(bucket.name, requestId), this.opts.events.requestTimeoutMs, { 'x-arca-bucket': bucket.name });
      if (why) return `Unable to validate the following destination configurations: ${rules.find((r) => webhookOfArn(r.arn) === name)!.arn} (test event: ${why})`;
    }
    const now = Date.now();
    const stored: StoredRule[] = rules.map((r) => {
      const same = before.find((b) => b.id === r.id && b.arn === r.arn);
      return { ...r, since: same?.since ?? now };
    });
    await this.#setEventConfig(bucket, { [notificationMetaKey]: stored.length ? stored : null }, stored.length > 0 || bindingsOf(bucket).some((b) => b.on === 'event'));
    return undefined;
  }

  async putHook(bucket: BucketInfo, key: string, input: { body: Readable; contentType: string; size?: number; userMeta: Record<string, string> }) {
    const binding = bindingFor(bucket, 'put', key);
    if (!binding) return undefined;
    const hook = await this.#hook(binding.hook, 'put');
    const call = await this.pool.open(hook, { trigger: 'put', bucket: bucket.name, key, contentType: input.contentType, size: input.size ?? null, meta: input.userMeta, params: binding.params ?? {} });
    const stage = new HookStage(call, { mode: hook.manifest.mode });
    input.body.on('error', (err) => stage.destroy(err));
    input.body.pipe(stage);
    return {
      body: stage as Readable,
      result: () => {
        const r = stage.result!;
        return { inputBytes: r.inputBytes, transformed: hook.manifest.mode === 'transform', etag: r.md5, meta: r.meta };
      },
    };
  }

  hasPutHook(bucket: BucketInfo, key: string): boolean {
    return bindingFor(bucket, 'put', key) !== undefined;
  }

  async getHook(bucket: BucketInfo, key: string, named?: { name: string; params?: string }) {
    const binding = named ? undefined : bindingFor(bucket, 'get', key);
    if (!named && !binding) return undefined;
    const hook = await this.#hook(named?.name ?? binding!.hook, 'get', named !== undefined);
    const params = { ...binding?.params, ...(named?.params ? Object.fromEntries(new URLSearchParams(named.params)) : {}) };
    return {
      name: hook.name,
      blockSize: hook.manifest.blockSize,
      run: async (body: Readable, ctx: { info: ObjectInfo; offset: number; skip: number; length?: number }) => {
        const call = await this.pool.open(hook, {
          trigger: 'get',
          bucket: bucket.name,
          key,
          contentType: ctx.info.contentType,
          size: ctx.info.size,
          offset: ctx.offset,
          meta: (ctx.info.meta.userMeta as Record<string, string> | undefined) ?? {},
          params,
        });
        const stage = new HookStage(call, { mode: 'transform', skip: ctx.skip, length: ctx.length });
        body.on('error', (err) => stage.destroy(err));
        return body.pipe(stage) as Readable;
      },
    };
  }

  // --- what the admin API asks ---

  deployHook(name: string, manifest: unknown, module: Buffer): Promise<HookSummary> {
    return this.hooks.deploy(name, manifest, module);
  }

  listHooks(): Promise<HookSummary[]> {
    return this.hooks.list();
  }

  describeHook(name: string): Promise<HookSummary | undefined> {
    return this.hooks.describe(name);
  }

  removeHook(name: string): Promise<boolean> {
    return this.hooks.remove(name);
  }

  async bindings(bucketName: string): Promise<HookBinding[]> {
    return bindingsOf(await this.#bucket(bucketName));
  }

  async bind(bucketName: string, input: { hook: string; on: Trigger; prefix?: string; suffix?: string; targetBucket?: string; params?: Record<string, string> }): Promise<HookBinding> {
    const bucket = await this.#bucket(bucketName);
    if (!['put', 'get', 'event'].includes(input.on)) throw new ArcaError('BadRequest', '"on" must be put, get or event');
    const summary = await this.hooks.describe(input.hook);
    if (!summary) throw new ArcaError('NotFound', `no hook ${input.hook} is deployed`);
    if (!summary.manifest.triggers.includes(input.on)) throw new ArcaError('BadRequest', `hook ${input.hook} does not run on ${input.on} (its manifest says ${summary.manifest.triggers.join(', ')})`);
    if (input.targetBucket !== undefined) {
      if (input.on !== 'event') throw new ArcaError('BadRequest', 'only event hooks write to a target bucket');
      await this.#bucket(input.targetBucket);
    }
    const binding: HookBinding = { id: randomBytes(4).toString('hex'), hook: input.hook, on: input.on };
    if (input.prefix) binding.prefix = input.prefix;
    if (input.suffix) binding.suffix = input.suffix;
    if (input.targetBucket) binding.targetBucket = input.targetBucket;
    if (input.params && Object.keys(input.params).length) binding.params = input.params;
    const all = [...bindingsOf(bucket), binding];
    await this.#setEventConfig(bucket, { [bindingsMetaKey]: all }, rulesOf(bucket).length > 0 || all.some((b) => b.on === 'event'));
    return binding;
  }

  async unbind(bucketName: string, id: string): Promise<boolean> {
    const bucket = await this.#bucket(bucketName);
    const all = bindingsOf(bucket);
    const left = all.filter((b) => b.id !== id);
    if (left.length === all.length) return false;
    await this.#setEventConfig(bucket, { [bindingsMetaKey]: left.length ? left : null }, rulesOf(bucket).length > 0 || left.some((b) => b.on === 'event'));
    return true;
  }

  async status(): Promise<{ events: DeliveryStatus[]; hooks: PoolStats; deliverer: string | undefined }> {
    return { events: await this.dispatcher.status(), hooks: this.pool.stats(), deliverer: this.opts.events.deliver ? this.dispatcher.id : undefined };
  }

  replay(bucket: string, from: number, target: string, limit: number) {
    return this.dispatcher.replay(bucket, from, target, limit);
  }

  // --- internals ---

  async #bucket(name: string): Promise<BucketInfo> {
    const bucket = name.startsWith('.') ? undefined : await this.opts.store.getBucket(name);
    if (!bucket || bucket.account.startsWith('.')) throw new ArcaError('NotFound', `no bucket ${name}`);
    return bucket;
  }

  /** Stores event settings and turns the bucket's change log (and the dispatcher's watch) on or off. */
  async #setEventConfig(bucket: BucketInfo, meta: Record<string, unknown>, logChanges: boolean): Promise<void> {
    // Watch first: a bucket whose log is on is always watched (a stale watch only costs a look).
    if (logChanges) await this.dispatcher.watch(bucket.name);
    await this.opts.store.updateBucketMeta(bucket, { ...meta, [changeLogMetaKey]: logChanges ? true : null });
    if (!logChanges) await this.dispatcher.unwatch(bucket.name);
  }

  async #hook(name: string, trigger: Trigger, named = false): Promise<LoadedHook> {
    const hook = await this.hooks.get(name);
    if (!hook?.manifest.triggers.includes(trigger)) {
      const why = !hook ? `no hook ${name} is deployed` : `hook ${name} does not run on ${trigger}`;
      // A hook the client named is the client's mistake; a binding to a missing hook is the operator's.
      throw named ? new ArcaError('HookRejected', why, { hook: name }) : new ArcaError('HookFailed', why, { hook: name, reason: 'abi' });
    }
    return hook;
  }

  /** Runs an event hook on one change and writes what it derives (see docs/hooks.md). */
  async #runEventHook(bucket: BucketInfo, binding: HookBinding, change: ChangeRecord): Promise<void> {
    const { store } = this.opts;
    // Newest: an older version on the device read would look like a replaced object and skip the event.
    const read = await store.getObject(bucket, change.key, { newest: true });
    if (!read) return; // deleted since: nothing to derive from
    if (read.info.ts !== change.ts) {
      read.body.destroy(); // replaced since: the newer version has its own event
      return;
    }
    const hook = await this.#hook(binding.hook, 'event');
    const target = binding.targetBucket ? await this.#bucket(binding.targetBucket) : bucket;
    let call: Awaited<ReturnType<SandboxPool['open']>>;
    try {
      call = await this.pool.open(hook, {
        trigger: 'event',
        event: change.event,
        bucket: bucket.name,
        key: change.key,
        contentType: read.info.contentType,
        size: read.info.size,
        meta: (read.info.meta.userMeta as Record<string, string> | undefined) ?? {},
        params: binding.params ?? {},
      });
    } catch (err) {
      read.body.destroy();
      throw err;
    }
    const stage = new HookStage(call, { mode: 'transform' });
    read.body.on('error', (err) => stage.destroy(err));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of read.body.pipe(stage) as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > maxDerivedBytes) {
        stage.destroy();
        throw new ArcaError('HookFailed', `hook ${hook.name} derived more than ${maxDerivedBytes} bytes`, { hook: hook.name, reason: 'abi' });
      }
      chunks.push(c);
    }
    const { meta } = stage.result!;
    const outKey = meta[outputKeyMeta];
    if (size === 0 && outKey === undefined) return;
    const userMeta: Record<string, string> = {};
    for (const [k, v] of Object.entries(meta)) if (k !== outputKeyMeta && k !== outputTypeMeta) userMeta[k.toLowerCase()] = v;
    const body = Buffer.concat(chunks);
    const etag = createHash('md5').update(body).digest('hex');
    await store.putObject(target, outKey || change.key, {
      body: Readable.from([body]),
      contentType: meta[outputTypeMeta] ?? 'application/octet-stream',
      meta: Object.keys(userMeta).length ? { userMeta } : {},
      origin: [...(change.origin ?? []), hook.name],
      finish: () => ({ etag }),
    });
  }
}
