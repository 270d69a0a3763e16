/**
 * The size of a storage node's libuv thread pool. Node reads `UV_THREADPOOL_SIZE` once, when the pool starts
 * — which happens while the ES module loader reads the entry module, before any of Arca's code runs — so a
 * node process cannot set it for itself: whatever starts the process passes it in its environment
 * (`arca cluster` does; see docs/storage-nodes.md). Node's default of 4 lets four blocked fsyncs stall every
 * other file-system call of the process.
 */

/** Threads a storage node's pool gets when its environment names none. */
export const defaultNodeThreadPoolSize = 32;

/** `env` with `UV_THREADPOOL_SIZE` set for a storage node, unless it already names a size. */
export function storageNodeEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.UV_THREADPOOL_SIZE) return env;
  return { ...env, UV_THREADPOOL_SIZE: String(defaultNodeThreadPoolSize) };
}
