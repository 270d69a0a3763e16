/** GetPublicAccessBlock — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetPublicAccessBlock.html */
import { publicAccessBlock, publicAccessBlockXml } from '../access/bucket-settings.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';

export const getPublicAccessBlock: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const pab = publicAccessBlock(bucket);
  if (!pab) throw new S3Error('NoSuchPublicAccessBlockConfiguration', { extra: { BucketName: bucket.name } });
  return xmlResponse(publicAccessBlockXml(pab));
};
