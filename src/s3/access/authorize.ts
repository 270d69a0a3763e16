/**
 * The access decision, made in one place for every S3 request:
 *
 *   1. the root user may do anything;
 *   2. an explicit Deny in the bucket policy refuses — except the bucket owner's account on the bucket's
 *      configuration (policy, ACL, CORS, public access block…), so a policy cannot lock its owner out;
 *   3. the bucket owner's account may do anything with its bucket and its objects;
 *   4. an Allow in the bucket policy grants (ignored for callers outside the owner's account when the public
 *      access block has RestrictPublicBuckets and the policy is public);
 *   5. an ACL grant gives what its permission covers (the bucket ACL for listing and writing, the object ACL
 *      for reading an object and its ACL) — not at all under BucketOwnerEnforced, and never for AllUsers /
 *      AuthenticatedUsers under IgnorePublicAcls;
 *   6. anything else is AccessDenied.
 */
import type { Principal } from '../../common/identity.js';
import type { BucketInfo } from '../../proxy/object-store.js';
import { aclAllows } from './acl.js';
import { actions, type IamAction } from './actions.js';
import { aclsDisabled, bucketAcl, bucketPolicy, publicAccessBlock } from './bucket-settings.js';
import type { ConditionKeys } from './conditions.js';
import { objectAcl } from './object-acl.js';
import { evaluatePolicy, isPublicPolicy } from './policy.js';

export interface AccessCheck {
  /** The caller; undefined for anonymous requests. */
  principal?: Principal;
  bucket: BucketInfo;
  action: IamAction;
  /** The object's key for object actions; undefined when it is not known (the check then covers any key). */
  key?: string;
  /** Condition keys of the request (see conditionKeys in ../context.ts). */
  keys: ConditionKeys;
  /** The object's metadata (undefined: no such object); read only when an object ACL must decide. */
  objectMeta?: () => Promise<Record<string, unknown> | undefined>;
}

/** The ARN of a bucket, or of an object in it. */
export function resourceArn(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

/** Whether the caller may do `action`; see the module comment for the order of the rules. */
export async function isAllowed(c: AccessCheck): Promise<boolean> {
  const { principal, bucket, action } = c;
  if (principal?.isRoot) return true;
  const info = actions[action];
  const owner = principal !== undefined && principal.account === bucket.account;
  const policy = bucketPolicy(bucket);
  const pab = publicAccessBlock(bucket);
  let verdict: 'allow' | 'deny' | 'none' = 'none';
  if (policy) {
    const onObject = info.scope === 'object';
    verdict = evaluatePolicy(policy, {
      principal,
      action,
      resource: resourceArn(bucket.name, onObject ? (c.key ?? '*') : undefined),
      anyKeyPrefix: onObject && c.key === undefined ? `${resourceArn(bucket.name)}/` : undefined,
      keys: c.keys,
    });
  }
  if (verdict === 'deny' && !(owner && info.scope === 'config')) return false;
  if (owner) return true;
  if (verdict === 'allow' && !(pab?.restrictPublicBuckets && isPublicPolicy(policy!))) return true;
  const acl = 'acl' in info ? info.acl : undefined;
  if (!acl || aclsDisabled(bucket)) return false;
  const ignorePublic = pab?.ignorePublicAcls === true;
  if (acl.on === 'bucket') return aclAllows(bucketAcl(bucket), principal, acl.permission, { ignorePublic });
  if (c.key === undefined || !c.objectMeta) return false;
  const meta = await c.objectMeta();
  if (meta === undefined) {
    // No such object: callers who may list the bucket learn that (NoSuchKey), others get AccessDenied, as in S3.
    return isAllowed({ ...c, action: 's3:ListBucket', key: undefined, objectMeta: undefined });
  }
  return aclAllows(objectAcl(meta, bucket), principal, acl.permission, { ignorePublic });
}
