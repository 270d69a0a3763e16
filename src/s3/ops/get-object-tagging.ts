/** GetObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { missing, versionHeaders, versionIdParam } from '../versions.js';
import { type Tag, taggingXml } from '../tagging.js';

export const getObjectTagging: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const versionId = versionIdParam(req.query);
  const info = await deps.store.headObject(bucket, req.key!, { versionId });
  if (!info || info.deleteMarker) throw missing(req.key!, versionId);
  return xmlResponse(taggingXml((info.meta.tags as Tag[] | undefined) ?? []), 200, versionHeaders(info));
};
