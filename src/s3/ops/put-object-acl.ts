/** PutObjectAcl — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html */
import { objectOwner } from '../access/object-acl.js';
import { checkNewAcl, readAclRequest } from '../access/request-acl.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';

export const putObjectAcl: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const key = req.key!;
  const info = await deps.store.headObject(bucket, key, { newest: true });
  if (!info) throw new S3Error('NoSuchKey', { extra: { Key: key } });
  const { acl, canned } = await readAclRequest(req, objectOwner(info.meta, bucket), bucket.account);
  await checkNewAcl(acl, bucket, deps.identity, canned);
  // The stored ACL replaces the headers the object was written with.
  const updated = await deps.store.updateObjectMeta(bucket, key, { acl, aclHeaders: null });
  if (!updated) throw new S3Error('NoSuchKey', { extra: { Key: key } });
  return emptyResponse(200);
};
