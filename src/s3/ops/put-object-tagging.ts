/** PutObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { missing, versionHeaders, versionIdParam } from '../versions.js';
import { readSmallBody, requireBodyDigest } from '../request-body.js';
import { parseTaggingXml } from '../tagging.js';

export const putObjectTagging: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  requireBodyDigest(req);
  const tags = parseTaggingXml(await readSmallBody(req, 64 * 1024), 'object');
  // The tags change without rewriting the object: its ETag and Last-Modified stay.
  const versionId = versionIdParam(req.query);
  const info = await deps.store.updateObjectMeta(bucket, req.key!, { tags: tags.length ? tags : null }, { versionId });
  if (!info) throw missing(req.key!, versionId);
  return emptyResponse(200, versionHeaders(info));
};
