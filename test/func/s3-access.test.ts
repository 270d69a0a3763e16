/**
 * Who may do what, through the AWS SDK and plain unsigned HTTP against an in-process cluster: users of
 * different accounts kept apart, canned and explicit ACLs, bucket policies (grants to another account, an
 * explicit Deny beating an ACL grant), anonymous access where granted, and the bad inputs of each, which must
 * answer the exact S3 error and change nothing.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/raw.js';
import { createUser, type TestUser, unsigned } from '../helpers/users.js';

let cluster: TestCluster;
let root: S3Client;
let alice: TestUser;
let bob: TestUser;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  root = cluster.s3();
  alice = await createUser(cluster, 'alice');
  bob = await createUser(cluster, 'bob');
});
test.after.always(async () => cluster?.close());

async function errorCode(t: ExecutionContext, p: Promise<unknown>): Promise<string> {
  const err = await t.throwsAsync(p);
  return (err as S3ServiceException).name;
}

async function text(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString();
}

const policyDoc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

test('two users cannot see or touch each other\'s buckets', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-private' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'diary', Body: 'dear diary' }));
  await bob.s3.send(new CreateBucketCommand({ Bucket: 'bob-private' }));

  // Other tests run at the same time: alice's buckets all start with alice-, bob has only this one.
  const aliceList = await alice.s3.send(new ListBucketsCommand({}));
  const aliceNames = aliceList.Buckets?.map((b) => b.Name!) ?? [];
  t.true(aliceNames.includes('alice-private'));
  t.true(aliceNames.every((n) => n.startsWith('alice-')), aliceNames.join());
  t.is(aliceList.Owner?.ID, 'alice');
  const bobList = await bob.s3.send(new ListBucketsCommand({}));
  t.deepEqual(bobList.Buckets?.map((b) => b.Name), ['bob-private']);
  const rootNames = (await root.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name!) ?? [];
  t.false(rootNames.includes('alice-private'));

  t.is(await errorCode(t, bob.s3.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'diary' }))), 'AccessDenied');
  t.is(await errorCode(t, bob.s3.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'graffiti', Body: 'x' }))), 'AccessDenied');
  t.is(await errorCode(t, bob.s3.send(new DeleteObjectCommand({ Bucket: 'alice-private', Key: 'diary' }))), 'AccessDenied');
  t.is(await errorCode(t, bob.s3.send(new ListObjectsV2Command({ Bucket: 'alice-private' }))), 'AccessDenied');
  t.is(await errorCode(t, bob.s3.send(new DeleteBucketCommand({ Bucket: 'alice-private' }))), 'AccessDenied');
  const head = await t.throwsAsync(bob.s3.send(new HeadBucketCommand({ Bucket: 'alice-private' })));
  t.is((head as S3ServiceException).$metadata.httpStatusCode, 403);
  t.is(await errorCode(t, bob.s3.send(new GetBucketAclCommand({ Bucket: 'alice-private' }))), 'AccessDenied');
  // Bucket names are one namespace: bob cannot take alice's.
  t.is(await errorCode(t, bob.s3.send(new CreateBucketCommand({ Bucket: 'alice-private' }))), 'BucketAlreadyExists');

  // Nothing changed; root sees everything.
  t.is(await text(alice.s3, 'alice-private', 'diary'), 'dear diary');
  t.is(await text(root, 'alice-private', 'diary'), 'dear diary');
  const keys = (await alice.s3.send(new ListObjectsV2Command({ Bucket: 'alice-private' }))).Contents?.map((c) => c.Key);
  t.deepEqual(keys, ['diary']);
});

test('users of one account share its buckets', async (t) => {
  const ops = await createUser(cluster, 'alice-ops', 'alice');
  t.is(ops.account, 'alice');
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-shared' }));
  await ops.s3.send(new PutObjectCommand({ Bucket: 'alice-shared', Key: 'from-ops', Body: 'hi' }));
  t.is(await text(alice.s3, 'alice-shared', 'from-ops'), 'hi');
  t.true((await ops.s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'alice-shared'));
});

test('x-amz-expected-bucket-owner refuses a bucket someone else owns', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-expected' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-expected', Key: 'k', Body: 'v', ExpectedBucketOwner: 'alice' }));
  t.is(await errorCode(t, alice.s3.send(new PutObjectCommand({ Bucket: 'alice-expected', Key: 'k2', Body: 'v', ExpectedBucketOwner: 'bob' }))), 'AccessDenied');
  t.is(await errorCode(t, root.send(new GetObjectCommand({ Bucket: 'alice-expected', Key: 'k', ExpectedBucketOwner: 'root' }))), 'AccessDenied');
  t.is(await text(root, 'alice-expected', 'k'), 'v');
});

test('the identity bucket is invisible to S3, even to root', async (t) => {
  const r = await rawRequest(cluster, 'GET', '/.identity');
  t.is(r.status, 404);
  t.regex(r.body, /<Code>NoSuchBucket<\/Code>/);
  t.is((await rawRequest(cluster, 'GET', '/.identity/users/alice')).status, 404);
});

test('canned public-read on an object: a plain unsigned GET works, the bucket stays private', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-web' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-web', Key: 'index.html', Body: '<h1>hi</h1>', ACL: 'public-read', ContentType: 'text/html' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-web', Key: 'draft.html', Body: 'draft' }));
  const get = await unsigned(cluster, 'GET', '/alice-web/index.html');
  t.is(get.status, 200);
  t.is(get.body, '<h1>hi</h1>');
  t.is((await unsigned(cluster, 'HEAD', '/alice-web/index.html')).status, 200);
  const draft = await unsigned(cluster, 'GET', '/alice-web/draft.html');
  t.is(draft.status, 403);
  t.regex(draft.body, /<Code>AccessDenied<\/Code>/);
  t.is((await unsigned(cluster, 'GET', '/alice-web')).status, 403);
  t.is((await unsigned(cluster, 'PUT', '/alice-web/new', {}, 'x')).status, 403);
  // A missing key is AccessDenied to those who may not list, as in S3.
  t.is((await unsigned(cluster, 'GET', '/alice-web/missing')).status, 403);
  t.is(await text(bob.s3, 'alice-web', 'index.html'), '<h1>hi</h1>');
  const acl = await alice.s3.send(new GetObjectAclCommand({ Bucket: 'alice-web', Key: 'index.html' }));
  t.is(acl.Owner?.ID, 'alice');
  t.deepEqual(
    acl.Grants?.map((g) => [g.Grantee?.Type, g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]),
    [
      ['CanonicalUser', 'alice', 'FULL_CONTROL'],
      ['Group', 'http://acs.amazonaws.com/groups/global/AllUsers', 'READ'],
    ],
  );
});

test('canned public-read-write on a bucket: anonymous list, put and delete', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-dropbox', ACL: 'public-read-write' }));
  t.is((await unsigned(cluster, 'PUT', '/alice-dropbox/dropped', { 'content-length': '4' }, 'drop')).status, 200);
  const list = await unsigned(cluster, 'GET', '/alice-dropbox?list-type=2');
  t.is(list.status, 200);
  t.regex(list.body, /<Key>dropped<\/Key>/);
  // Object reads need the object's ACL: the anonymous writer gave none.
  t.is((await unsigned(cluster, 'GET', '/alice-dropbox/dropped')).status, 403);
  t.is(await text(alice.s3, 'alice-dropbox', 'dropped'), 'drop');
  t.is((await unsigned(cluster, 'DELETE', '/alice-dropbox/dropped')).status, 204);
  // Only the owner changes the ACL.
  t.is((await unsigned(cluster, 'PUT', '/alice-dropbox?acl', { 'x-amz-acl': 'private' })).status, 403);
  const acl = await alice.s3.send(new GetBucketAclCommand({ Bucket: 'alice-dropbox' }));
  t.deepEqual(acl.Grants?.map((g) => g.Permission), ['FULL_CONTROL', 'READ', 'WRITE']);
});

test('canned authenticated-read: any signed user reads, anonymous does not', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-members' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-members', Key: 'memo', Body: 'members only', ACL: 'authenticated-read' }));
  t.is(await text(bob.s3, 'alice-members', 'memo'), 'members only');
  t.is((await unsigned(cluster, 'GET', '/alice-members/memo')).status, 403);
  await alice.s3.send(new PutBucketAclCommand({ Bucket: 'alice-members', ACL: 'authenticated-read' }));
  t.deepEqual((await bob.s3.send(new ListObjectsV2Command({ Bucket: 'alice-members' }))).Contents?.map((c) => c.Key), ['memo']);
  t.is((await unsigned(cluster, 'GET', '/alice-members')).status, 403);
});

test('PutBucketAcl with an AccessControlPolicy granting another account', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-acl-xml' }));
  await alice.s3.send(
    new PutBucketAclCommand({
      Bucket: 'alice-acl-xml',
      AccessControlPolicy: {
        Owner: { ID: 'alice' },
        Grants: [
          { Grantee: { Type: 'CanonicalUser', ID: 'alice' }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'CanonicalUser', ID: 'bob' }, Permission: 'WRITE' },
          { Grantee: { Type: 'CanonicalUser', ID: 'bob' }, Permission: 'READ' },
        ],
      },
    }),
  );
  await bob.s3.send(new PutObjectCommand({ Bucket: 'alice-acl-xml', Key: 'from-bob', Body: 'hello alice' }));
  t.deepEqual((await bob.s3.send(new ListObjectsV2Command({ Bucket: 'alice-acl-xml' }))).Contents?.map((c) => c.Key), ['from-bob']);
  t.is(await text(alice.s3, 'alice-acl-xml', 'from-bob'), 'hello alice');
  // Bob wrote it, so bob owns it (ObjectWriter): he reads it back and sees himself as its owner.
  t.is(await text(bob.s3, 'alice-acl-xml', 'from-bob'), 'hello alice');
  t.is((await bob.s3.send(new GetObjectAclCommand({ Bucket: 'alice-acl-xml', Key: 'from-bob' }))).Owner?.ID, 'bob');
  t.is(await errorCode(t, bob.s3.send(new PutBucketAclCommand({ Bucket: 'alice-acl-xml', ACL: 'public-read' }))), 'AccessDenied');
  const acl = await alice.s3.send(new GetBucketAclCommand({ Bucket: 'alice-acl-xml' }));
  t.deepEqual(acl.Grants?.map((g) => `${g.Grantee?.ID}:${g.Permission}`), ['alice:FULL_CONTROL', 'bob:WRITE', 'bob:READ']);
});

test('PutObjectAcl replaces the ACL an object was written with', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-objacl' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-objacl', Key: 'k', Body: 'v', ACL: 'public-read' }));
  t.is((await unsigned(cluster, 'GET', '/alice-objacl/k')).status, 200);
  await alice.s3.send(new PutObjectAclCommand({ Bucket: 'alice-objacl', Key: 'k', ACL: 'private' }));
  t.is((await unsigned(cluster, 'GET', '/alice-objacl/k')).status, 403);
  await alice.s3.send(new PutObjectAclCommand({ Bucket: 'alice-objacl', Key: 'k', GrantRead: 'id="bob"' }));
  t.is(await text(bob.s3, 'alice-objacl', 'k'), 'v');
  t.is(await errorCode(t, alice.s3.send(new PutObjectAclCommand({ Bucket: 'alice-objacl', Key: 'missing', ACL: 'private' }))), 'NoSuchKey');
});

test('a bucket policy grants another account read access', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-reports' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-reports', Key: 'q1.csv', Body: 'a,b' }));
  const policy = policyDoc(
    { Sid: 'BobReads', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::bob:root'] }, Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::alice-reports/*' },
    { Sid: 'BobLists', Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::alice-reports' },
  );
  await alice.s3.send(new PutBucketPolicyCommand({ Bucket: 'alice-reports', Policy: policy }));
  t.is((await alice.s3.send(new GetBucketPolicyCommand({ Bucket: 'alice-reports' }))).Policy, policy);
  t.false((await alice.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'alice-reports' }))).PolicyStatus?.IsPublic);
  t.is(await text(bob.s3, 'alice-reports', 'q1.csv'), 'a,b');
  t.deepEqual((await bob.s3.send(new ListObjectsV2Command({ Bucket: 'alice-reports' }))).Contents?.map((c) => c.Key), ['q1.csv']);
  t.is(await errorCode(t, bob.s3.send(new PutObjectCommand({ Bucket: 'alice-reports', Key: 'q2.csv', Body: 'x' }))), 'AccessDenied');
  t.is(await errorCode(t, bob.s3.send(new GetBucketPolicyCommand({ Bucket: 'alice-reports' }))), 'AccessDenied');
  // Bob can tell a missing key now that he may list.
  t.is(await errorCode(t, bob.s3.send(new GetObjectCommand({ Bucket: 'alice-reports', Key: 'nope' }))), 'NoSuchKey');
  t.is((await unsigned(cluster, 'GET', '/alice-reports/q1.csv')).status, 403);
  await alice.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'alice-reports' }));
  t.is(await errorCode(t, bob.s3.send(new GetObjectCommand({ Bucket: 'alice-reports', Key: 'q1.csv' }))), 'AccessDenied');
  t.is(await errorCode(t, alice.s3.send(new GetBucketPolicyCommand({ Bucket: 'alice-reports' }))), 'NoSuchBucketPolicy');
});

test('an explicit Deny in the policy beats an ACL grant; the owner can still change the policy', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-deny', ACL: 'public-read' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-deny', Key: 'open', Body: 'o', ACL: 'public-read' }));
  t.is((await unsigned(cluster, 'GET', '/alice-deny')).status, 200);
  t.is(await text(bob.s3, 'alice-deny', 'open'), 'o');
  await alice.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'alice-deny',
      Policy: policyDoc(
        { Effect: 'Deny', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-deny/*' },
        { Effect: 'Deny', Principal: '*', Action: ['s3:ListBucket', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'], Resource: 'arn:aws:s3:::alice-deny' },
      ),
    }),
  );
  t.is(await errorCode(t, bob.s3.send(new GetObjectCommand({ Bucket: 'alice-deny', Key: 'open' }))), 'AccessDenied');
  t.is((await unsigned(cluster, 'GET', '/alice-deny/open')).status, 200);
  t.is((await unsigned(cluster, 'GET', '/alice-deny')).status, 403);
  t.is(await errorCode(t, alice.s3.send(new ListObjectsV2Command({ Bucket: 'alice-deny' }))), 'AccessDenied');
  await alice.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'alice-deny' }));
  t.is((await unsigned(cluster, 'GET', '/alice-deny')).status, 200);
  t.is(await text(bob.s3, 'alice-deny', 'open'), 'o');
});

test('a public policy reads anonymously; GetBucketPolicyStatus says so', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-public-policy' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-public-policy', Key: 'pub/a', Body: 'A' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-public-policy', Key: 'priv/b', Body: 'B' }));
  await alice.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'alice-public-policy',
      Policy: policyDoc({ Effect: 'Allow', Principal: '*', Action: 's3:Get*', Resource: 'arn:aws:s3:::alice-public-policy/pub/*' }),
    }),
  );
  t.true((await alice.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'alice-public-policy' }))).PolicyStatus?.IsPublic);
  t.is((await unsigned(cluster, 'GET', '/alice-public-policy/pub/a')).body, 'A');
  t.is((await unsigned(cluster, 'GET', '/alice-public-policy/priv/b')).status, 403);
});

test('bad inputs answer the exact S3 error and change nothing', async (t) => {
  await alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-bad' }));
  await alice.s3.send(new PutObjectCommand({ Bucket: 'alice-bad', Key: 'k', Body: 'v' }));
  const sign = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const c = { ...cluster, accessKey: alice.accessKeyId, secretKey: alice.secretAccessKey };
    return rawRequest(c, method, path, headers, body);
  };
  // Malformed ACL XML.
  let r = await sign('PUT', '/alice-bad?acl', {}, '<AccessControlPolicy><AccessControlList><Grant>');
  t.is(r.status, 400);
  t.regex(r.body, /<Code>MalformedACLError<\/Code>/);
  r = await sign('PUT', '/alice-bad?acl', {}, '<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>bob</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>');
  t.regex(r.body, /<Code>MalformedACLError<\/Code>/);
  // An unknown grantee, in XML and in a header.
  r = await sign(
    'PUT',
    '/alice-bad?acl',
    {},
    '<AccessControlPolicy><Owner><ID>alice</ID></Owner><AccessControlList><Grant><Grantee><ID>nobody-at-all</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>',
  );
  t.is(r.status, 400);
  t.regex(r.body, /<Code>InvalidArgument<\/Code><Message>Invalid id<\/Message>/);
  t.is(await errorCode(t, alice.s3.send(new PutObjectCommand({ Bucket: 'alice-bad', Key: 'new', Body: 'x', GrantRead: 'id="nobody-at-all"' }))), 'InvalidArgument');
  t.is(await errorCode(t, alice.s3.send(new PutObjectCommand({ Bucket: 'alice-bad', Key: 'new', Body: 'x', ACL: 'everyone' as 'private' }))), 'InvalidArgument');
  t.is(await errorCode(t, alice.s3.send(new CreateBucketCommand({ Bucket: 'alice-bad-2', GrantRead: 'id="nobody-at-all"' }))), 'InvalidArgument');
  t.is(await errorCode(t, alice.s3.send(new HeadBucketCommand({ Bucket: 'alice-bad-2' }))), 'NotFound');
  t.is(await errorCode(t, alice.s3.send(new GetObjectCommand({ Bucket: 'alice-bad', Key: 'new' }))), 'NoSuchKey');
  // The bucket ACL is still the default.
  const acl = await alice.s3.send(new GetBucketAclCommand({ Bucket: 'alice-bad' }));
  t.deepEqual(acl.Grants?.map((g) => `${g.Grantee?.ID}:${g.Permission}`), ['alice:FULL_CONTROL']);

  // Malformed policies.
  r = await sign('PUT', '/alice-bad?policy', {}, '{"Statement": [');
  t.is(r.status, 400);
  t.regex(r.body, /<Code>MalformedPolicy<\/Code><Message>Policies must be valid JSON and the first byte must be &apos;\{&apos;<\/Message>/);
  const bad = [
    [policyDoc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-bad' }), 'Action does not apply to any resource(s) in statement'],
    [policyDoc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::nobody-at-all:root' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-bad/*' }), 'Invalid principal in policy'],
    [policyDoc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-else/*' }), 'Policy has invalid resource'],
    [policyDoc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::alice-bad/*' }), 'Missing required field Principal'],
  ];
  for (const [doc, message] of bad) {
    r = await sign('PUT', '/alice-bad?policy', {}, doc);
    t.is(r.status, 400, message);
    t.true(r.body.includes(`<Code>MalformedPolicy</Code><Message>${message}</Message>`), r.body);
  }
  t.is(await errorCode(t, alice.s3.send(new GetBucketPolicyCommand({ Bucket: 'alice-bad' }))), 'NoSuchBucketPolicy');
  t.is(await errorCode(t, alice.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'alice-bad' }))), 'NoSuchBucketPolicy');
});
