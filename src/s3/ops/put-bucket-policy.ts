/** PutBucketPolicy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html */
import { publicAccessBlock } from '../access/bucket-settings.js';
import { checkPrincipals, isPublicPolicy, parsePolicy } from '../access/policy.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { readSmallBody } from '../request-body.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const putBucketPolicy: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const body = await readSmallBody(req, 64 * 1024);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new S3Error('MalformedPolicy');
  }
  const policy = parsePolicy(text, bucket.name);
  await checkPrincipals(policy, deps.identity);
  if (publicAccessBlock(bucket)?.blockPublicPolicy && isPublicPolicy(policy)) throw new S3Error('AccessDenied');
  await deps.store.updateBucketMeta(bucket, { bucketPolicy: text });
  return emptyResponse(204);
};
