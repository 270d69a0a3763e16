/** GetBucketOwnershipControls — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketOwnershipControls.html */
import { objectOwnership, ownershipXml } from '../access/bucket-settings.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';

export const getBucketOwnershipControls: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const ownership = objectOwnership(bucket);
  if (!ownership) throw new S3Error('OwnershipControlsNotFoundError', { extra: { BucketName: bucket.name } });
  return xmlResponse(ownershipXml(ownership));
};
