import test from 'ava';
import { type Principal, StaticIdentity } from '../../../../src/common/identity.js';
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  aclAllows,
  aclFromHeaders,
  aclXml,
  cannedAcl,
  checkGrantees,
  isPublicAcl,
  parseAclXml,
} from '../../../../src/s3/access/acl.js';
import type { S3Error } from '../../../../src/s3/errors.js';

const bob: Principal = { accessKeyId: 'AKBOB', user: 'bob', account: 'bob', isRoot: false };
const owner: Principal = { accessKeyId: 'AKO', user: 'o', account: 'owner', isRoot: false };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as S3Error).code;
  }
  return 'none';
}

test('canned ACLs', (t) => {
  t.deepEqual(cannedAcl('private', 'owner', 'owner').grants, [{ grantee: { type: 'CanonicalUser', id: 'owner' }, permission: 'FULL_CONTROL' }]);
  const pr = cannedAcl('public-read', 'owner', 'owner');
  t.true(aclAllows(pr, undefined, 'READ'));
  t.false(aclAllows(pr, undefined, 'WRITE'));
  t.true(isPublicAcl(pr));
  const prw = cannedAcl('public-read-write', 'owner', 'owner');
  t.true(aclAllows(prw, undefined, 'WRITE'));
  const ar = cannedAcl('authenticated-read', 'owner', 'owner');
  t.false(aclAllows(ar, undefined, 'READ'));
  t.true(aclAllows(ar, bob, 'READ'));
  t.true(isPublicAcl(ar));
  const bofc = cannedAcl('bucket-owner-full-control', 'bob', 'owner');
  t.true(aclAllows(bofc, owner, 'READ'));
  t.true(aclAllows(bofc, owner, 'WRITE_ACP'));
  t.is(code(() => cannedAcl('world-writable', 'o', 'o')), 'InvalidArgument');
});

test('the owner always has READ_ACP and WRITE_ACP; FULL_CONTROL implies everything', (t) => {
  const acl = { owner: 'owner', grants: [{ grantee: { type: 'CanonicalUser' as const, id: 'bob' }, permission: 'FULL_CONTROL' as const }] };
  t.true(aclAllows(acl, owner, 'READ_ACP'));
  t.true(aclAllows(acl, owner, 'WRITE_ACP'));
  t.false(aclAllows(acl, owner, 'READ'));
  for (const p of ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const) t.true(aclAllows(acl, bob, p));
});

test('IgnorePublicAcls drops group grants only', (t) => {
  const acl = cannedAcl('public-read', 'owner', 'owner');
  acl.grants.push({ grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ' });
  t.false(aclAllows(acl, undefined, 'READ', { ignorePublic: true }));
  t.true(aclAllows(acl, bob, 'READ', { ignorePublic: true }));
});

test('x-amz-grant-* headers', (t) => {
  const acl = aclFromHeaders(
    { 'x-amz-grant-read': `id="bob", uri="${AUTHENTICATED_USERS}"`, 'x-amz-grant-write-acp': 'id=carol' },
    'owner',
    'owner',
  )!;
  t.deepEqual(acl.grants, [
    { grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ' },
    { grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'READ' },
    { grantee: { type: 'CanonicalUser', id: 'carol' }, permission: 'WRITE_ACP' },
  ]);
  t.is(aclFromHeaders({}, 'o', 'o'), undefined);
  t.is(code(() => aclFromHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': 'id=bob' }, 'o', 'o')), 'InvalidRequest');
  t.is(code(() => aclFromHeaders({ 'x-amz-grant-read': 'emailAddress="a@b.c"' }, 'o', 'o')), 'UnresolvableGrantByEmailAddress');
  t.is(code(() => aclFromHeaders({ 'x-amz-grant-read': 'uri="http://example.com/everyone"' }, 'o', 'o')), 'InvalidArgument');
  t.is(code(() => aclFromHeaders({ 'x-amz-grant-read': 'garbage' }, 'o', 'o')), 'InvalidArgument');
});

const doc = (grants: string, ownerId = 'owner') =>
  Buffer.from(
    `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${ownerId}</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`,
  );
const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

test('AccessControlPolicy XML both ways', (t) => {
  const acl = parseAclXml(
    doc(
      `<Grant><Grantee ${xsi} xsi:type="CanonicalUser"><ID>owner</ID><DisplayName>o</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
        `<Grant><Grantee ${xsi} xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>`,
    ),
    'owner',
  );
  t.deepEqual(acl, cannedAcl('public-read', 'owner', 'owner'));
  t.deepEqual(parseAclXml(Buffer.from(aclXml(acl)), 'owner'), acl);
});

test('malformed ACL documents', (t) => {
  t.is(code(() => parseAclXml(Buffer.from('<AccessControlPolicy><AccessControlList>'), 'owner')), 'MalformedACLError');
  t.is(code(() => parseAclXml(Buffer.from('<Policy/>'), 'owner')), 'MalformedACLError');
  t.is(code(() => parseAclXml(doc('<Grant><Grantee><ID>bob</ID></Grantee><Permission>EVERYTHING</Permission></Grant>'), 'owner')), 'MalformedACLError');
  t.is(code(() => parseAclXml(doc('<Grant><Permission>READ</Permission></Grant>'), 'owner')), 'MalformedACLError');
  t.is(code(() => parseAclXml(doc('<Grant><Grantee><ID></ID></Grantee><Permission>READ</Permission></Grant>'), 'owner')), 'MalformedACLError');
  t.is(code(() => parseAclXml(doc('<Grant><Grantee><URI>http://x/y</URI></Grantee><Permission>READ</Permission></Grant>'), 'owner')), 'InvalidArgument');
  t.is(code(() => parseAclXml(doc('<Grant><Grantee><EmailAddress>a@b</EmailAddress></Grantee><Permission>READ</Permission></Grant>'), 'owner')), 'UnresolvableGrantByEmailAddress');
  t.is(code(() => parseAclXml(doc('', 'someone-else'), 'owner')), 'AccessDenied');
  t.is(code(() => parseAclXml(Buffer.from('<AccessControlPolicy/>'), 'owner')), 'MalformedACLError');
});

test('grantees must be existing accounts', async (t) => {
  const identity = new StaticIdentity([{ ...bob, secretKey: 's' }]);
  await checkGrantees(aclFromHeaders({ 'x-amz-grant-read': 'id=bob' }, 'owner', 'owner')!, identity);
  const err = (await t.throwsAsync(checkGrantees(aclFromHeaders({ 'x-amz-grant-read': 'id=nobody' }, 'owner', 'owner')!, identity))) as S3Error;
  t.is(err.code, 'InvalidArgument');
  t.is(err.message, 'Invalid id');
  t.is(err.extra.ArgumentValue, 'nobody');
});
