/** GetObjectLegalHold — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { requireBucketLock } from '../object-lock.js';
import { missing, versionIdParam } from '../versions.js';
import { S3_XMLNS } from '../xml.js';

export const getObjectLegalHold: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  requireBucketLock(bucket);
  const versionId = versionIdParam(req.query);
  const info = await deps.store.headObject(bucket, req.key!, { versionId });
  if (!info || info.deleteMarker) throw missing(req.key!, versionId);
  if (info.meta.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
  return xmlResponse(`<LegalHold xmlns="${S3_XMLNS}"><Status>${info.meta.legalHold === true ? 'ON' : 'OFF'}</Status></LegalHold>`);
};
