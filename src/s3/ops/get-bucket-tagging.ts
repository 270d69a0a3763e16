/** GetBucketTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { type Tag, taggingXml } from '../tagging.js';

export const getBucketTagging: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const tags = bucket.meta.tags as Tag[] | undefined;
  if (!tags?.length) throw new S3Error('NoSuchTagSet', { extra: { BucketName: bucket.name } });
  return xmlResponse(taggingXml(tags));
};
