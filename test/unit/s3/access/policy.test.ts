import test, { type ExecutionContext } from 'ava';
import { type Principal, StaticIdentity } from '../../../../src/common/identity.js';
import type { ConditionKeys } from '../../../../src/s3/access/conditions.js';
import { checkPrincipals, evaluatePolicy, isPublicPolicy, parsePolicy, type PolicyRequest } from '../../../../src/s3/access/policy.js';
import { S3Error } from '../../../../src/s3/errors.js';

const alice: Principal = { accessKeyId: 'AKALICE', user: 'alice', account: 'alice', isRoot: false };
const bob: Principal = { accessKeyId: 'AKBOB', user: 'bob', account: 'team', isRoot: false };
const carol: Principal = { accessKeyId: 'AKCAROL', user: 'carol', account: 'team', isRoot: false };

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function req(principal: Principal | undefined, action: string, resource: string, keys: ConditionKeys = {}): PolicyRequest {
  return { principal, action, resource, keys };
}

function malformed(t: ExecutionContext, text: string, message?: string | RegExp): void {
  const err = t.throws(() => parsePolicy(text, 'b'), { instanceOf: S3Error }) as S3Error;
  t.is(err.code, 'MalformedPolicy');
  if (typeof message === 'string') t.is(err.message, message);
  else if (message) t.regex(err.message, message);
}

const readAll = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

