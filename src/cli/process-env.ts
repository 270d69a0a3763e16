/**
 * Environment that Arca's server processes need before they start. Node and glibc read these variables once,
 * while the process starts — before any of Arca's code runs — so a process cannot set them for itself:
 * whatever starts it passes them in its environment (`arca cluster` does; docker-compose.yml does too).
 *
 * - Storage nodes: `UV_THREADPOOL_SIZE`. libuv's pool starts while the ES module loader reads the entry module;
 *   Node's default of 4 lets four blocked fsyncs stall every other file-system call of the process
 *   (docs/storage-nodes.md, "The node's thread pool"). And `--max-semi-space-size` in `NODE_OPTIONS`: V8 sizes
 *   its heap when the process starts.
 * - The proxy: glibc malloc's trim and mmap thresholds, and an 8 MiB semi-space. Every socket read allocates a
 *   fresh 64 KiB buffer, freed when V8 collects it, tens of MiB at a time; with glibc's defaults the freed top
 *   of the heap goes back to the kernel and the next reads fault it in again, page by page (docs/proxy.md,
 *   "Memory allocator").
 *
 * One V8 setting a node applies to itself at start instead: the heap growing factor (`applyNodeHeapGrowth`).
 */
import v8 from 'node:v8';

/** Threads a storage node's pool gets when its environment names none. */
export const defaultNodeThreadPoolSize = 32;

/**
 * The proxy's malloc settings: keep up to 64 MiB of freed heap top (more than V8 lets die between collections
 * of a large transfer's buffers), and keep allocations up to 8 MiB in the heap instead of a fresh mmap each.
 */
export const proxyMallocEnv: Readonly<Record<string, string>> = {
  MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024),
  MALLOC_MMAP_THRESHOLD_: String(8 * 1024 * 1024),
};

/**
 * The V8 young generation of a storage node, MiB per semi-space (Node 20's default is 16). A node's requests
 * allocate little that lives, but with 16 MiB semi-spaces V8 grew each node's heap to ~110–120 MiB committed
 * around 15–35 MiB of live objects under small-object load (docs/storage-nodes.md, "The node's young
 * generation").
 */
export const nodeSemiSpaceMiB = 2;

/**
 * How much a storage node's V8 heap may grow past what was live after a full collection, percent (V8's
 * `--heap-growing-percent`; its own factor is 1.1–4× and starts high, so a node's old generation reached
 * 60–128 MiB in use — the replicators' first passes after a start, then small-object load — around ~15 MiB
 * of live objects before its first full collections; docs/storage-nodes.md, "The node's young generation").
 * Unlike the semi-space size it can be set while the process runs (`applyNodeHeapGrowth`), so every way of
 * starting a node gets it.
 */
export const nodeHeapGrowingPercent = 50;

/**
 * Sets V8's heap growing factor of this process to `nodeHeapGrowingPercent`, unless its command line names
 * one; true when it did. V8 flags are per process: the node's worker threads get it too.
 */
export function applyNodeHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${nodeHeapGrowingPercent}`);
  return true;
}

/**
 * The proxy's young generation, MiB per semi-space. The socket buffers of large transfers are freed only when
 * a scavenge collects their wrappers; with 8 MiB instead of 16 that happens twice as often, and the proxy's
 * peak during 64 concurrent 64 MiB uploads fell by ~25 MiB at the same CPU per op (docs/proxy.md, "Memory
 * allocator"). 4 MiB lowered it more and cost small GETs ~7 % of the proxy's CPU.
 */
export const proxySemiSpaceMiB = 8;

/** `env` with `--max-semi-space-size=MIB` added to `NODE_OPTIONS`, unless they already name a size. */
function withSemiSpace(env: NodeJS.ProcessEnv, mib: number): NodeJS.ProcessEnv {
  const options = env.NODE_OPTIONS ?? '';
  if (/--max-semi-space-size\b/.test(options)) return env;
  return { ...env, NODE_OPTIONS: `${options} --max-semi-space-size=${mib}`.trim() };
}

/**
 * `env` for a storage node: `UV_THREADPOOL_SIZE` unless it already names a size, and `--max-semi-space-size`
 * added to `NODE_OPTIONS` unless they already name one.
 */
export function storageNodeEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = withSemiSpace(env, nodeSemiSpaceMiB);
  return out.UV_THREADPOOL_SIZE ? out : { ...out, UV_THREADPOOL_SIZE: String(defaultNodeThreadPoolSize) };
}

/**
 * `env` for the proxy: the malloc settings unless it already names either, and `--max-semi-space-size` added
 * to `NODE_OPTIONS` unless they already name one.
 */
export function proxyEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = withSemiSpace(env, proxySemiSpaceMiB);
  return Object.keys(proxyMallocEnv).some((name) => out[name]) ? out : { ...out, ...proxyMallocEnv };
}
