/**
 * Process configuration: parsed once, in one place, into typed objects with a default per field. Each part
 * of a process receives only its own slice. Config files are JSON; a bad field is reported by its path.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ArcaError } from './errors.js';

/** A storage policy: how a bucket's objects are kept. */
export interface PolicyConfig {
  /** Index used on disk (`objects` for 0, `objects-N` otherwise) and in ring file names. */
  index: number;
  /** `replica-N` or `ec-K+M`. */
  name: string;
}

/** Throttled background workers of a storage node; an interval of 0 disables the worker's loop. */
export interface WorkerConfig {
  /** Seconds between object replicator passes. */
  replicatorIntervalSec: number;
  /**
   * Seconds between object replicator (and EC reconstructor) passes that compare every partition with its
   * peers whatever changed; the passes in between ask only about partitions that changed locally or on a peer
   * (or whose peer restarted or was wiped) since they were found in sync. 0 = every pass is a full one.
   */
  replicatorFullPassIntervalSec: number;
  /** Seconds between listing replicator passes. */
  listingReplicatorIntervalSec: number;
  /** Most partitions per second a replicator (objects or listings) works through; 0 = no limit. */
  replicatorMaxPartitionsPerSec: number;
  /**
   * Garage's tranquility: after each partition a replicator (and the auditor, after each file) sleeps this many
   * times as long as the work took, so a pass uses at most 1/(1+tranquility) of the time; 0 = no pause.
   */
  replicatorTranquility: number;
  /**
   * A replicator pass (objects, listings, EC) that falls due while clients are writing to the node waits until
   * no client write has arrived for this many ms (docs/repair.md, "Passes wait for a quiet moment"); 0 =
   * passes never wait.
   */
  replicatorQuietMs: number;
  /** …but no longer than this many seconds. */
  replicatorMaxWaitSec: number;
  /** Seconds between updater passes (queued listing updates). */
  updaterIntervalSec: number;
  /** Seconds between reconstructor passes (EC). */
  reconstructorIntervalSec: number;
  /** Seconds between auditor passes. */
  auditorIntervalSec: number;
  /** Bytes per second the auditor may read. */
  auditorBytesPerSec: number;
  /**
   * Hash dirs per second the auditor walks (Swift's `files_per_second`): each costs directory reads whether it
   * holds a data file or a tombstone. 0 = no limit.
   */
  auditorHashDirsPerSec: number;
  /** Seconds between expirer passes. */
  expirerIntervalSec: number;
  /** Seconds between device checks (a wiped device is made usable again and refilled; docs/repair.md). */
  deviceCheckIntervalSec: number;
}

export interface NodeConfig {
  /** Address the node listens on. */
  bindIp: string;
  /** Port the node listens on; 0 picks a free one (tests). */
  port: number;
  /** Directory holding one sub-directory per device. */
  devicesDir: string;
  /** Device names this node serves (sub-directories of devicesDir). */
  devices: string[];
  /** Directory with the ring files (`account.ring.json.gz`, `container.ring.json.gz`, `object[-N].ring.json.gz`). */
  ringDir: string;
  /** Storage policies (their indexes pick the on-disk directories). */
  policies: PolicyConfig[];
  /** Milliseconds to wait for another node (queued listing updates, replication). */
  nodeTimeoutMs: number;
  /**
   * Milliseconds an object write waits for each listing replica to take its row before queueing it (async
   * pending) and answering anyway; short, so one slow listing replica does not hold every write (Swift's
   * container_update_timeout).
   */
  listingUpdateTimeoutMs: number;
  /**
   * Error limiting of the node's listing updates to other nodes (the proxy's `errorSuppressionLimit`): a
   * listing replica with more than this many failed updates, each within `errorSuppressionIntervalSec` of the
   * one before, is not sent updates until that interval has passed since its last failure; a write's row for
   * it goes to async pending at once instead of after `listingUpdateTimeoutMs` (default 10; 0 turns it off).
   */
  errorSuppressionLimit?: number;
  /** Seconds for `errorSuppressionLimit` (default 60). */
  errorSuppressionIntervalSec?: number;
  /** Seconds tombstones and deleted listing rows are kept before being reclaimed. */
  reclaimAgeSec: number;
  /** fsync data files and directories (turn off only for throwaway test clusters). */
  fsync: boolean;
  workers: WorkerConfig;
  /** How object writes reach the disk (docs/storage-nodes.md); defaults when absent. */
  writes?: NodeWriteConfig;
  /** Serve `POST /recon/run?worker=NAME`, which runs a worker's pass on demand (tests; default off). */
  reconRun?: boolean;
  /**
   * A compacting garbage collection once no request has been in flight for this many ms, if V8's heap grew by
   * 16 MiB since the last one: less memory at rest, for some CPU when load returns (docs/storage-nodes.md,
   * "Collecting when idle"). Default 0: off.
   */
  idleCollectMs?: number;
}

