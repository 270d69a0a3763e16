/** GetBucketNotificationConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { notificationXml } from '../notification-xml.js';

export const getBucketNotificationConfiguration: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  return xmlResponse(notificationXml(deps.compute?.notification(bucket) ?? []));
};
