/**
 * Glance "stores" are Arca's storage policies: the image data of a store is kept in one bucket of that policy,
 * owned by the root account so the same objects are readable through S3 (`aws s3 cp s3://arca-images/<id>`).
 * The default store's bucket is `imagesBucket` (config); another store's is `<imagesBucket>-<policy>` with `+`
 * spelled `-` (`arca-images-replica-3`). Buckets are created on first use.
 */
import { rootAccount } from '../common/identity.js';
import type { BucketInfo, ObjectStore } from '../proxy/object-store.js';
import { GlanceError } from './errors.js';

export interface StoresOptions {
  /** Name of the default store's bucket. */
  bucket: string;
  /** Policy of the default store (applies when its bucket is created; an existing bucket keeps its own). */
  defaultPolicy: string;
  /** Every storage policy of the cluster: the stores. */
  policies: readonly string[];
}

export class ImageStores {
  private readonly buckets = new Map<string, Promise<BucketInfo>>();
  private defaultBucket: Promise<BucketInfo> | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: StoresOptions,
  ) {}

  private ensure(name: string, policy: string): Promise<BucketInfo> {
    const p = (async () => {
      const existing = await this.store.getBucket(name);
      if (existing) return existing;
      const outcome = await this.store.createBucket(rootAccount, name, { policy });
      if (outcome === 'taken') throw new Error(`image bucket ${name} belongs to another account`);
      const made = await this.store.getBucket(name);
      if (!made) throw new Error(`image bucket ${name} is not readable after creation`);
      return made;
    })();
    return p;
  }

  /** The default store's bucket; its policy is the default store id. */
  default(): Promise<BucketInfo> {
    if (!this.defaultBucket) {
      const p = this.ensure(this.opts.bucket, this.opts.defaultPolicy);
      // A failure (nodes still starting) is not remembered: the next request tries again.
      p.catch(() => {
        if (this.defaultBucket === p) this.defaultBucket = undefined;
      });
      this.defaultBucket = p;
    }
    return this.defaultBucket;
  }

  /** The store ids (policy names), the default first. */
  async ids(): Promise<{ id: string; isDefault: boolean }[]> {
    const dflt = (await this.default()).policy;
    return [dflt, ...this.opts.policies.filter((p) => p !== dflt)].map((id) => ({ id, isDefault: id === dflt }));
  }

  /** The bucket of store `id`; 400 for an unknown store. */
  async bucketOf(id: string): Promise<BucketInfo> {
    const dflt = await this.default();
    if (id === dflt.policy) return dflt;
    if (!this.opts.policies.includes(id)) throw new GlanceError('BadRequest', `Unknown store: ${id}`);
    let p = this.buckets.get(id);
    if (!p) {
      const made = this.ensure(`${this.opts.bucket}-${id.replace(/\+/g, '-')}`, id);
      made.catch(() => {
        if (this.buckets.get(id) === made) this.buckets.delete(id);
      });
      this.buckets.set(id, made);
      p = made;
    }
    return p;
  }
}
