/** DeleteBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';

export const deleteBucket: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  if ((await deps.store.deleteBucket(bucket)) === 'not-empty') {
    throw new S3Error('BucketNotEmpty', { extra: { BucketName: bucket.name } });
  }
  return emptyResponse(204);
};
