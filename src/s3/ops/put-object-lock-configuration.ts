/** PutObjectLockConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { bucketLock, parseLockConfigurationXml } from '../object-lock.js';
import { readSmallBody } from '../request-body.js';

export const putObjectLockConfiguration: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const lock = parseLockConfigurationXml(await readSmallBody(req, 64 * 1024));
  // Object lock is chosen at CreateBucket (x-amz-bucket-object-lock-enabled); here only the default retention changes.
  if (!bucketLock(bucket)) throw new S3Error('InvalidBucketState', { message: 'Object Lock configuration cannot be enabled on existing buckets' });
  await deps.store.updateBucketMeta(bucket, { objectLock: lock });
  return emptyResponse(200);
};
