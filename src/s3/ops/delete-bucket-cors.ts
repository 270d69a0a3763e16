/** DeleteBucketCors — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const deleteBucketCors: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  if (bucket.meta.cors !== undefined) await deps.store.updateBucketMeta(bucket, { cors: null });
  return emptyResponse(204);
};
