/** GetObjectLockConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { bucketLock, lockConfigurationXml } from '../object-lock.js';

export const getObjectLockConfiguration: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const lock = bucketLock(bucket);
  if (!lock) throw new S3Error('ObjectLockConfigurationNotFoundError', { extra: { BucketName: bucket.name } });
  return xmlResponse(lockConfigurationXml(lock));
};
