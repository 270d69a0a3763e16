/**
 * Bucket settings that govern access, through the AWS SDK and plain HTTP against an in-process cluster:
 * public access block (each of its four switches), object ownership (BucketOwnerEnforced disables ACLs),
 * and CORS (configuration, preflight allowed and refused, headers on actual responses).
 */
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/raw.js';
import { createUser, unsigned } from '../helpers/users.js';

let cluster: TestCluster;
let s3: S3Client;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  // A second account, so that grants to it can be tried.
  await createUser(cluster, 'carol');
});
test.after.always(async () => cluster?.close());

async function errorCode(t: ExecutionContext, p: Promise<unknown>): Promise<string> {
  const err = await t.throwsAsync(p);
  return (err as S3ServiceException).name;
}

const publicRead = (bucket: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });

test('public access block: Get/Put/Delete and BlockPublicAcls refusing a public ACL', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'pab-acls' }));
  t.is(await errorCode(t, s3.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-acls' }))), 'NoSuchPublicAccessBlockConfiguration');
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'pab-acls', PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
  t.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-acls' }))).PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    IgnorePublicAcls: false,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: false,
  });
  t.is(await errorCode(t, s3.send(new PutBucketAclCommand({ Bucket: 'pab-acls', ACL: 'public-read' }))), 'AccessDenied');
  t.is(await errorCode(t, s3.send(new PutObjectCommand({ Bucket: 'pab-acls', Key: 'k', Body: 'v', ACL: 'public-read' }))), 'AccessDenied');
  t.is(await errorCode(t, s3.send(new PutObjectCommand({ Bucket: 'pab-acls', Key: 'k', Body: 'v', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"' }))), 'AccessDenied');
  // Nothing changed: the bucket ACL is private and the object was not written.
  t.deepEqual((await s3.send(new GetBucketAclCommand({ Bucket: 'pab-acls' }))).Grants?.map((g) => g.Permission), ['FULL_CONTROL']);
  t.is(await errorCode(t, s3.send(new GetObjectCommand({ Bucket: 'pab-acls', Key: 'k' }))), 'NoSuchKey');
  // Non-public ACLs still work.
  await s3.send(new PutObjectCommand({ Bucket: 'pab-acls', Key: 'k', Body: 'v', GrantRead: 'id="carol"' }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'pab-acls' }));
  t.is(await errorCode(t, s3.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-acls' }))), 'NoSuchPublicAccessBlockConfiguration');
  await s3.send(new PutBucketAclCommand({ Bucket: 'pab-acls', ACL: 'public-read' }));
  t.is((await unsigned(cluster, 'GET', '/pab-acls')).status, 200);
});

test('public access block: IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'pab-others', ACL: 'public-read' }));
  await s3.send(new PutObjectCommand({ Bucket: 'pab-others', Key: 'k', Body: 'v', ACL: 'public-read' }));
  t.is((await unsigned(cluster, 'GET', '/pab-others/k')).status, 200);
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'pab-others', PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
  t.is((await unsigned(cluster, 'GET', '/pab-others/k')).status, 403);
  t.is((await unsigned(cluster, 'GET', '/pab-others')).status, 403);

  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'pab-others', PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
  t.is(await errorCode(t, s3.send(new PutBucketPolicyCommand({ Bucket: 'pab-others', Policy: publicRead('pab-others') }))), 'AccessDenied');

  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'pab-others', PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'pab-others', Policy: publicRead('pab-others') }));
  await s3.send(new PutObjectCommand({ Bucket: 'pab-others', Key: 'private', Body: 'p' }));
  t.is((await unsigned(cluster, 'GET', '/pab-others/private')).status, 403);
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'pab-others' }));
  t.is((await unsigned(cluster, 'GET', '/pab-others/private')).body, 'p');
});

