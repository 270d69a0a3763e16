/**
 * Expiry of single objects, Swift-style: `X-Delete-At` (Unix seconds) or `X-Delete-After` (seconds from now)
 * on a write sets the object's `deleteAt`; from then on the storage nodes no longer serve it and their
 * expirer removes it (docs/versioning.md). Not in versioned buckets, where removing a version behind the
 * client's back would break the version history (InvalidRequest).
 */
import type { BucketInfo } from '../proxy/object-store.js';
import type { S3Request } from './context.js';
import { S3Error } from './errors.js';
import { isVersioned } from './versions.js';

/** The `deleteAt` field (ms since the epoch) a write's expiry headers ask for, if any. */
export function deleteAt(headers: S3Request['headers'], bucket: BucketInfo, now = Date.now()): { deleteAt?: number } {
  const at = headers['x-delete-at'] as string | undefined;
  const after = headers['x-delete-after'] as string | undefined;
  if (at === undefined && after === undefined) return {};
  const bad = (name: string, value: string) => new S3Error('InvalidArgument', { message: `${name} must be a non-negative integer`, extra: { ArgumentName: name, ArgumentValue: value } });
  if (at !== undefined && !/^\d{1,12}$/.test(at)) throw bad('X-Delete-At', at);
  if (after !== undefined && !/^\d{1,12}$/.test(after)) throw bad('X-Delete-After', after);
  if (isVersioned(bucket)) throw new S3Error('InvalidRequest', { message: 'X-Delete-At and X-Delete-After are not supported in a bucket with versioning' });
  const ms = at !== undefined ? Number(at) * 1000 : now + Number(after) * 1000;
  if (ms <= now) throw new S3Error('InvalidArgument', { message: 'X-Delete-At is in the past', extra: { ArgumentName: 'X-Delete-At', ArgumentValue: String(at ?? after) } });
  return { deleteAt: ms };
}