/** The storage node's write queue and upload buffers (`writes` in a node config). */
export interface NodeWriteConfig {
  /** Disk worker threads: suffix-hash recomputations, the auditor's listings (each ~10 MiB of RSS; a device's jobs all go to one). Default 1. */
  workers: number;
  /** Replica writes run on the disk worker instead of the main thread (docs/storage-nodes.md, "The write queue"). Default false. */
  onWorker: boolean;
  /** Writes of one device in progress at once (more wait in line). Default 64. */
  maxInFlight: number;
  /** Body bytes all uploads of the node may buffer together before writing them out. Default 8 MiB. */
  bufferBudgetBytes: number;
  /** An upload syncs and drops from the page cache what it wrote each time this much more arrived (0: only at the commit). Default 8 MiB. */
  syncBehindBytes: number;
  /** Reads of data files over this size leave nothing in the page cache behind them (Swift's keep_cache_size); 0, the default: reads stay cached. */
  readPastCacheBytes: number;
  /**
   * Small writes (bodies up to 64 KiB, tombstones) are made durable by each device's write journal: one
   * fdatasync shared by concurrent writes instead of syncs of their own (docs/storage-nodes.md, "The write
   * journal"). Default true.
   */
  journal: boolean;
  /** A device's journal is checkpointed (the file system flushed, the segment removed) this often. Default 5,000 ms. */
  journalCheckpointMs: number;
}

