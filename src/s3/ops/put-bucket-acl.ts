/** PutBucketAcl — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html */
import { checkNewAcl, readAclRequest } from '../access/request-acl.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';

export const putBucketAcl: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const { acl, canned } = await readAclRequest(req, bucket.account, bucket.account);
  await checkNewAcl(acl, bucket, deps.identity, canned);
  await deps.store.updateBucketMeta(bucket, { acl });
  return emptyResponse(200);
};
