/** PutBucketVersioning — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { bucketLock } from '../object-lock.js';
import { readSmallBody } from '../request-body.js';
import { parseXml } from '../xml.js';

export const putBucketVersioning: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const root = parseXml(await readSmallBody(req, 64 * 1024));
  if (root.name !== 'VersioningConfiguration' || root.children.some((c) => c.name !== 'Status' && c.name !== 'MfaDelete')) throw new S3Error('MalformedXML');
  const status = root.textOf('Status')?.trim();
  if (status === undefined && root.child('MfaDelete') === undefined) throw new S3Error('MalformedXML');
  if (root.textOf('MfaDelete')?.trim() === 'Enabled') {
    throw new S3Error('InvalidArgument', { message: 'MFA delete is not supported', extra: { ArgumentName: 'MfaDelete' } });
  }
  if (status === undefined) return emptyResponse(200);
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  if (status === 'Suspended' && bucketLock(bucket)) {
    throw new S3Error('InvalidBucketState', { message: 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.' });
  }
  // Like AWS, a bucket never goes back to "never versioned": Suspended keeps existing versions.
  await deps.store.updateBucketMeta(bucket, { versioning: status });
  return emptyResponse(200);
};
