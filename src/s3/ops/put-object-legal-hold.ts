/** PutObjectLegalHold — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLegalHold.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { parseLegalHoldXml, requireBucketLock } from '../object-lock.js';
import { readSmallBody } from '../request-body.js';
import { missing, versionHeaders, versionIdParam } from '../versions.js';

export const putObjectLegalHold: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const on = parseLegalHoldXml(await readSmallBody(req, 64 * 1024));
  requireBucketLock(bucket);
  const versionId = versionIdParam(req.query);
  const info = await deps.store.updateObjectMeta(bucket, req.key!, { legalHold: on }, { versionId });
  if (!info) throw missing(req.key!, versionId);
  return emptyResponse(200, versionHeaders({ versionId: info.versionId }));
};
