/** DeleteBucketLifecycle — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const deleteBucketLifecycle: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  await deps.store.updateBucketMeta(bucket, { lifecycle: null });
  return emptyResponse(204);
};