test('BucketOwnerEnforced disables ACLs', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'enforced' }));
  t.is(await errorCode(t, s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'enforced' }))), 'OwnershipControlsNotFoundError');
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'enforced', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  t.is((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'enforced' }))).OwnershipControls?.Rules?.[0].ObjectOwnership, 'BucketOwnerEnforced');
  t.is(await errorCode(t, s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'k', Body: 'v', ACL: 'public-read' }))), 'AccessControlListNotSupported');
  t.is(await errorCode(t, s3.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'public-read' }))), 'AccessControlListNotSupported');
  t.is(await errorCode(t, s3.send(new GetObjectCommand({ Bucket: 'enforced', Key: 'k' }))), 'NoSuchKey');
  // bucket-owner-full-control is still accepted; reading ACLs still works and shows the owner.
  await s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'k', Body: 'v', ACL: 'bucket-owner-full-control' }));
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'enforced', Key: 'k' }));
  t.deepEqual(acl.Grants?.map((g) => `${g.Grantee?.ID}:${g.Permission}`), ['root:FULL_CONTROL']);
  t.deepEqual((await s3.send(new GetBucketAclCommand({ Bucket: 'enforced' }))).Grants?.map((g) => g.Permission), ['FULL_CONTROL']);
  await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'enforced' }));
  await s3.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'public', Body: 'v', ACL: 'public-read' }));
  t.is((await unsigned(cluster, 'GET', '/enforced/public')).status, 200);
});

test('BucketOwnerEnforced cannot be set over a bucket ACL that grants others', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'shared-acl', ACL: 'public-read' }));
  const put = s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'shared-acl', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  t.is(await errorCode(t, put), 'InvalidBucketAclWithObjectOwnership');
  t.is(await errorCode(t, s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'shared-acl' }))), 'OwnershipControlsNotFoundError');
  const create = s3.send(new CreateBucketCommand({ Bucket: 'never-made', ACL: 'public-read', ObjectOwnership: 'BucketOwnerEnforced' }));
  t.is(await errorCode(t, create), 'InvalidBucketAclWithObjectOwnership');
  await s3.send(new CreateBucketCommand({ Bucket: 'made-enforced', ObjectOwnership: 'BucketOwnerEnforced' }));
  t.is((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'made-enforced' }))).OwnershipControls?.Rules?.[0].ObjectOwnership, 'BucketOwnerEnforced');
  const r = await rawRequest(cluster, 'PUT', '/shared-acl?ownershipControls', {}, '<OwnershipControls><Rule><ObjectOwnership>Whoever</ObjectOwnership></Rule></OwnershipControls>');
  t.is(r.status, 400);
  t.regex(r.body, /<Code>MalformedXML<\/Code>/);
});

const corsXml = `<CORSConfiguration>
<CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>
<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule>
<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
</CORSConfiguration>`;