export interface ProxyConfig {
  bindIp: string;
  /** S3 port; 0 picks a free one (tests). */
  port: number;
  /** Glance v2 port; undefined disables the image API. */
  glancePort?: number;
  /** The image service's settings (used only when `glancePort` is set). */
  images: ImagesConfig;
  ringDir: string;
  policies: PolicyConfig[];
  /** Name of the policy buckets get when CreateBucket names none. */
  defaultPolicy: string;
  /** Region reported by GetBucketLocation and accepted in SigV4 scopes. */
  region: string;
  /** Root credentials: full access, manages users. */
  rootAccessKey: string;
  rootSecretKey: string;
  /** Milliseconds to wait for a storage node to accept a connection. */
  connTimeoutMs: number;
  /** Milliseconds a storage node may stay silent during a request. */
  nodeTimeoutMs: number;
  /** Milliseconds a bucket's settings are cached in the proxy. */
  bucketCacheTtlMs: number;
  /**
   * Milliseconds a client may send nothing while the proxy waits for the rest of its request body (default
   * 20,000, about what S3 allows); the request then fails with `RequestTimeout` and its connection closes.
   */
  clientIdleTimeoutMs: number;
  /** Domains for virtual-host-style addressing (`bucket.<domain>`). */
  virtualHostDomains: string[];
  /**
   * Bytes per segment of new erasure-coded objects (each object records its own, so changing this leaves
   * existing objects readable). Default 1 MiB, Swift's `ec_object_segment_size`.
   */
  ecSegmentSize: number;
  /** Milliseconds users and access keys are cached in the proxy (changes through other proxies show after this). */
  identityCacheTtlMs: number;
  /**
   * Hash bodies of 1 MiB and more (MD5, the SHAs) on a worker thread instead of the event loop. Default: on
   * when the machine has 4 cores or more; on 2 cores that are both busy it cost CPU and gained nothing
   * (docs/proxy.md, "Hashing off the event loop").
   */
  hashOffThread: boolean;
  /**
   * Storage nodes (`ip:port`) that plain reads of replicated objects ask first, in this order: of an object's
   * primaries, the one listed earliest is asked; primaries not listed follow in ring order. Empty (the default):
   * ring order, which spreads reads over every node. `arca cluster` lists its nodes, which share one host's
   * cores: reads packed onto the fewest node processes cost them less CPU (docs/proxy.md, "Read affinity").
   * Swift's `read_affinity`, by node rather than by region and zone.
   */
  readAffinity: string[];
  /**
   * Small requests to the storage nodes (HEAD, DELETE, POST, listing calls, PUTs of bodies up to 64 KiB, GETs
   * of bodies up to 256 KiB) go framed, many in flight on one connection per node, instead of one HTTP
   * request per socket (default true; docs/proxy.md, "Frames"). A node that refuses the upgrade is asked
   * over HTTP.
   */
  nodeFrames: boolean;
  /**
   * Swift's error limiting, for reads and writes of replicated and EC objects: a storage device
   * with more than this many failed requests (an error, a 5xx, a timeout), each within
   * `errorSuppressionIntervalSec` of the one before, is asked after the object's other primaries by reads, and
   * its share of a write goes to a handoff, until that interval has passed since its last failure (default 10,
   * as Swift's `error_suppression_limit`; 0 turns it off). docs/proxy.md, "Error limiting".
   */
  errorSuppressionLimit: number;
  /** Seconds for `errorSuppressionLimit` (default 60, Swift's `error_suppression_interval`). */
  errorSuppressionIntervalSec: number;
  /**
   * Cluster key material protecting stored secret keys at rest (AES-256-GCM, key derived with HKDF). Default:
   * the root secret key; set it to the old root secret before changing the root secret.
   */
  identityKey?: string;
  /**
   * Seconds after which the multipart janitor aborts an incomplete multipart upload (default 7 days, as a
   * cluster-wide AbortIncompleteMultipartUpload rule; 0 keeps uploads until a client ends them, as AWS
   * without lifecycle rules).
   */
  multipartAbortAfterSec: number;
  /** Seconds between multipart janitor passes over all buckets (default 3600; 0 runs none). */
  multipartJanitorIntervalSec: number;
  /** Seconds between lifecycle passes over all buckets with lifecycle rules (default 3600; 0 runs none). */
  lifecycleIntervalSec: number;
  /** Most changes a lifecycle pass makes per second (deletes, delete markers, transitions, aborts; default 50; 0 = no limit). */
  lifecycleOpsPerSec: number;
  /** Event notifications: targets and delivery (docs/hooks.md). */
  events: EventsConfig;
  /** The WebAssembly hook sandbox (docs/hooks.md). */
  hooks: HooksConfig;
}

/** An HTTP webhook target of event notifications; its ARN is `arn:arca:sqs::<name>:webhook`. */
export interface WebhookConfig {
  url: string;
  /** Value of the `Authorization` header sent with each delivery, if any. */
  authHeader?: string;
  /** Key of the `x-arca-signature: sha256=<hex HMAC-SHA256 of the body>` header, if any. */
  secret?: string;
}

export interface EventsConfig {
  /** Webhook targets by name. */
  webhooks: Record<string, WebhookConfig>;
  /** Whether this proxy delivers events (a bucket is delivered by one proxy at a time, by lease). Default true. */
  deliver: boolean;
  /** Seconds a bucket's change log keeps entries, delivered or not (default 86400). */
  retentionSec: number;
  /** Milliseconds between polls of an event-enabled bucket's change log (default 100). */
  pollIntervalMs: number;
  /** Most event records in one webhook request (default 100; 1 sends one per request, as AWS does). */
  maxRecordsPerRequest: number;
  /** Milliseconds a webhook may take to answer (default 5000). */
  requestTimeoutMs: number;
  /** First retry delay after a failed delivery (ms, default 500), doubling up to `retryMaxMs` (default 30000). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Milliseconds a proxy's delivery lease on a bucket lasts without renewal (default 15000). */
  leaseMs: number;
  /** Times an event hook is tried on one event before the event is skipped for it (default 3). */
  hookAttempts: number;
}

