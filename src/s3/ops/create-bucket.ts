/** CreateBucket — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html */
import { aclFromHeaders, checkGrantees } from '../access/acl.js';
import { checkObjectOwnership } from '../access/bucket-settings.js';
import { isOwnerOnlyAcl } from '../access/request-acl.js';
import { isValidBucketName } from '../addressing.js';
import { emptyResponse, type Handler } from '../context.js';
import { S3Error } from '../errors.js';
import { readSmallBody } from '../request-body.js';
import { parseXml } from '../xml.js';

/** Header naming the storage policy of a new bucket (Arca's own; like Swift's X-Storage-Policy). */
export const storagePolicyHeader = 'x-arca-storage-policy';

export const createBucket: Handler = async (req, deps) => {
  const name = req.bucketName!;
  if (!isValidBucketName(name)) throw new S3Error('InvalidBucketName', { extra: { BucketName: name } });
  if (!req.principal) throw new S3Error('AccessDenied');
  const body = await readSmallBody(req, 64 * 1024);
  let location = deps.region;
  if (body.length > 0) {
    const root = parseXml(body);
    if (root.name !== 'CreateBucketConfiguration') throw new S3Error('MalformedXML');
    const asked = root.textOf('LocationConstraint');
    if (asked !== undefined && asked !== '' && asked !== deps.region) {
      throw new S3Error(deps.region === 'us-east-1' ? 'InvalidLocationConstraint' : 'IllegalLocationConstraintException', {
        message: `The ${asked} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      });
    }
    location = asked || deps.region;
  }
  // The bucket's ACL (x-amz-acl, x-amz-grant-*) and object ownership (x-amz-object-ownership), checked first.
  const owner = req.principal.account;
  const acl = aclFromHeaders(req.headers, owner, owner);
  const ownershipHeader = req.headers['x-amz-object-ownership'] as string | undefined;
  const ownership = ownershipHeader === undefined ? undefined : checkObjectOwnership(ownershipHeader);
  if (acl && ownership === 'BucketOwnerEnforced' && !isOwnerOnlyAcl(acl, owner)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
  if (acl) await checkGrantees(acl, deps.identity);
  const policy = req.headers[storagePolicyHeader] as string | undefined;
  let outcome: Awaited<ReturnType<typeof deps.store.createBucket>>;
  try {
    // Object lock is chosen at creation only, and turns versioning on for good (docs/versioning.md).
    const lock = String(req.headers['x-amz-bucket-object-lock-enabled'] ?? '').toLowerCase() === 'true' ? { objectLock: { enabled: true }, versioning: 'Enabled' } : {};
    outcome = await deps.store.createBucket(owner, name, { policy, meta: { location, ...(acl ? { acl } : {}), ...(ownership ? { ownership } : {}), ...lock } });
  } catch (err) {
    if ((err as { code?: string }).code === 'BadRequest') {
      throw new S3Error('InvalidArgument', { message: `Unknown storage policy: ${policy}`, extra: { ArgumentName: storagePolicyHeader, ArgumentValue: String(policy) } });
    }
    throw err;
  }
  if (outcome === 'taken') throw new S3Error('BucketAlreadyExists', { extra: { BucketName: name } });
  // us-east-1 answers 200 to its owner re-creating a bucket (tools such as rclone rely on it); other regions 409.
  if (outcome === 'already-owned' && deps.region !== 'us-east-1') {
    throw new S3Error('BucketAlreadyOwnedByYou', { extra: { BucketName: name } });
  }
  return emptyResponse(200, { location: `/${name}` });
};
