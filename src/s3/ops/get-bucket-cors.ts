/** GetBucketCors — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { corsRules, corsXml } from '../cors.js';
import { S3Error } from '../errors.js';

export const getBucketCors: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const rules = corsRules(bucket);
  if (!rules) throw new S3Error('NoSuchCORSConfiguration', { extra: { BucketName: bucket.name } });
  return xmlResponse(corsXml(rules));
};
