/** DeleteObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html */
import { isArcaError } from '../../common/errors.js';
import { authorizeObject, emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { bypassGovernance } from '../object-lock.js';
import { versionHeaders, versionIdParam } from '../versions.js';

export const deleteObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const versionId = versionIdParam(req.query);
  // A specific version needs s3:DeleteObjectVersion too (as on AWS).
  if (versionId !== undefined) await authorizeObject(req, deps, bucket, 's3:DeleteObjectVersion', req.key!);
  const bypass = versionId !== undefined && (await bypassGovernance(req, deps, bucket, req.key!));
  try {
    // S3 answers 204 whether or not the key (or version) existed.
    const out = await deps.store.deleteObject(bucket, req.key!, { versionId, bypassGovernance: bypass });
    return emptyResponse(204, versionHeaders(out));
  } catch (err) {
    // A version under a retention or legal hold: nobody may delete it (the root user included).
    if (isArcaError(err, 'Locked')) throw new S3Error('AccessDenied', { message: 'Access Denied because object protected by object lock.' });
    throw err;
  }
};
