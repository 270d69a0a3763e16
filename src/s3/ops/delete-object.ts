/** DeleteObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const deleteObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  // S3 answers 204 whether or not the key existed.
  await deps.store.deleteObject(bucket, req.key!);
  return emptyResponse(204);
};
