/** DeleteBucketPolicy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const deleteBucketPolicy: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  if (bucket.meta.bucketPolicy !== undefined) await deps.store.updateBucketMeta(bucket, { bucketPolicy: null });
  return emptyResponse(204);
};
