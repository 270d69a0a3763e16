/** PostObject policy documents: shapes, conditions, extra fields, expiry, content-length-range. */
import test from 'ava';
import type { S3Error } from '../../../src/s3/errors.js';
import { checkPolicy, lengthRange, parsePolicy } from '../../../src/s3/post-policy.js';

const b64 = (doc: unknown) => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64');
const later = new Date(Date.now() + 60_000).toISOString();

test('parsePolicy: conditions in their three forms; refusals', (t) => {
  const p = parsePolicy(b64({ expiration: later, conditions: [{ Bucket: 'b' }, ['eq', '$Key', 'k'], ['starts-with', '$Content-Type', 'image/'], ['content-length-range', 1, 10]] }));
  t.deepEqual(p.conditions, [
    { op: 'eq', field: 'bucket', value: 'b' },
    { op: 'eq', field: 'key', value: 'k' },
    { op: 'starts-with', field: 'content-type', value: 'image/' },
    { op: 'content-length-range', min: 1, max: 10 },
  ]);
  t.deepEqual(lengthRange(p), { min: 1, max: 10 });
  for (const bad of ['{', { conditions: [] }, { expiration: 'soon', conditions: [] }, { expiration: later }, { expiration: later, conditions: [['lt', '$key', 'x']] }, { expiration: later, conditions: [['content-length-range', 10, 1]] }]) {
    t.is((t.throws(() => parsePolicy(b64(bad))) as S3Error).code, 'InvalidPolicyDocument', JSON.stringify(bad));
  }
});

test('checkPolicy: fields compare case-insensitively; failures name the condition or the field', (t) => {
  const p = parsePolicy(b64({ expiration: later, conditions: [{ bucket: 'b' }, ['starts-with', '$key', 'up/'], { acl: 'private' }] }));
  const fields = (o: Record<string, string>) => new Map(Object.entries(o));
  checkPolicy(p, fields({ key: 'up/x', acl: 'private', policy: 'p', 'x-amz-signature': 's', 'x-ignore-this': '1' }), 'b', Date.now());
  const err = (f: Record<string, string>, bucket = 'b', now = Date.now()) => (t.throws(() => checkPolicy(p, fields(f), bucket, now)) as S3Error).message;
  t.is(err({ key: 'down/x', acl: 'private' }), 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "up/"]');
  t.is(err({ key: 'up/x', acl: 'private' }, 'other'), 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "b"]');
  t.is(err({ key: 'up/x', acl: 'private', extra: '1' }), 'Invalid according to Policy: Extra input fields: extra');
  t.is(err({ key: 'up/x', acl: 'private' }, 'b', Date.now() + 120_000), 'Invalid according to Policy: Policy expired.');
});
