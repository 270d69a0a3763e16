/** PutBucketTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { readSmallBody, requireBodyDigest } from '../request-body.js';
import { parseTaggingXml } from '../tagging.js';

export const putBucketTagging: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  requireBodyDigest(req);
  const tags = parseTaggingXml(await readSmallBody(req, 64 * 1024), 'bucket');
  await deps.store.updateBucketMeta(bucket, { tags: tags.length ? tags : null });
  return emptyResponse(204);
};
