/** GetBucketVersioning — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3_XMLNS, xmlElement } from '../xml.js';

export const getBucketVersioning: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  // A bucket that never had versioning configured answers an empty configuration, as AWS does.
  const status = bucket.meta.versioning as string | undefined;
  return xmlResponse(`<VersioningConfiguration xmlns="${S3_XMLNS}">${xmlElement('Status', status)}</VersioningConfiguration>`);
};
