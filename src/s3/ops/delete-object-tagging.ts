/** DeleteObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjectTagging.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';

export const deleteObjectTagging: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const info = await deps.store.updateObjectMeta(bucket, req.key!, { tags: null });
  if (!info) throw new S3Error('NoSuchKey', { extra: { Key: req.key! } });
  return emptyResponse(204);
};