export interface HooksConfig {
  /** Most worker threads running hooks at once (default 8); each call holds one for its duration. */
  maxWorkers: number;
  /** Worker threads kept started while idle (default 1). */
  idleWorkers: number;
  /** Largest linear memory a hook may have, MiB (default 64; a manifest may ask for less). */
  maxMemoryMiB: number;
  /** Longest a hook may compute on one chunk, ms (default 2000); past it the worker is killed. */
  stepTimeoutMs: number;
  /** CPU time a call may use in all, ms: this much plus `cpuMsPerMiB` per MiB of input (defaults 5000, 500). */
  callCpuMs: number;
  cpuMsPerMiB: number;
  /** Milliseconds a request waits for a free worker before it is refused with SlowDown (default 10000). */
  queueTimeoutMs: number;
}

/** The image service (Glance v2) of a proxy. */
export interface ImagesConfig {
  /** Bucket (owned by the root account, so readable through S3) holding image data of the default store. */
  bucket: string;
  /** Storage policy of that bucket: `ec-4+2` when that policy is configured, else the default policy. */
  policy: string;
  /** Largest image accepted, bytes (default 1 TiB, Glance's `image_size_cap`). */
  sizeCap: number;
  /** Ports `web-download` imports may fetch from (default 80 and 443); an empty list allows any. */
  webDownloadPorts: number[];
  /** Longest life of an API token, seconds (default 7 days). */
  maxTokenTtlSec: number;
  /** Milliseconds a proxy reuses image records and token checks on the data path (default 2000). */
  cacheMs: number;
  /** Bytes of hot image blocks (image heads, small reads such as qcow2 tables) a proxy keeps (default 64 MiB; 0: none). */
  blockCacheBytes: number;
}

/** Swift's `error_suppression_limit` and `error_suppression_interval`, for the proxy and the nodes. */
export const defaultErrorSuppression = { limit: 10, intervalSec: 60 } as const;

export const defaultPolicies: PolicyConfig[] = [{ index: 0, name: 'replica-3' }];

export const defaultWorkerConfig: WorkerConfig = {
  replicatorIntervalSec: 30,
  replicatorFullPassIntervalSec: 600,
  listingReplicatorIntervalSec: 30,
  replicatorMaxPartitionsPerSec: 0,
  replicatorTranquility: 1,
  replicatorQuietMs: 2000,
  replicatorMaxWaitSec: 60,
  updaterIntervalSec: 5,
  reconstructorIntervalSec: 30,
  auditorIntervalSec: 300,
  auditorBytesPerSec: 10 * 1024 * 1024,
  auditorHashDirsPerSec: 1000,
  expirerIntervalSec: 60,
  deviceCheckIntervalSec: 10,
};

/** Reads a field of a parsed JSON object with a type check; errors name the file and field. */
class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly where: string,
  ) {}

  fail(field: string, want: string): never {
    throw new ArcaError('InvalidConfig', `${this.where}: field "${field}" must be ${want}`, { field });
  }

  string(field: string, dflt?: string): string {
    const v = this.obj[field];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || v === '') this.fail(field, 'a non-empty string');
    return v;
  }

  optionalString(field: string): string | undefined {
    return this.obj[field] === undefined ? undefined : this.string(field);
  }

  int(field: string, dflt?: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.obj[field];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(field, `an integer from ${min} to ${max}`);
    return v;
  }

  optionalInt(field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    return this.obj[field] === undefined ? undefined : this.int(field, undefined, min, max);
  }

  bool(field: string, dflt: boolean): boolean {
    const v = this.obj[field];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v;
  }

  strings(field: string, dflt?: string[]): string[] {
    const v = this.obj[field];
    if (v === undefined && dflt !== undefined) return dflt;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) this.fail(field, 'a list of non-empty strings');
    return v as string[];
  }

  ints(field: string, dflt: number[], min = 0, max = Number.MAX_SAFE_INTEGER): number[] {
    const v = this.obj[field];
    if (v === undefined) return dflt;
    if (!Array.isArray(v) || v.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)) this.fail(field, `a list of integers from ${min} to ${max}`);
    return v as number[];
  }

  /** The field names of this object. */
  keys(): string[] {
    return Object.keys(this.obj);
  }

  object(field: string): Fields {
    const v = this.obj[field] ?? {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'an object');
    return new Fields(v as Record<string, unknown>, `${this.where}.${field}`);
  }

  policies(field: string): PolicyConfig[] {
    const v = this.obj[field];
    if (v === undefined) return defaultPolicies;
    if (!Array.isArray(v) || v.length === 0) this.fail(field, 'a non-empty list of {index, name}');
    const seen = new Set<number>();
    return v.map((p, i) => {
      const f = new Fields(p as Record<string, unknown>, `${this.where}.${field}[${i}]`);
      const policy = { index: f.int('index', undefined, 0, 999), name: f.string('name') };
      if (!parsePolicyName(policy.name)) f.fail('name', 'replica-N or ec-K+M');
      if (seen.has(policy.index)) f.fail('index', 'unique');
      seen.add(policy.index);
      return policy;
    });
  }
}

