/** GetBucketLocation — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { escapeXml, S3_XMLNS } from '../xml.js';

export const getBucketLocation: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const location = String(bucket.meta.location ?? deps.region);
  // us-east-1 is the one region reported as an empty constraint.
  const value = location === 'us-east-1' ? '' : escapeXml(location);
  return xmlResponse(`<LocationConstraint xmlns="${S3_XMLNS}">${value}</LocationConstraint>`);
};
