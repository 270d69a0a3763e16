/**
 * The access settings kept in a bucket's metadata, read and written in one place:
 *
 *   meta.acl                 the bucket ACL (acl.ts); absent: private to the owner
 *   meta.bucketPolicy        the bucket policy, the JSON text as the client sent it (`meta.policy` is
 *                            the bucket's storage policy, set by the store)
 *   meta.publicAccessBlock   { blockPublicAcls, ignorePublicAcls, blockPublicPolicy, restrictPublicBuckets }
 *   meta.ownership           ObjectWriter | BucketOwnerPreferred | BucketOwnerEnforced; absent: ObjectWriter
 *   meta.cors                CORS rules (../cors.ts)
 *
 * and the XML documents of the public-access-block and ownership-controls operations.
 */
import type { BucketInfo } from '../../proxy/object-store.js';
import { S3Error } from '../errors.js';
import { parseXml, S3_XMLNS, type XmlElement } from '../xml.js';
import { type Acl, privateAcl, storedAcl } from './acl.js';
import { type BucketPolicy, storedPolicy } from './policy.js';

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export const objectOwnerships = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] as const;
export type ObjectOwnership = (typeof objectOwnerships)[number];

/** The bucket's ACL (private to its owner when none was set). */
export function bucketAcl(bucket: BucketInfo): Acl {
  return storedAcl(bucket.meta.acl) ?? privateAcl(bucket.account);
}

/** The bucket's policy, parsed; undefined when it has none. */
export function bucketPolicy(bucket: BucketInfo): BucketPolicy | undefined {
  return storedPolicy(bucket.meta.bucketPolicy, bucket.name);
}

/** The bucket's public access block; undefined when none is configured. */
export function publicAccessBlock(bucket: BucketInfo): PublicAccessBlock | undefined {
  const v = bucket.meta.publicAccessBlock as PublicAccessBlock | undefined;
  return v && typeof v === 'object' ? v : undefined;
}

/** The bucket's object ownership setting; undefined when none is configured (S3 then behaves as ObjectWriter). */
export function objectOwnership(bucket: BucketInfo): ObjectOwnership | undefined {
  const v = bucket.meta.ownership;
  return objectOwnerships.includes(v as ObjectOwnership) ? (v as ObjectOwnership) : undefined;
}

/** True when ACLs are disabled on the bucket (BucketOwnerEnforced). */
export function aclsDisabled(bucket: BucketInfo): boolean {
  return objectOwnership(bucket) === 'BucketOwnerEnforced';
}

function parseRoot(body: Buffer, name: string): XmlElement {
  const root = parseXml(body, { maxBytes: 16 * 1024 });
  if (root.name !== name) throw new S3Error('MalformedXML');
  return root;
}

const pabFields = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** Parses a PublicAccessBlockConfiguration document; absent fields are false. */
export function parsePublicAccessBlockXml(body: Buffer): PublicAccessBlock {
  const root = parseRoot(body, 'PublicAccessBlockConfiguration');
  const value = (name: (typeof pabFields)[number]): boolean => {
    const els = root.childrenNamed(name);
    if (els.length > 1) throw new S3Error('MalformedXML');
    if (els.length === 0) return false;
    const t = els[0].text.trim().toLowerCase();
    if (t !== 'true' && t !== 'false') throw new S3Error('MalformedXML');
    return t === 'true';
  };
  for (const c of root.children) if (!pabFields.includes(c.name as (typeof pabFields)[number])) throw new S3Error('MalformedXML');
  return {
    blockPublicAcls: value('BlockPublicAcls'),
    ignorePublicAcls: value('IgnorePublicAcls'),
    blockPublicPolicy: value('BlockPublicPolicy'),
    restrictPublicBuckets: value('RestrictPublicBuckets'),
  };
}

export function publicAccessBlockXml(p: PublicAccessBlock): string {
  return (
    `<PublicAccessBlockConfiguration xmlns="${S3_XMLNS}"><BlockPublicAcls>${p.blockPublicAcls}</BlockPublicAcls>` +
    `<IgnorePublicAcls>${p.ignorePublicAcls}</IgnorePublicAcls><BlockPublicPolicy>${p.blockPublicPolicy}</BlockPublicPolicy>` +
    `<RestrictPublicBuckets>${p.restrictPublicBuckets}</RestrictPublicBuckets></PublicAccessBlockConfiguration>`
  );
}

/** Checks an object ownership value (from XML or the `x-amz-object-ownership` header). */
export function checkObjectOwnership(v: string | undefined): ObjectOwnership {
  if (!objectOwnerships.includes(v as ObjectOwnership)) {
    throw new S3Error('InvalidArgument', { message: 'Invalid x-amz-object-ownership header', extra: { ArgumentName: 'x-amz-object-ownership', ArgumentValue: String(v) } });
  }
  return v as ObjectOwnership;
}

/** Parses an OwnershipControls document: exactly one Rule with one ObjectOwnership. */
export function parseOwnershipXml(body: Buffer): ObjectOwnership {
  const root = parseRoot(body, 'OwnershipControls');
  const rules = root.childrenNamed('Rule');
  if (rules.length !== 1 || root.children.length !== 1) throw new S3Error('MalformedXML');
  const values = rules[0].childrenNamed('ObjectOwnership');
  const v = values[0]?.text.trim();
  if (values.length !== 1 || !objectOwnerships.includes(v as ObjectOwnership)) throw new S3Error('MalformedXML');
  return v as ObjectOwnership;
}

export function ownershipXml(o: ObjectOwnership): string {
  return `<OwnershipControls xmlns="${S3_XMLNS}"><Rule><ObjectOwnership>${o}</ObjectOwnership></Rule></OwnershipControls>`;
}
