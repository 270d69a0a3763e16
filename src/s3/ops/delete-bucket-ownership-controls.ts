/** DeleteBucketOwnershipControls — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketOwnershipControls.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const deleteBucketOwnershipControls: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  if (bucket.meta.ownership !== undefined) await deps.store.updateBucketMeta(bucket, { ownership: null });
  return emptyResponse(204);
};
