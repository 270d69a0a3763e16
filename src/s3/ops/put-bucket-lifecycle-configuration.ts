/** PutBucketLifecycleConfiguration — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { parseLifecycleXml } from '../lifecycle.js';
import { readSmallBody, requireBodyDigest } from '../request-body.js';

export const putBucketLifecycleConfiguration: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  requireBodyDigest(req);
  // Transitions name a storage class: STANDARD (the bucket's own policy) or one of the cluster's policies.
  const rules = parseLifecycleXml(await readSmallBody(req, 1024 * 1024), ['STANDARD', ...deps.store.storagePolicies()]);
  await deps.store.updateBucketMeta(bucket, { lifecycle: rules });
  return emptyResponse(200);
};
