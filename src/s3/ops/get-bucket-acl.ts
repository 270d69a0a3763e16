/** GetBucketAcl — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html */
import { aclXml } from '../access/acl.js';
import { bucketAcl } from '../access/bucket-settings.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';

export const getBucketAcl: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  return xmlResponse(aclXml(bucketAcl(bucket)));
};
