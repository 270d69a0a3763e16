/**
 * The ACL a write request asks for — `x-amz-acl` or `x-amz-grant-*` on CreateBucket, PutObject,
 * CopyObject, CreateMultipartUpload, and the body or headers of PutBucketAcl / PutObjectAcl — checked
 * against the bucket's settings before anything is stored: ACLs disabled by BucketOwnerEnforced
 * (AccessControlListNotSupported), public ACLs refused by BlockPublicAcls (AccessDenied), grantees that are
 * not accounts (InvalidArgument).
 */
import type { IdentityProvider } from '../../common/identity.js';
import type { BucketInfo } from '../../proxy/object-store.js';
import type { S3Request } from '../context.js';
import { S3Error } from '../errors.js';
import { readSmallBody } from '../request-body.js';
import { type Acl, aclFromHeaders, checkGrantees, isPublicAcl, parseAclXml } from './acl.js';
import { aclsDisabled, publicAccessBlock } from './bucket-settings.js';

/** Whether an ACL is what BucketOwnerEnforced still accepts: only the owner, with full control. */
function ownerOnly(acl: Acl, bucketOwner: string): boolean {
  return acl.grants.every((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === bucketOwner && g.permission === 'FULL_CONTROL');
}

/**
 * Checks an ACL about to be set on `bucket` or one of its objects. Under BucketOwnerEnforced only the
 * bucket-owner-full-control canned ACL (or an equivalent owner-only ACL) is accepted.
 */
export async function checkNewAcl(acl: Acl, bucket: BucketInfo, identity: IdentityProvider, canned?: string): Promise<void> {
  if (aclsDisabled(bucket) && canned !== 'bucket-owner-full-control' && !ownerOnly(acl, bucket.account)) {
    throw new S3Error('AccessControlListNotSupported');
  }
  if (publicAccessBlock(bucket)?.blockPublicAcls && isPublicAcl(acl)) throw new S3Error('AccessDenied');
  await checkGrantees(acl, identity);
}

/**
 * The ACL the headers of a request writing into `bucket` ask for, checked (see {@link checkNewAcl}); undefined
 * when the request names none. `owner` is the account the new object will belong to.
 */
export async function checkRequestAcl(
  headers: Record<string, string | string[] | undefined>,
  bucket: BucketInfo,
  owner: string,
  identity: IdentityProvider,
): Promise<Acl | undefined> {
  const acl = aclFromHeaders(headers, owner, bucket.account);
  if (acl) await checkNewAcl(acl, bucket, identity, (headers['x-amz-acl'] as string | undefined)?.trim());
  return acl;
}

/**
 * The ACL a PutBucketAcl or PutObjectAcl request sets: an AccessControlPolicy body, or `x-amz-acl` /
 * `x-amz-grant-*` headers — one or the other (both: UnexpectedContent; neither: MalformedACLError).
 * Returns the canned ACL's name too, when one was used.
 */
export async function readAclRequest(req: S3Request, owner: string, bucketOwner: string): Promise<{ acl: Acl; canned?: string }> {
  const body = await readSmallBody(req, 64 * 1024);
  const fromHeaders = aclFromHeaders(req.headers, owner, bucketOwner);
  if (fromHeaders && body.length > 0) throw new S3Error('UnexpectedContent');
  if (fromHeaders) return { acl: fromHeaders, canned: (req.headers['x-amz-acl'] as string | undefined)?.trim() };
  if (body.length === 0) throw new S3Error('MalformedACLError', { message: 'The request must carry an AccessControlPolicy document or an x-amz-acl / x-amz-grant-* header' });
  return { acl: parseAclXml(body, owner) };
}

/** True when an ACL gives nothing beyond the owner's own full control (what BucketOwnerEnforced allows). */
export function isOwnerOnlyAcl(acl: Acl, bucketOwner: string): boolean {
  return ownerOnly(acl, bucketOwner);
}
