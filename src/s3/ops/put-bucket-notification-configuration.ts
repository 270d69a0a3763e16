/** PutBucketNotificationConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { parseNotificationXml } from '../notification-xml.js';
import { readSmallBody } from '../request-body.js';

export const putBucketNotificationConfiguration: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const rules = parseNotificationXml(await readSmallBody(req, 256 * 1024));
  if (!deps.compute) throw new S3Error('NotImplemented', { message: 'Event notifications are not enabled on this proxy' });
  const invalid = await deps.compute.putNotification(bucket, rules, req.requestId);
  if (invalid) throw new S3Error('InvalidArgument', { message: invalid, extra: { ArgumentName: 'NotificationConfiguration' } });
  return emptyResponse(200);
};