/** A policy name taken apart; undefined when it is not `replica-N` (1 ≤ N ≤ 10) or `ec-K+M`. */
export function parsePolicyName(
  name: string,
): { kind: 'replica'; replicas: number } | { kind: 'ec'; k: number; m: number } | undefined {
  let m = /^replica-(\d+)$/.exec(name);
  if (m) {
    const replicas = Number(m[1]);
    return replicas >= 1 && replicas <= 10 ? { kind: 'replica', replicas } : undefined;
  }
  m = /^ec-(\d+)\+(\d+)$/.exec(name);
  if (m) {
    const k = Number(m[1]);
    const parity = Number(m[2]);
    return k >= 1 && k <= 24 && parity >= 1 && parity <= 6 ? { kind: 'ec', k, m: parity } : undefined;
  }
  return undefined;
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ArcaError('InvalidConfig', `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch (err) {
    throw new ArcaError('InvalidConfig', `${file}: not a JSON object: ${(err as Error).message}`);
  }
}

/** Parses a storage node's config object (`where` names it in errors). */
export function parseNodeConfig(obj: Record<string, unknown>, where = 'node config'): NodeConfig {
  const f = new Fields(obj, where);
  const w = f.object('workers');
  const wr = f.object('writes');
  const d = defaultWorkerConfig;
  return {
    bindIp: f.string('bindIp', '127.0.0.1'),
    port: f.int('port', undefined, 0, 65535),
    devicesDir: f.string('devicesDir'),
    devices: f.strings('devices'),
    ringDir: f.string('ringDir'),
    policies: f.policies('policies'),
    nodeTimeoutMs: f.int('nodeTimeoutMs', 10_000, 1),
    listingUpdateTimeoutMs: f.int('listingUpdateTimeoutMs', 1_000, 1),
    errorSuppressionLimit: f.int('errorSuppressionLimit', defaultErrorSuppression.limit, 0),
    errorSuppressionIntervalSec: f.int('errorSuppressionIntervalSec', defaultErrorSuppression.intervalSec, 1),
    reclaimAgeSec: f.int('reclaimAgeSec', 7 * 24 * 3600),
    fsync: f.bool('fsync', true),
    workers: {
      replicatorIntervalSec: w.int('replicatorIntervalSec', d.replicatorIntervalSec),
      replicatorFullPassIntervalSec: w.int('replicatorFullPassIntervalSec', d.replicatorFullPassIntervalSec),
      listingReplicatorIntervalSec: w.int('listingReplicatorIntervalSec', d.listingReplicatorIntervalSec),
      replicatorMaxPartitionsPerSec: w.int('replicatorMaxPartitionsPerSec', d.replicatorMaxPartitionsPerSec),
      replicatorTranquility: w.int('replicatorTranquility', d.replicatorTranquility, 0, 100),
      replicatorQuietMs: w.int('replicatorQuietMs', d.replicatorQuietMs, 0, 600_000),
      replicatorMaxWaitSec: w.int('replicatorMaxWaitSec', d.replicatorMaxWaitSec, 0, 86_400),
      updaterIntervalSec: w.int('updaterIntervalSec', d.updaterIntervalSec),
      reconstructorIntervalSec: w.int('reconstructorIntervalSec', d.reconstructorIntervalSec),
      auditorIntervalSec: w.int('auditorIntervalSec', d.auditorIntervalSec),
      auditorBytesPerSec: w.int('auditorBytesPerSec', d.auditorBytesPerSec, 1),
      auditorHashDirsPerSec: w.int('auditorHashDirsPerSec', d.auditorHashDirsPerSec),
      expirerIntervalSec: w.int('expirerIntervalSec', d.expirerIntervalSec),
      deviceCheckIntervalSec: w.int('deviceCheckIntervalSec', d.deviceCheckIntervalSec),
    },
    writes: {
      workers: wr.int('workers', 1, 1, 64),
      onWorker: wr.bool('onWorker', false),
      maxInFlight: wr.int('maxInFlight', 64, 1, 4096),
      bufferBudgetBytes: wr.int('bufferBudgetBytes', 8 * 1024 * 1024, 0),
      syncBehindBytes: wr.int('syncBehindBytes', 8 * 1024 * 1024, 0),
      readPastCacheBytes: wr.int('readPastCacheBytes', 0, 0),
      journal: wr.bool('journal', true),
      journalCheckpointMs: wr.int('journalCheckpointMs', 5000, 100, 3_600_000),
    },
    reconRun: f.bool('reconRun', false),
    idleCollectMs: f.int('idleCollectMs', 0, 0),
  };
}

/** Parses a proxy's config object (`where` names it in errors). */
export function parseProxyConfig(obj: Record<string, unknown>, where = 'proxy config'): ProxyConfig {
  const f = new Fields(obj, where);
  const policies = f.policies('policies');
  const defaultPolicy = f.string('defaultPolicy', policies[0].name);
  if (!policies.some((p) => p.name === defaultPolicy)) {
    throw new ArcaError('InvalidConfig', `${where}: field "defaultPolicy" names no configured policy`, { field: 'defaultPolicy' });
  }
  return {
    bindIp: f.string('bindIp', '127.0.0.1'),
    port: f.int('port', undefined, 0, 65535),
    glancePort: f.optionalInt('glancePort', 0, 65535),
    images: parseImagesConfig(f.object('images'), policies, defaultPolicy),
    ringDir: f.string('ringDir'),
    policies,
    defaultPolicy,
    region: f.string('region', 'us-east-1'),
    rootAccessKey: f.string('rootAccessKey'),
    rootSecretKey: f.string('rootSecretKey'),
    connTimeoutMs: f.int('connTimeoutMs', 2_000, 1),
    nodeTimeoutMs: f.int('nodeTimeoutMs', 10_000, 1),
    bucketCacheTtlMs: f.int('bucketCacheTtlMs', 5_000),
    clientIdleTimeoutMs: f.int('clientIdleTimeoutMs', 20_000, 1),
    virtualHostDomains: f.strings('virtualHostDomains', []),
    ecSegmentSize: f.int('ecSegmentSize', 1024 * 1024, 8, 1 << 30),
    identityCacheTtlMs: f.int('identityCacheTtlMs', 3_000),
    hashOffThread: f.bool('hashOffThread', availableParallelism() >= 4),
    readAffinity: nodeAddresses(f, 'readAffinity'),
    nodeFrames: f.bool('nodeFrames', true),
    errorSuppressionLimit: f.int('errorSuppressionLimit', defaultErrorSuppression.limit, 0),
    errorSuppressionIntervalSec: f.int('errorSuppressionIntervalSec', defaultErrorSuppression.intervalSec, 1),
    identityKey: f.optionalString('identityKey'),
    multipartAbortAfterSec: f.int('multipartAbortAfterSec', 7 * 24 * 3600, 0),
    multipartJanitorIntervalSec: f.int('multipartJanitorIntervalSec', 3600, 0),
    lifecycleIntervalSec: f.int('lifecycleIntervalSec', 3600, 0),
    lifecycleOpsPerSec: f.int('lifecycleOpsPerSec', 50, 0),
    events: parseEventsConfig(f.object('events')),
    hooks: parseHooksConfig(f.object('hooks')),
  };
}

/** A list of storage node addresses, `ip:port` each (default none). */
function nodeAddresses(f: Fields, field: string): string[] {
  const list = f.strings(field, []);
  if (list.some((a) => !/^[^\s:]+:\d{1,5}$/.test(a) || Number(a.slice(a.lastIndexOf(':') + 1)) > 65535)) f.fail(field, 'a list of storage node addresses, ip:port');
  return list;
}

function parseEventsConfig(f: Fields): EventsConfig {
  const webhooks: Record<string, WebhookConfig> = {};
  const raw = f.object('webhooks');
  for (const name of raw.keys()) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) raw.fail(name, 'named with 1-64 letters, digits, _ . -');
    const w = raw.object(name);
    const url = w.string('url');
    if (!/^https?:\/\//.test(url)) w.fail('url', 'an http:// or https:// URL');
    webhooks[name] = { url, authHeader: w.optionalString('authHeader'), secret: w.optionalString('secret') };
  }
  return {
    webhooks,
    deliver: f.bool('deliver', true),
    retentionSec: f.int('retentionSec', 86_400, 1),
    pollIntervalMs: f.int('pollIntervalMs', 100, 1),
    maxRecordsPerRequest: f.int('maxRecordsPerRequest', 100, 1, 10_000),
    requestTimeoutMs: f.int('requestTimeoutMs', 5_000, 1),
    retryBaseMs: f.int('retryBaseMs', 500, 1),
    retryMaxMs: f.int('retryMaxMs', 30_000, 1),
    leaseMs: f.int('leaseMs', 15_000, 100),
    hookAttempts: f.int('hookAttempts', 3, 1),
  };
}

function parseHooksConfig(f: Fields): HooksConfig {
  return {
    maxWorkers: f.int('maxWorkers', 8, 1, 1024),
    idleWorkers: f.int('idleWorkers', 1, 0, 1024),
    maxMemoryMiB: f.int('maxMemoryMiB', 64, 1, 4096),
    stepTimeoutMs: f.int('stepTimeoutMs', 2_000, 1),
    callCpuMs: f.int('callCpuMs', 5_000, 1),
    cpuMsPerMiB: f.int('cpuMsPerMiB', 500, 0),
    queueTimeoutMs: f.int('queueTimeoutMs', 10_000, 1),
  };
}

function parseImagesConfig(f: Fields, policies: PolicyConfig[], defaultPolicy: string): ImagesConfig {
  const policy = f.string('policy', policies.some((p) => p.name === 'ec-4+2') ? 'ec-4+2' : defaultPolicy);
  if (!policies.some((p) => p.name === policy)) f.fail('policy', 'a configured storage policy');
  return {
    bucket: f.string('bucket', 'arca-images'),
    policy,
    sizeCap: f.int('sizeCap', 1024 ** 4, 1),
    webDownloadPorts: f.ints('webDownloadPorts', [80, 443], 1, 65535),
    maxTokenTtlSec: f.int('maxTokenTtlSec', 7 * 24 * 3600, 1),
    cacheMs: f.int('cacheMs', 2_000),
    blockCacheBytes: f.int('blockCacheBytes', 64 * 1024 * 1024),
  };
}

/** Loads and parses a node config file. */
export function loadNodeConfig(file: string): NodeConfig {
  return parseNodeConfig(readJson(file), file);
}

/**
 * Loads and parses a proxy config file. `env` may supply the root credentials (`ARCA_ACCESS_KEY`,
 * `ARCA_SECRET_KEY`), which then win over the file, so secrets need not be written into it.
 */
export function loadProxyConfig(file: string, env: Record<string, string | undefined> = {}): ProxyConfig {
  const raw = readJson(file);
  if (env.ARCA_ACCESS_KEY) raw.rootAccessKey = env.ARCA_ACCESS_KEY;
  if (env.ARCA_SECRET_KEY) raw.rootSecretKey = env.ARCA_SECRET_KEY;
  return parseProxyConfig(raw, file);
}

/** File name of a ring inside the ring directory. */
export function ringFileName(kind: 'account' | 'container' | { policyIndex: number }): string {
  if (kind === 'account' || kind === 'container') return `${kind}.ring.json.gz`;
  return kind.policyIndex === 0 ? 'object.ring.json.gz' : `object-${kind.policyIndex}.ring.json.gz`;
}
