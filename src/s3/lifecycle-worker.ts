/**
 * The lifecycle worker: a background worker (the proxy root runs `runOnce()` on an interval, tests call it
 * directly) that applies every bucket's lifecycle rules (lifecycle.ts) through the ObjectStore:
 *
 * - Expiration (days, date) of current versions: deleted in an unversioned bucket, hidden behind a delete
 *   marker in a versioned one; ExpiredObjectDeleteMarker removes a delete marker left with no versions.
 * - NoncurrentVersionExpiration: a version `days` after a newer one replaced it, keeping the
 *   `NewerNoncurrentVersions` newest noncurrent ones.
 * - AbortIncompleteMultipartUpload: uploads older than `DaysAfterInitiation`.
 * - Transition: a current version's bytes move to another storage policy in place (ObjectStore
 *   `transitionObject`: same version, ETag and Last-Modified).
 *
 * It never removes a locked version: it skips what a retention or legal hold protects (and the storage
 * nodes would refuse anyway). Work is paced: at most `opsPerSec` changes per second.
 */
import { isArcaError } from '../common/errors.js';
import { activeLock } from '../common/object-lock.js';
import { timestampMillis } from '../common/timestamp.js';
import { type BucketInfo, type ObjectStore, type ObjectVersionSummary, versioningOf } from '../proxy/object-store.js';
import { isDue, type LifecycleRule, lifecycleRules, ruleMatches } from './lifecycle.js';
import { deleteParts, deleteRecord, parseRecordName, uploadIdMillis } from './multipart.js';
import type { Tag } from './tagging.js';

export interface LifecycleWorkerOptions {
  store: ObjectStore;
  log: (line: string) => void;
  /** Most changes (deletes, markers, transitions, aborts) per second; 0 = no limit. */
  opsPerSec: number;
  /** The clock (ms), for tests. */
  now?: () => number;
}

/** What one pass did. */
export interface LifecyclePass {
  buckets: number;
  expired: number;
  markersRemoved: number;
  noncurrentRemoved: number;
  uploadsAborted: number;
  transitioned: number;
  /** Versions a rule matched but an object lock protects. */
  lockedSkipped: number;
}

export class LifecycleWorker {
  private readonly now: () => number;
  private nextSlot = 0;