test('bad documents are MalformedPolicy with the reason', (t) => {
  malformed(t, 'not json', "Policies must be valid JSON and the first byte must be '{'");
  malformed(t, '[]');
  malformed(t, '', "Policies must be valid JSON and the first byte must be '{'");
  malformed(t, JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement');
  malformed(t, policy({ ...readAll, Principal: undefined }), 'Missing required field Principal');
  malformed(t, policy({ ...readAll, Effect: 'Permit' }), 'Invalid effect: Permit');
  malformed(t, policy({ ...readAll, Action: 'iam:CreateUser' }), 'Policy has invalid action');
  malformed(t, policy({ ...readAll, Resource: 'arn:aws:s3:::other/*' }), 'Policy has invalid resource');
  malformed(t, policy({ ...readAll, Resource: 'arn:aws:s3:::b' }), 'Action does not apply to any resource(s) in statement');
  malformed(t, policy({ ...readAll, Action: 's3:ListBucket' }), 'Action does not apply to any resource(s) in statement');
  malformed(t, policy({ ...readAll, Principal: { AWS: 'not a principal!' } }), 'Invalid principal in policy');
  malformed(t, policy({ ...readAll, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }), /not supported/);
  malformed(t, policy({ ...readAll, Condition: { IpAddress: { 'aws:SourceIp': '300.1.1.1/8' } } }), /Invalid value/);
  malformed(t, policy({ ...readAll, Sid: 'x' }, { ...readAll, Sid: 'x' }), /must be unique/);
  malformed(t, policy({ ...readAll, Extra: 1 }), 'Unknown field Extra');
  malformed(t, 'x'.repeat(21 * 1024), 'Policies must be less than 20 KB');
});

test('principals must exist', async (t) => {
  const identity = new StaticIdentity([{ ...bob, secretKey: 's' }]);
  await checkPrincipals(parsePolicy(policy({ ...readAll, Principal: { AWS: ['team', 'arn:aws:iam::team:user/bob', 'arn:aws:iam::team:root'] } }), 'b'), identity);
  for (const p of ['nobody', 'arn:aws:iam::team:user/nobody', 'arn:aws:iam::other:user/bob']) {
    const err = await t.throwsAsync(checkPrincipals(parsePolicy(policy({ ...readAll, Principal: { AWS: p } }), 'b'), identity));
    t.is((err as S3Error).code, 'MalformedPolicy', p);
  }
});

test('Allow by account, by user ARN, and to everyone', (t) => {
  const byAccount = parsePolicy(policy({ ...readAll, Principal: { AWS: 'team' } }), 'b');
  t.is(evaluatePolicy(byAccount, req(bob, 's3:GetObject', 'arn:aws:s3:::b/k')), 'allow');
  t.is(evaluatePolicy(byAccount, req(carol, 's3:GetObject', 'arn:aws:s3:::b/k')), 'allow');
  t.is(evaluatePolicy(byAccount, req(alice, 's3:GetObject', 'arn:aws:s3:::b/k')), 'none');
  t.is(evaluatePolicy(byAccount, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k')), 'none');
  const byUser = parsePolicy(policy({ ...readAll, Principal: { AWS: ['arn:aws:iam::team:user/bob'] } }), 'b');
  t.is(evaluatePolicy(byUser, req(bob, 's3:GetObject', 'arn:aws:s3:::b/k')), 'allow');
  t.is(evaluatePolicy(byUser, req(carol, 's3:GetObject', 'arn:aws:s3:::b/k')), 'none');
  const everyone = parsePolicy(policy(readAll), 'b');
  t.is(evaluatePolicy(everyone, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k')), 'allow');
  t.is(evaluatePolicy(everyone, req(undefined, 's3:PutObject', 'arn:aws:s3:::b/k')), 'none');
});

test('action wildcards are case-insensitive; resources match by prefix pattern', (t) => {
  const p = parsePolicy(policy({ Effect: 'Allow', Principal: '*', Action: ['s3:Get*', 's3:list?ucket'], Resource: ['arn:aws:s3:::b/public/*', 'arn:aws:s3:::b'] }), 'b');
  t.is(evaluatePolicy(p, req(alice, 's3:GetObject', 'arn:aws:s3:::b/public/x')), 'allow');
  t.is(evaluatePolicy(p, req(alice, 's3:GetObjectAcl', 'arn:aws:s3:::b/public/a/b')), 'allow');
  t.is(evaluatePolicy(p, req(alice, 's3:GetObject', 'arn:aws:s3:::b/private/x')), 'none');
  t.is(evaluatePolicy(p, req(alice, 's3:ListBucket', 'arn:aws:s3:::b')), 'allow');
  t.is(evaluatePolicy(p, req(alice, 's3:PutObject', 'arn:aws:s3:::b/public/x')), 'none');
  const all = parsePolicy(policy({ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] }), 'b');
  t.is(evaluatePolicy(all, req(alice, 's3:DeleteBucket', 'arn:aws:s3:::b')), 'allow');
});

test('an explicit Deny wins over any Allow', (t) => {
  const p = parsePolicy(
    policy(
      { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', Principal: { AWS: 'team' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/secret/*' },
    ),
    'b',
  );
  t.is(evaluatePolicy(p, req(bob, 's3:GetObject', 'arn:aws:s3:::b/secret/x')), 'deny');
  t.is(evaluatePolicy(p, req(bob, 's3:GetObject', 'arn:aws:s3:::b/open')), 'allow');
  t.is(evaluatePolicy(p, req(alice, 's3:GetObject', 'arn:aws:s3:::b/secret/x')), 'allow');
});

test('NotPrincipal and NotAction', (t) => {
  const p = parsePolicy(policy({ Effect: 'Deny', NotPrincipal: { AWS: 'alice' }, NotAction: 's3:Get*', Resource: 'arn:aws:s3:::b/*' }), 'b');
  t.is(evaluatePolicy(p, req(bob, 's3:PutObject', 'arn:aws:s3:::b/k')), 'deny');
  t.is(evaluatePolicy(p, req(undefined, 's3:DeleteObject', 'arn:aws:s3:::b/k')), 'deny');
  t.is(evaluatePolicy(p, req(bob, 's3:GetObject', 'arn:aws:s3:::b/k')), 'none');
  t.is(evaluatePolicy(p, req(alice, 's3:PutObject', 'arn:aws:s3:::b/k')), 'none');
});

test('conditions: SecureTransport, SourceIp, IfExists, negated operators, s3:prefix', (t) => {
  const tlsOnly = parsePolicy(policy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), 'b');
  t.is(evaluatePolicy(tlsOnly, req(bob, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:securetransport': 'false' })), 'deny');
  t.is(evaluatePolicy(tlsOnly, req(bob, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:securetransport': 'true' })), 'none');
  const fromLan = parsePolicy(policy({ ...readAll, Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } }), 'b');
  t.is(evaluatePolicy(fromLan, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:sourceip': '10.1.2.3' })), 'allow');
  t.is(evaluatePolicy(fromLan, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:sourceip': '::ffff:10.1.2.3' })), 'allow');
  t.is(evaluatePolicy(fromLan, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:sourceip': '2001:db8::1' })), 'allow');
  t.is(evaluatePolicy(fromLan, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:sourceip': '192.168.1.1' })), 'none');
  t.is(evaluatePolicy(fromLan, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', {})), 'none');
  const notFromLan = parsePolicy(policy({ ...readAll, Effect: 'Deny', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }), 'b');
  t.is(evaluatePolicy(notFromLan, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:sourceip': '8.8.8.8' })), 'deny');
  t.is(evaluatePolicy(notFromLan, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:sourceip': '10.0.0.1' })), 'none');
  const ifExists = parsePolicy(policy({ ...readAll, Condition: { StringEqualsIfExists: { 'aws:Referer': 'https://example.com/' } } }), 'b');
  t.is(evaluatePolicy(ifExists, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', {})), 'allow');
  t.is(evaluatePolicy(ifExists, req(undefined, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:referer': 'https://evil/' })), 'none');
  const home = parsePolicy(policy({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': ['home/*', ''] } } }), 'b');
  t.is(evaluatePolicy(home, req(bob, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/bob/' })), 'allow');
  t.is(evaluatePolicy(home, req(bob, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': '' })), 'allow');
  t.is(evaluatePolicy(home, req(bob, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'etc/' })), 'none');
});

test('with the key unknown, Allow counts when it may match a key and Deny only when it matches all', (t) => {
  const anyKey = (p: ReturnType<typeof parsePolicy>, principal: Principal) =>
    evaluatePolicy(p, { principal, action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/*', anyKeyPrefix: 'arn:aws:s3:::b/', keys: {} });
  const tmpOnly = parsePolicy(policy({ Effect: 'Allow', Principal: { AWS: 'team' }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/tmp/*' }), 'b');
  t.is(anyKey(tmpOnly, bob), 'allow');
  const denySome = parsePolicy(policy({ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/keep/*' }), 'b');
  t.is(anyKey(denySome, bob), 'none');
  const denyAll = parsePolicy(policy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }), 'b');
  t.is(anyKey(denyAll, bob), 'deny');
});

test('public policies: wildcard principals without pinning conditions', (t) => {
  t.true(isPublicPolicy(parsePolicy(policy(readAll), 'b')));
  t.true(isPublicPolicy(parsePolicy(policy({ ...readAll, Principal: { AWS: '*' } }), 'b')));
  t.false(isPublicPolicy(parsePolicy(policy({ ...readAll, Principal: { AWS: 'team' } }), 'b')));
  t.false(isPublicPolicy(parsePolicy(policy({ ...readAll, Effect: 'Deny' }), 'b')));
  t.false(isPublicPolicy(parsePolicy(policy({ ...readAll, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }), 'b')));
  t.true(isPublicPolicy(parsePolicy(policy({ ...readAll, Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }), 'b')));
  t.true(isPublicPolicy(parsePolicy(policy({ ...readAll, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }), 'b')));
});
