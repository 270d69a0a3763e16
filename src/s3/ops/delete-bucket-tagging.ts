/** DeleteBucketTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketTagging.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const deleteBucketTagging: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  await deps.store.updateBucketMeta(bucket, { tags: null });
  return emptyResponse(204);
};
