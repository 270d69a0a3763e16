/** GetBucketPolicy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html */
import { type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';

export const getBucketPolicy: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const policy = bucket.meta.bucketPolicy;
  if (typeof policy !== 'string') throw new S3Error('NoSuchBucketPolicy', { extra: { BucketName: bucket.name } });
  // The document comes back as it was sent.
  return { status: 200, headers: { 'content-type': 'application/json' }, body: policy };
};