test('CORS: configuration round trip, preflight allowed and refused, headers on actual responses', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-site' }));
  await s3.send(new PutObjectCommand({ Bucket: 'cors-site', Key: 'app.js', Body: 'console.log(1)', ACL: 'public-read' }));
  t.is(await errorCode(t, s3.send(new GetBucketCorsCommand({ Bucket: 'cors-site' }))), 'NoSuchCORSConfiguration');
  let pre = await unsigned(cluster, 'OPTIONS', '/cors-site/app.js', { origin: 'https://app.example.com', 'access-control-request-method': 'GET' });
  t.is(pre.status, 403);
  t.regex(pre.body, /<Code>AccessForbidden<\/Code><Message>CORSResponse: CORS is not enabled for this bucket.<\/Message>/);

  await s3.send(
    new PutBucketCorsCommand({
      Bucket: 'cors-site',
      CORSConfiguration: {
        CORSRules: [
          { AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'x-amz-request-id'], MaxAgeSeconds: 300 },
          { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
        ],
      },
    }),
  );
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-site' }));
  t.deepEqual(got.CORSRules?.[0], {
    AllowedHeaders: ['*'],
    AllowedMethods: ['GET', 'PUT'],
    AllowedOrigins: ['https://app.example.com'],
    ExposeHeaders: ['ETag', 'x-amz-request-id'],
    MaxAgeSeconds: 300,
  });

  pre = await unsigned(cluster, 'OPTIONS', '/cors-site/app.js', {
    origin: 'https://app.example.com',
    'access-control-request-method': 'PUT',
    'access-control-request-headers': 'Content-Type, X-Amz-Date',
  });
  t.is(pre.status, 200);
  t.is(pre.headers['access-control-allow-origin'], 'https://app.example.com');
  t.is(pre.headers['access-control-allow-methods'], 'GET, PUT');
  t.is(pre.headers['access-control-allow-headers'], 'content-type, x-amz-date');
  t.is(pre.headers['access-control-max-age'], '300');
  t.is(pre.headers['access-control-allow-credentials'], 'true');
  t.regex(String(pre.headers.vary), /Origin/);

  // Refused: another origin, a method no rule allows for it.
  pre = await unsigned(cluster, 'OPTIONS', '/cors-site/app.js', { origin: 'https://evil.example.net', 'access-control-request-method': 'PUT' });
  t.is(pre.status, 403);
  t.regex(pre.body, /<Code>AccessForbidden<\/Code>/);
  t.is(pre.headers['access-control-allow-origin'], undefined);
  pre = await unsigned(cluster, 'OPTIONS', '/cors-site/app.js', { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' });
  t.is(pre.status, 403);
  // Any origin may HEAD (rule 2), answered with *.
  pre = await unsigned(cluster, 'OPTIONS', '/cors-site/app.js', { origin: 'https://evil.example.net', 'access-control-request-method': 'HEAD' });
  t.is(pre.status, 200);
  t.is(pre.headers['access-control-allow-origin'], '*');
  t.is((await unsigned(cluster, 'OPTIONS', '/cors-site/app.js', { 'access-control-request-method': 'GET' })).status, 400);

  // Actual requests: headers when a rule matches, also on errors; none otherwise.
  let get = await unsigned(cluster, 'GET', '/cors-site/app.js', { origin: 'https://app.example.com' });
  t.is(get.status, 200);
  t.is(get.headers['access-control-allow-origin'], 'https://app.example.com');
  t.is(get.headers['access-control-expose-headers'], 'ETag, x-amz-request-id');
  t.regex(String(get.headers.vary), /Origin/);
  get = await unsigned(cluster, 'GET', '/cors-site/missing', { origin: 'https://app.example.com' });
  t.is(get.status, 403);
  t.is(get.headers['access-control-allow-origin'], 'https://app.example.com');
  get = await unsigned(cluster, 'GET', '/cors-site/app.js', { origin: 'https://evil.example.net' });
  t.is(get.status, 200);
  t.is(get.headers['access-control-allow-origin'], undefined);
  get = await unsigned(cluster, 'GET', '/cors-site/app.js');
  t.is(get.headers['access-control-allow-origin'], undefined);

  await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors-site' }));
  t.is(await errorCode(t, s3.send(new GetBucketCorsCommand({ Bucket: 'cors-site' }))), 'NoSuchCORSConfiguration');
  get = await unsigned(cluster, 'GET', '/cors-site/app.js', { origin: 'https://app.example.com' });
  t.is(get.headers['access-control-allow-origin'], undefined);
});

test('CORS: invalid configurations change nothing', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-bad' }));
  let r = await rawRequest(cluster, 'PUT', '/cors-bad?cors', {}, '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>');
  t.is(r.status, 400);
  t.regex(r.body, /<Code>InvalidRequest<\/Code><Message>Found unsupported HTTP method in CORS config. Unsupported method is PATCH<\/Message>/);
  r = await rawRequest(cluster, 'PUT', '/cors-bad?cors', {}, '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>');
  t.is(r.status, 400);
  t.regex(r.body, /<Code>MalformedXML<\/Code>/);
  t.is(await errorCode(t, s3.send(new GetBucketCorsCommand({ Bucket: 'cors-bad' }))), 'NoSuchCORSConfiguration');
  // The same document as XML by hand is accepted.
  t.is((await rawRequest(cluster, 'PUT', '/cors-bad?cors', {}, corsXml)).status, 200);
  t.is((await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-bad' }))).CORSRules?.length, 2);
});
