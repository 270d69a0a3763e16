import test from 'ava';
import type { Principal } from '../../../../src/common/identity.js';
import type { BucketInfo } from '../../../../src/proxy/object-store.js';
import { cannedAcl } from '../../../../src/s3/access/acl.js';
import type { IamAction } from '../../../../src/s3/access/actions.js';
import { isAllowed } from '../../../../src/s3/access/authorize.js';

const root: Principal = { accessKeyId: 'AKROOT', user: 'root', account: 'root', isRoot: true };
const alice: Principal = { accessKeyId: 'AKALICE', user: 'alice', account: 'alice', isRoot: false };
const alice2: Principal = { accessKeyId: 'AKALICE2', user: 'alice-ops', account: 'alice', isRoot: false };
const bob: Principal = { accessKeyId: 'AKBOB', user: 'bob', account: 'bob', isRoot: false };

function bucket(meta: Record<string, unknown> = {}): BucketInfo {
  return { name: 'b', account: 'alice', policy: 'replica-3', createdTs: '0', meta } as BucketInfo;
}

function allowed(b: BucketInfo, who: Principal | undefined, action: IamAction, key?: string, objectMeta?: Record<string, unknown> | 'missing') {
  return isAllowed({
    principal: who,
    bucket: b,
    action,
    key,
    keys: {},
    objectMeta: objectMeta === undefined ? undefined : async () => (objectMeta === 'missing' ? undefined : objectMeta),
  });
}

const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

test('root and the owner account may do anything; others nothing by default', async (t) => {
  const b = bucket();
  t.true(await allowed(b, root, 's3:DeleteBucket'));
  t.true(await allowed(b, alice, 's3:PutObject', 'k'));
  t.true(await allowed(b, alice2, 's3:GetObject', 'k', {}));
  for (const action of ['s3:ListBucket', 's3:GetBucketAcl', 's3:DeleteBucket'] as const) t.false(await allowed(b, bob, action));
  t.false(await allowed(b, bob, 's3:GetObject', 'k', {}));
  t.false(await allowed(b, undefined, 's3:GetObject', 'k', {}));
});

test('bucket ACL grants listing and writing; the object ACL grants reading', async (t) => {
  const b = bucket({ acl: cannedAcl('public-read-write', 'alice', 'alice') });
  t.true(await allowed(b, undefined, 's3:ListBucket'));
  t.true(await allowed(b, undefined, 's3:PutObject', 'k'));
  t.true(await allowed(b, undefined, 's3:DeleteObject', 'k'));
  t.false(await allowed(b, undefined, 's3:GetObject', 'k', {}));
  t.true(await allowed(b, undefined, 's3:GetObject', 'k', { aclHeaders: { 'x-amz-acl': 'public-read' } }));
  t.false(await allowed(b, undefined, 's3:GetObjectAcl', 'k', { aclHeaders: { 'x-amz-acl': 'public-read' } }));
  t.false(await allowed(b, undefined, 's3:PutBucketAcl'));
});

test('a missing object is AccessDenied unless the caller may list the bucket', async (t) => {
  t.false(await allowed(bucket(), bob, 's3:GetObject', 'k', 'missing'));
  t.true(await allowed(bucket({ acl: cannedAcl('authenticated-read', 'alice', 'alice') }), bob, 's3:GetObject', 'k', 'missing'));
});

test('an explicit Deny beats an ACL grant and an Allow, but not the owner on its bucket configuration', async (t) => {
  const b = bucket({
    acl: cannedAcl('public-read', 'alice', 'alice'),
    bucketPolicy: policy(
      { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', Principal: '*', Action: ['s3:ListBucket', 's3:PutBucketPolicy', 's3:GetBucketAcl'], Resource: 'arn:aws:s3:::b' },
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/secret' },
    ),
  });
  t.false(await allowed(b, undefined, 's3:ListBucket'));
  t.false(await allowed(b, alice, 's3:ListBucket'));
  t.true(await allowed(b, alice, 's3:PutBucketPolicy'));
  t.true(await allowed(b, alice, 's3:GetBucketAcl'));
  t.true(await allowed(b, bob, 's3:GetObject', 'open', {}));
  t.false(await allowed(b, bob, 's3:GetObject', 'secret', {}));
  t.false(await allowed(b, alice, 's3:GetObject', 'secret', {}));
  t.true(await allowed(b, root, 's3:GetObject', 'secret', {}));
});

test('public access block: IgnorePublicAcls and RestrictPublicBuckets', async (t) => {
  const pab = { blockPublicAcls: false, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: true };
  const b = bucket({
    acl: { owner: 'alice', grants: [...cannedAcl('public-read', 'alice', 'alice').grants, { grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ' }] },
    bucketPolicy: policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }),
    publicAccessBlock: pab,
  });
  t.false(await allowed(b, undefined, 's3:ListBucket'));
  t.true(await allowed(b, bob, 's3:ListBucket'));
  t.false(await allowed(b, undefined, 's3:GetObject', 'k', {}));
  t.true(await allowed(b, alice2, 's3:GetObject', 'k', {}));
  const open = bucket({ bucketPolicy: b.meta.bucketPolicy });
  t.true(await allowed(open, undefined, 's3:GetObject', 'k', {}));
});

test('BucketOwnerEnforced: ACLs grant nothing', async (t) => {
  const b = bucket({ acl: cannedAcl('public-read', 'alice', 'alice'), ownership: 'BucketOwnerEnforced' });
  t.false(await allowed(b, undefined, 's3:ListBucket'));
  t.false(await allowed(b, undefined, 's3:GetObject', 'k', { aclHeaders: { 'x-amz-acl': 'public-read' } }));
  t.true(await allowed(b, alice, 's3:GetObject', 'k', {}));
});

test('a stored policy that no longer parses denies everyone but the owner on configuration', async (t) => {
  const b = bucket({ bucketPolicy: '{"broken":', acl: cannedAcl('public-read', 'alice', 'alice') });
  t.false(await allowed(b, undefined, 's3:ListBucket'));
  t.false(await allowed(b, alice, 's3:ListBucket'));
  t.true(await allowed(b, alice, 's3:PutBucketPolicy'));
});
