/**
 * Backpressure over several node uploads of one write. Waiting for every upload to drain lets one device that
 * stopped taking data mid-body (cut off, hung) hold back the others until their own idle timeouts fire, and
 * the whole write fails; so the wait ends once a quorum has drained and a grace period passed, and the uploads
 * still full are dropped as failed — the write goes on (and succeeds) with the quorum.
 */
import type { NodeUpload } from '../node-client.js';

/**
 * Resolves when every upload has drained, or `graceMs` after `quorum` of them have; uploads still full then
 * are aborted (their `failed` is set). With fewer than `quorum` drained it keeps waiting: the uploads' own
 * timeouts end a write that cannot reach its quorum.
 */
export async function drainQuorum(uploads: readonly NodeUpload[], quorum: number, graceMs: number): Promise<void> {
  const drained = new Set<NodeUpload>();
  let timer: NodeJS.Timeout | undefined;
  let graceOver!: () => void;
  const grace = new Promise<void>((resolve) => {
    graceOver = resolve;
  });
  const all = Promise.all(
    uploads.map(async (u) => {
      await u.drained();
      drained.add(u);
      if (drained.size === quorum && drained.size < uploads.length) timer = setTimeout(graceOver, graceMs);
    }),
  );
  try {
    await Promise.race([all, grace]);
  } finally {
    clearTimeout(timer);
  }
  for (const u of uploads) if (!drained.has(u)) u.abort();
}
