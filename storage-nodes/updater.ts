/**
 * The object updater (Swift's object-updater): replays queued listing updates, oldest first, and deletes each
 * record once its listing replica accepted it. A replica that fails is not asked again in the same pass, so
 * one dead node costs one timeout per pass, not one per record.
 */
import type { AsyncPendingQueue } from './async-pending.js';
import type { ListingUpdateClient } from './listing-updates.js';

export interface ObjectUpdaterDeps {
  devices: readonly string[];
  queue: AsyncPendingQueue;
  client: ListingUpdateClient;
  log: (line: string) => void;
}

/** Replays async-pending records; `runOnce` is one pass over every device. */
export class ObjectUpdater {
  constructor(private readonly deps: ObjectUpdaterDeps) {}

  /** One pass: `sent` records delivered (and removed), `failed` ones left for the next pass. */
  async runOnce(): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    const downTargets = new Set<string>();
    for (const device of this.deps.devices) {
      let queued: Awaited<ReturnType<AsyncPendingQueue['list']>>;
      try {
        queued = await this.deps.queue.list(device);
      } catch (err) {
        this.deps.log(`updater: cannot list async pending of ${device}: ${(err as Error).message}`);
        continue;
      }
      const newest = new Map<string, string>();
      for (const q of queued) newest.set(q.key, q.file);
      for (const q of queued) {
        if (newest.get(q.key) !== q.file) {
          await this.deps.queue.remove(q); // superseded by a newer update of the same row
          continue;
        }
        const record = await this.deps.queue.read(q);
        if (!record) {
          this.deps.log(`updater: dropping unreadable record ${device}/async_pending/${q.file}`);
          await this.deps.queue.remove(q);
          continue;
        }
        const { target } = record;
        const targetId = `${target.ip}:${target.port}/${target.device}`;
        if (downTargets.has(targetId)) {
          failed++;
          continue;
        }
        const status = await this.deps.client.sendRows(target, record.account, record.bucket, [record.row]);
        if (status >= 200 && status < 300) {
          await this.deps.queue.remove(q);
          sent++;
        } else if (status === 400) {
          this.deps.log(`updater: ${targetId} refused ${device}/async_pending/${q.file} as malformed; dropping it`);
          await this.deps.queue.remove(q);
        } else {
          failed++;
          if (status === 0 || status >= 500) downTargets.add(targetId);
        }
      }
    }
    return { sent, failed };
  }
}
