/**
 * Deployed hooks: each a module plus its manifest, kept as `hooks/<name>` in the compute bucket (the bytes
 * as the body, the manifest and the module's memory limits in the metadata), so every proxy runs the same
 * code. Proxies keep compiled modules and look again at most every `revalidateMs`.
 */
import { createHash } from 'node:crypto';
import { ArcaError } from '../../common/errors.js';
import type { HooksConfig } from '../../common/config.js';
import { checkModule, type MemoryLimits } from '../sandbox/abi.js';
import { memoryPages, type RunnableHook } from '../sandbox/pool.js';
import type { SystemBucket } from '../system-bucket.js';
import { checkHookName, type HookManifest, parseManifest } from './manifest.js';

/** A deployed hook, compiled and ready to run. */
export interface LoadedHook extends RunnableHook {
  manifest: HookManifest;
  sha256: string;
}

/** A deployed hook as listed. */
export interface HookSummary {
  name: string;
  manifest: HookManifest;
  size: number;
  sha256: string;
  deployedAt: string;
}

const prefix = 'hooks/';
/** Largest module accepted. */
export const maxModuleBytes = 16 * 1024 * 1024;

export class HookRegistry {
  readonly #cache = new Map<string, { checked: number; etag: string; hook: LoadedHook }>();

  constructor(
    private readonly system: SystemBucket,
    private readonly config: HooksConfig,
    private readonly revalidateMs = 2000,
  ) {}

  /** Checks and stores a hook (replacing one of the same name). */
  async deploy(name: string, manifestRaw: unknown, bytes: Buffer): Promise<HookSummary> {
    checkHookName(name);
    const manifest = parseManifest(manifestRaw);
    if (bytes.length === 0 || bytes.length > maxModuleBytes) throw new ArcaError('BadRequest', `a module must be 1 byte to ${maxModuleBytes} bytes`);
    const limits = await this.#compile(bytes, manifest).then((c) => c.limits);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const info = await this.system.put(prefix + name, bytes, { hookManifest: manifest, limits, sha256 }, 'application/wasm');
    this.#cache.delete(name);
    return { name, manifest, size: bytes.length, sha256, deployedAt: new Date(Number(info.ts.split('.')[0]) * 1000).toISOString() };
  }

  async remove(name: string): Promise<boolean> {
    this.#cache.delete(name);
    return this.system.delete(prefix + name);
  }

  async list(): Promise<HookSummary[]> {
    const out: HookSummary[] = [];
    for (const name of await this.system.keys(prefix)) {
      const info = await this.system.head(prefix + name);
      if (info) out.push(summaryOf(name, info.meta, info.size, info.ts));
    }
    return out;
  }

  async describe(name: string): Promise<HookSummary | undefined> {
    const info = await this.system.head(prefix + name);
    return info && summaryOf(name, info.meta, info.size, info.ts);
  }

  /** The hook, compiled; undefined when none of that name is deployed. */
  async get(name: string): Promise<LoadedHook | undefined> {
    const hit = this.#cache.get(name);
    const now = Date.now();
    if (hit && now - hit.checked < this.revalidateMs) return hit.hook;
    if (hit) {
      const head = await this.system.head(prefix + name);
      if (head?.etag === hit.etag) {
        hit.checked = now;
        return hit.hook;
      }
    }
    const read = await this.system.get(prefix + name, maxModuleBytes);
    if (!read) {
      this.#cache.delete(name);
      return undefined;
    }
    const manifest = parseManifest(read.info.meta.hookManifest);
    const { module, limits } = await this.#compile(read.body, manifest);
    const pages = memoryPages(limits, manifest.memoryMiB, this.config);
    const hook: LoadedHook = {
      name,
      module,
      manifest,
      sha256: String(read.info.meta.sha256 ?? ''),
      memoryMinPages: pages.min,
      memoryMaxPages: pages.max,
      stepTimeoutMs: manifest.stepTimeoutMs,
    };
    this.#cache.set(name, { checked: now, etag: read.info.etag, hook });
    return hook;
  }

  async #compile(bytes: Buffer, manifest: HookManifest): Promise<{ module: WebAssembly.Module; limits: MemoryLimits }> {
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bytes);
    } catch (err) {
      throw new ArcaError('BadRequest', `not a valid WebAssembly module: ${(err as Error).message}`);
    }
    const limits = checkModule(module, bytes);
    memoryPages(limits, manifest.memoryMiB, this.config);
    return { module, limits };
  }
}

function summaryOf(name: string, meta: Record<string, unknown>, size: number, ts: string): HookSummary {
  return { name, manifest: meta.hookManifest as HookManifest, size, sha256: String(meta.sha256 ?? ''), deployedAt: new Date(Number(ts.split('.')[0]) * 1000).toISOString() };
}
