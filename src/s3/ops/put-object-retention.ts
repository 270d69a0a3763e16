/** PutObjectRetention — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html */
import { isArcaError } from '../../common/errors.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { bypassGovernance, parseRetentionXml, requireBucketLock } from '../object-lock.js';
import { readSmallBody } from '../request-body.js';
import { missing, versionHeaders, versionIdParam } from '../versions.js';

export const putObjectRetention: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const retention = parseRetentionXml(await readSmallBody(req, 64 * 1024));
  requireBucketLock(bucket);
  const versionId = versionIdParam(req.query);
  if (retention && retention.retainUntil <= Date.now()) throw new S3Error('InvalidArgument', { message: 'The retain until date must be in the future!' });
  const bypass = await bypassGovernance(req, deps, bucket, req.key!);
  let info: Awaited<ReturnType<typeof deps.store.updateObjectMeta>>;
  try {
    // The storage nodes decide whether the change weakens a retention in force (COMPLIANCE never yields).
    info = await deps.store.updateObjectMeta(bucket, req.key!, { retention: retention ?? null }, { versionId, bypassGovernance: bypass });
  } catch (err) {
    if (isArcaError(err, 'Locked')) throw new S3Error('AccessDenied', { message: 'Access Denied because object protected by object lock.' });
    throw err;
  }
  if (!info) throw missing(req.key!, versionId);
  return emptyResponse(200, versionHeaders({ versionId: info.versionId }));
};
