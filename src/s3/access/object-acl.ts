/**
 * An object's ACL and owner as stored with it. Objects keep:
 *
 *   meta.aclHeaders   the `x-amz-acl` / `x-amz-grant-*` headers of the request that wrote it, verbatim
 *                     (object-meta.ts; checked by `checkRequestAcl` before the write)
 *   meta.owner        the writer's account, when it is not the bucket owner's
 *   meta.acl          the ACL PutObjectAcl set, which replaces the above
 *
 * and the ACL is worked out from them when it is needed (GetObjectAcl, a caller who is not the bucket owner).
 */
import type { BucketInfo } from '../../proxy/object-store.js';
import { type Acl, aclFromHeaders, privateAcl, storedAcl } from './acl.js';
import { aclsDisabled, objectOwnership } from './bucket-settings.js';

/** The account owning an object: its writer, or the bucket owner (BucketOwnerEnforced, BucketOwnerPreferred with bucket-owner-full-control). */
export function objectOwner(meta: Record<string, unknown>, bucket: BucketInfo): string {
  if (aclsDisabled(bucket)) return bucket.account;
  const headers = meta.aclHeaders as Record<string, string> | undefined;
  if (objectOwnership(bucket) === 'BucketOwnerPreferred' && headers?.['x-amz-acl']?.trim() === 'bucket-owner-full-control') return bucket.account;
  return typeof meta.owner === 'string' ? meta.owner : bucket.account;
}

/** The ACL of an object from its metadata (BucketOwnerEnforced: the bucket owner's, private). */
export function objectAcl(meta: Record<string, unknown>, bucket: BucketInfo): Acl {
  if (aclsDisabled(bucket)) return privateAcl(bucket.account);
  const stored = storedAcl(meta.acl);
  if (stored) return stored;
  const owner = objectOwner(meta, bucket);
  const headers = meta.aclHeaders as Record<string, string> | undefined;
  if (!headers) return privateAcl(owner);
  try {
    return aclFromHeaders(headers, owner, bucket.account) ?? privateAcl(owner);
  } catch {
    // Checked before the write; should the rules have changed since, fall back to private.
    return privateAcl(owner);
  }
}

/** Metadata to store with an object written by `account` into `bucket` (its owner, when not the bucket's). */
export function ownerMeta(account: string | undefined, bucket: BucketInfo): Record<string, unknown> {
  return account !== undefined && account !== bucket.account && !aclsDisabled(bucket) ? { owner: account } : {};
}
