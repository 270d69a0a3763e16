/** GetObjectRetention — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html */
import { retentionOf } from '../../common/object-lock.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { requireBucketLock, retentionXml } from '../object-lock.js';
import { missing, versionIdParam } from '../versions.js';

export const getObjectRetention: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  requireBucketLock(bucket);
  const versionId = versionIdParam(req.query);
  const info = await deps.store.headObject(bucket, req.key!, { versionId });
  if (!info || info.deleteMarker) throw missing(req.key!, versionId);
  const r = retentionOf(info.meta);
  if (!r) throw new S3Error('NoSuchObjectLockConfiguration');
  return xmlResponse(retentionXml(r));
};
