/** DeletePublicAccessBlock — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeletePublicAccessBlock.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const deletePublicAccessBlock: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  if (bucket.meta.publicAccessBlock !== undefined) await deps.store.updateBucketMeta(bucket, { publicAccessBlock: null });
  return emptyResponse(204);
};
