/** HeadBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const headBucket: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  return emptyResponse(200, { 'x-amz-bucket-region': String(bucket.meta.location ?? deps.region) });
};
