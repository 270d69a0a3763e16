/** GetObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { type Tag, taggingXml } from '../tagging.js';

export const getObjectTagging: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const info = await deps.store.headObject(bucket, req.key!);
  if (!info) throw new S3Error('NoSuchKey', { extra: { Key: req.key! } });
  return xmlResponse(taggingXml((info.meta.tags as Tag[] | undefined) ?? []));
};
