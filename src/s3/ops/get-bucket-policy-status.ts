/** GetBucketPolicyStatus — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html */
import { bucketPolicy } from '../access/bucket-settings.js';
import { isPublicPolicy } from '../access/policy.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { S3_XMLNS } from '../xml.js';

export const getBucketPolicyStatus: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const policy = bucketPolicy(bucket);
  if (!policy) throw new S3Error('NoSuchBucketPolicy', { extra: { BucketName: bucket.name } });
  return xmlResponse(`<PolicyStatus xmlns="${S3_XMLNS}"><IsPublic>${isPublicPolicy(policy)}</IsPublic></PolicyStatus>`);
};
