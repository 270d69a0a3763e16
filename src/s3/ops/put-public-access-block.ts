/** PutPublicAccessBlock — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html */
import { parsePublicAccessBlockXml } from '../access/bucket-settings.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { readSmallBody } from '../request-body.js';

export const putPublicAccessBlock: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const pab = parsePublicAccessBlockXml(await readSmallBody(req, 16 * 1024));
  await deps.store.updateBucketMeta(bucket, { publicAccessBlock: pab });
  return emptyResponse(200);
};
