/** GetObjectAcl — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html */
import { aclXml } from '../access/acl.js';
import { objectAcl } from '../access/object-acl.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';

export const getObjectAcl: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const info = await deps.store.headObject(bucket, req.key!);
  if (!info) throw new S3Error('NoSuchKey', { extra: { Key: req.key! } });
  return xmlResponse(aclXml(objectAcl(info.meta, bucket)));
};
