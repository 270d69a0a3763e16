/** PutBucketOwnershipControls — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html */
import { bucketAcl, parseOwnershipXml } from '../access/bucket-settings.js';
import { isOwnerOnlyAcl } from '../access/request-acl.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { readSmallBody } from '../request-body.js';

export const putBucketOwnershipControls: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const ownership = parseOwnershipXml(await readSmallBody(req, 16 * 1024));
  // ACLs can be disabled only once the bucket ACL grants nothing beyond its owner.
  if (ownership === 'BucketOwnerEnforced' && !isOwnerOnlyAcl(bucketAcl(bucket), bucket.account)) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  await deps.store.updateBucketMeta(bucket, { ownership });
  return emptyResponse(200);
};
