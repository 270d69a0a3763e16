/** GetBucketLifecycleConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { type LifecycleRule, lifecycleXml } from '../lifecycle.js';

export const getBucketLifecycleConfiguration: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const rules = bucket.meta.lifecycle as LifecycleRule[] | undefined;
  if (!Array.isArray(rules) || rules.length === 0) throw new S3Error('NoSuchLifecycleConfiguration', { extra: { BucketName: bucket.name } });
  return xmlResponse(lifecycleXml(rules));
};
