/**
 * Bindings of hooks to buckets, kept in the bucket's settings (`meta.hooks`) so the data path finds them
 * with the bucket lookup it does anyway: `{id, hook, on, prefix?, suffix?, targetBucket?, params?}`.
 */
import type { BucketInfo } from '../../proxy/object-store.js';
import type { Trigger } from './manifest.js';

export const bindingsMetaKey = 'hooks';

export interface HookBinding {
  /** Unique within the bucket. */
  id: string;
  hook: string;
  on: Trigger;
  prefix?: string;
  suffix?: string;
  /** Event hooks: the bucket derived objects go to (default: the bucket itself). */
  targetBucket?: string;
  /** Parameters handed to the hook in its context. */
  params?: Record<string, string>;
}

export function bindingsOf(bucket: BucketInfo): HookBinding[] {
  const v = bucket.meta[bindingsMetaKey];
  return Array.isArray(v) ? (v as HookBinding[]) : [];
}

/** True when a key is in a binding's (or rule's) prefix and suffix filter. */
export function keyMatches(f: { prefix?: string; suffix?: string }, key: string): boolean {
  return (!f.prefix || key.startsWith(f.prefix)) && (!f.suffix || key.endsWith(f.suffix));
}

/** The first binding of `on` whose filter takes `key`. */
export function bindingFor(bucket: BucketInfo, on: Trigger, key: string): HookBinding | undefined {
  return bindingsOf(bucket).find((b) => b.on === on && keyMatches(b, key));
}
