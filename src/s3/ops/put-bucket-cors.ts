/** PutBucketCors — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { parseCorsXml } from '../cors.js';
import { readSmallBody } from '../request-body.js';

export const putBucketCors: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const rules = parseCorsXml(await readSmallBody(req, 64 * 1024));
  await deps.store.updateBucketMeta(bucket, { cors: rules });
  return emptyResponse(200);
};