  constructor(private readonly opts: LifecycleWorkerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** One pass over every bucket with lifecycle rules. Errors in one bucket are logged and do not stop the others. */
  async runOnce(signal?: AbortSignal): Promise<LifecyclePass> {
    const pass: LifecyclePass = { buckets: 0, expired: 0, markersRemoved: 0, noncurrentRemoved: 0, uploadsAborted: 0, transitioned: 0, lockedSkipped: 0 };
    let marker: string | undefined;
    for (;;) {
      const page = await this.opts.store.listAllBuckets({ marker, limit: 1000 });
      for (const name of page.names) {
        if (signal?.aborted) return pass;
        if (name.startsWith('.') || name.includes('+')) continue;
        try {
          const bucket = await this.opts.store.getBucket(name);
          const rules = bucket ? lifecycleRules(bucket.meta) : [];
          if (!bucket || rules.length === 0) continue;
          pass.buckets++;
          await this.currentVersions(bucket, rules, pass, signal);
          if (versioningOf(bucket)) await this.allVersions(bucket, rules, pass, signal);
          await this.abortUploads(bucket, rules, pass);
        } catch (err) {
          this.opts.log(`lifecycle: bucket ${name}: ${(err as Error).message}`);
        }
      }
      if (!page.truncated || page.names.length === 0) return pass;
      marker = page.names[page.names.length - 1];
    }
  }

  /** Waits for the next slot of the `opsPerSec` budget. */
  private async pace(): Promise<void> {
    if (this.opts.opsPerSec <= 0) return;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + 1000 / this.opts.opsPerSec;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }

  private tagsOf(bucket: BucketInfo, key: string, versionId?: string): () => Promise<Tag[]> {
    return async () => ((await this.opts.store.headObject(bucket, key, { versionId, newest: true }))?.meta.tags as Tag[] | undefined) ?? [];
  }

  /** Expiration and Transition of current versions, walking the bucket's (current) listing. */
  private async currentVersions(bucket: BucketInfo, rules: LifecycleRule[], pass: LifecyclePass, signal?: AbortSignal): Promise<void> {
    const acting = rules.filter((r) => (r.expiration && !r.expiration.expiredObjectDeleteMarker) || r.transitions?.length);
    if (acting.length === 0) return;
    const { store } = this.opts;
    const now = this.now();
    let marker: string | undefined;
    for (;;) {
      const page = await store.listObjects(bucket, { marker, limit: 1000 });
      for (const e of page.entries) {
        if (signal?.aborted) return;
        if (!('key' in e)) continue;
        marker = e.key;
        const created = timestampMillis(e.ts);
        let expire = false;
        let transition: string | undefined;
        for (const rule of acting) {
          if (!(await ruleMatches(rule, e.key, e.size, this.tagsOf(bucket, e.key)))) continue;
          const exp = rule.expiration;
          if (exp && !exp.expiredObjectDeleteMarker && isDue(exp, created, now)) expire = true;
          for (const t of rule.transitions ?? []) if (isDue(t, created, now)) transition = t.storageClass;
        }
        if (expire) {
          await this.pace();
          // A versioned bucket keeps the version behind a delete marker; a locked one stays locked.
          await store.deleteObject(bucket, e.key);
          pass.expired++;
        } else if (transition !== undefined) {
          const policy = transition === 'STANDARD' ? bucket.policy : transition;
          await this.pace();
          try {
            if ((await store.transitionObject(bucket, e.key, policy)) === 'moved') pass.transitioned++;
          } catch (err) {
            this.opts.log(`lifecycle: ${bucket.name}/${e.key}: transition to ${policy}: ${(err as Error).message}`);
          }
        }
      }
      if (!page.truncated || page.entries.length === 0) return;
    }
  }

  /** NoncurrentVersionExpiration and ExpiredObjectDeleteMarker, walking the version listing one key at a time. */
  private async allVersions(bucket: BucketInfo, rules: LifecycleRule[], pass: LifecyclePass, signal?: AbortSignal): Promise<void> {
    const acting = rules.filter((r) => r.noncurrentExpiration || r.expiration?.expiredObjectDeleteMarker);
    if (acting.length === 0) return;
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let group: ObjectVersionSummary[] = [];
    const flush = async () => {
      if (group.length) await this.settleKey(bucket, acting, group, pass);
      group = [];
    };
    for (;;) {
      const page = await this.opts.store.listObjectVersions(bucket, { keyMarker, versionIdMarker, limit: 1000 });
      for (const e of page.entries) {
        if (signal?.aborted) return;
        if (!('key' in e)) continue;
        if (group.length && group[0].key !== e.key) await flush();
        group.push(e);
      }
      if (!page.truncated || !page.next) break;
      ({ keyMarker, versionIdMarker } = page.next);
    }
    await flush();
  }

  /** Applies the version rules to one key's versions (newest first). */
  private async settleKey(bucket: BucketInfo, rules: LifecycleRule[], versions: ObjectVersionSummary[], pass: LifecyclePass): Promise<void> {
    const { store } = this.opts;
    const now = this.now();
    const key = versions[0].key;
    let removed = 0;
    let noncurrentSeen = 0;
    for (let i = 1; i < versions.length; i++) {
      const v = versions[i];
      // A version became noncurrent when the next newer one was written.
      const since = timestampMillis(versions[i - 1].ts);
      if (!v.deleteMarker) noncurrentSeen++;
      let due = false;
      for (const rule of rules) {
        const nve = rule.noncurrentExpiration;
        if (!nve || !(await ruleMatches(rule, key, v.size, this.tagsOf(bucket, key, v.versionId)))) continue;
        if (isDue({ days: nve.days }, since, now) && (nve.newer === undefined || noncurrentSeen > nve.newer)) due = true;
      }
      if (!due) continue;
      if (await this.removeVersion(bucket, key, v, pass)) {
        removed++;
        pass.noncurrentRemoved++;
      }
    }
    // A delete marker that is the latest and the only version left is expired.
    const latest = versions[0];
    if (latest.deleteMarker && versions.length - removed === 1) {
      for (const rule of rules) {
        if (!rule.expiration?.expiredObjectDeleteMarker || !(await ruleMatches(rule, key, 0, async () => []))) continue;
        await this.pace();
        await store.deleteObject(bucket, key, { versionId: latest.versionId });
        pass.markersRemoved++;
        break;
      }
    }
  }

  /** Removes one version unless an object lock protects it; true when removed. */
  private async removeVersion(bucket: BucketInfo, key: string, v: ObjectVersionSummary, pass: LifecyclePass): Promise<boolean> {
    const { store } = this.opts;
    if (!v.deleteMarker) {
      const info = await store.headObject(bucket, key, { versionId: v.versionId, newest: true });
      if (!info) return false;
      if (activeLock(info.meta, Date.now())) {
        pass.lockedSkipped++;
        return false;
      }
    }
    await this.pace();
    try {
      await store.deleteObject(bucket, key, { versionId: v.versionId });
      return true;
    } catch (err) {
      if (!isArcaError(err, 'Locked')) throw err;
      pass.lockedSkipped++;
      return false;
    }
  }

  /** AbortIncompleteMultipartUpload: aborts the matching uploads older than the rule's days. */
  private async abortUploads(bucket: BucketInfo, rules: LifecycleRule[], pass: LifecyclePass): Promise<void> {
    const acting = rules.filter((r) => r.abortIncompleteDays !== undefined);
    if (acting.length === 0) return;
    const { store } = this.opts;
    const uploads = await store.findInternalBucket(bucket, 'uploads');
    if (!uploads) return;
    const now = this.now();
    let marker: string | undefined;
    for (;;) {
      const page = await store.listObjects(uploads, { marker, limit: 1000 });
      for (const e of page.entries) {
        if (!('key' in e)) continue;
        marker = e.key;
        const parsed = parseRecordName(e.key);
        if (!parsed) continue;
        const started = uploadIdMillis(parsed.uploadId);
        const due = acting.some((r) => (!r.filter.prefix || parsed.key.startsWith(r.filter.prefix)) && isDue({ days: r.abortIncompleteDays }, started, now));
        if (!due) continue;
        await this.pace();
        await deleteRecord(store, bucket, parsed.key, parsed.uploadId);
        await deleteParts(store, bucket, parsed.key, parsed.uploadId);
        pass.uploadsAborted++;
      }
      if (!page.truncated || page.entries.length === 0) return;
    }
  }
}
