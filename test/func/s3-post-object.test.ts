/**
 * PostObject: browser form uploads with a signed policy (SigV4 and SigV2), sent as a browser would (fetch +
 * FormData, and hand-built multipart bodies for the malformed cases): success statuses and redirects,
 * `${filename}`, metadata fields, and the family of policy errors. Nothing is stored when a form is refused.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand, type S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { deriveSigningKey } from '../../src/s3/auth/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let s3: S3Client;
const Bucket = 'forms';

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  s3 = cluster.s3();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
test.after.always(async () => cluster?.close());

type Fields = Record<string, string>;

/** A SigV4-signed form: the policy over `conditions` plus the x-amz-* fields it must name. */
function signedV4(conditions: unknown[], opts: { expiresInSec?: number; secret?: string; rawPolicy?: string } = {}): Fields {
  const now = new Date();
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const amzDate = `${date}T${now.toISOString().slice(11, 19).replace(/:/g, '')}Z`;
  const credential = `${cluster.accessKey}/${date}/us-east-1/s3/aws4_request`;
  const policy = opts.rawPolicy ?? Buffer.from(
    JSON.stringify({
      expiration: new Date(now.getTime() + (opts.expiresInSec ?? 3600) * 1000).toISOString(),
      conditions: [...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }],
    }),
  ).toString('base64');
  const key = deriveSigningKey(opts.secret ?? cluster.secretKey, date, 'us-east-1', 's3');
  return {
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    policy,
    'x-amz-signature': createHmac('sha256', key).update(policy).digest('hex'),
  };
}

/** A SigV2-signed form. */
function signedV2(conditions: unknown[]): Fields {
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 3600_000).toISOString(), conditions })).toString('base64');
  return { AWSAccessKeyId: cluster.accessKey, policy, signature: createHmac('sha1', cluster.secretKey).update(policy).digest('base64') };
}

/** Posts a form the way a browser does (fetch builds the multipart body); the file goes last. */
async function post(fields: Fields, file: { data: Buffer | string; filename?: string; type?: string } | undefined, bucket = Bucket): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file.data], { type: file.type ?? 'application/octet-stream' }), file.filename ?? 'upload.bin');
  return fetch(`${cluster.endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual' });
}

async function expectError(t: ExecutionContext, res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const body = await res.text();
  t.is(res.status, status, body);
  t.regex(body, new RegExp(`<Code>${code}</Code>`), body);
  if (message) t.regex(body.replace(/&quot;/g, '"').replace(/&apos;/g, "'"), message, body);
}

async function absent(t: ExecutionContext, Key: string): Promise<void> {
  const err = (await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket, Key })))) as S3ServiceException;
  t.is(err.name, 'NotFound', Key);
}

const basic = [{ bucket: Bucket }, ['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 1024 * 1024]];

test('SigV4 form: 201 with the PostResponse XML, the filename variable, content type, metadata, tagging', async (t) => {
  const fields = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally `${filename}`.
    key: 'uploads/${filename}',
    'Content-Type': 'text/plain',
    'x-amz-meta-origin': 'browser',
    success_action_status: '201',
    tagging: '<Tagging><TagSet><Tag><Key>via</Key><Value>form</Value></Tag></TagSet></Tagging>',
  };
  const signed = signedV4([...basic, ['starts-with', '$Content-Type', 'text/'], { 'x-amz-meta-origin': 'browser' }, { success_action_status: '201' }, ['starts-with', '$tagging', '']]);
  const res = await post({ ...fields, ...signed }, { data: 'hello from a form\n', filename: 'hello.txt' });
  const body = await res.text();
  t.is(res.status, 201, body);
  const etag = `"${createHash('md5').update('hello from a form\n').digest('hex')}"`;
  t.regex(body, /<PostResponse[^>]*><Location>http:\/\/[^<]+\/forms\/uploads\/hello\.txt<\/Location><Bucket>forms<\/Bucket><Key>uploads\/hello\.txt<\/Key>/);
  t.true(body.includes(`<ETag>&quot;${etag.slice(1, -1)}&quot;</ETag>`));
  t.is(res.headers.get('etag'), etag);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'uploads/hello.txt' }));
  t.is(await got.Body!.transformToString(), 'hello from a form\n');
  t.is(got.ContentType, 'text/plain');
  t.deepEqual(got.Metadata, { origin: 'browser' });
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'uploads/hello.txt' }));
  t.deepEqual(tags.TagSet, [{ Key: 'via', Value: 'form' }]);
});

test('SigV2 form: 204 by default; 200 when asked; a redirect answers 303 with bucket, key and etag', async (t) => {
  let res = await post({ key: 'uploads/v2.bin', ...signedV2(basic) }, { data: randomBytes(1000) });
  t.is(res.status, 204, await res.text());
  res = await post({ key: 'uploads/v2-200.bin', success_action_status: '200', ...signedV2([...basic, { success_action_status: '200' }]) }, { data: 'x' });
  t.is(res.status, 200);
  const redirect = 'https://example.com/done?from=form';
  res = await post({ key: 'uploads/redirected', success_action_redirect: redirect, ...signedV4([...basic, { success_action_redirect: redirect }]) }, { data: 'x' });
  t.is(res.status, 303);
  const location = new URL(res.headers.get('location')!);
  t.is(location.origin + location.pathname, 'https://example.com/done');
  t.is(location.searchParams.get('from'), 'form');
  t.is(location.searchParams.get('bucket'), Bucket);
  t.is(location.searchParams.get('key'), 'uploads/redirected');
  t.is(location.searchParams.get('etag'), `"${createHash('md5').update('x').digest('hex')}"`);
});

test('a large file streams through (8 MiB)', async (t) => {
  const data = randomBytes(8 * 1024 * 1024 + 5);
  const res = await post({ key: 'big/file', ...signedV4([{ bucket: Bucket }, ['starts-with', '$key', 'big/']]) }, { data });
  t.is(res.status, 204, await res.text());
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'big/file' }));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
});

test('policy errors: expired, condition failed, extra field, content-length-range, bad JSON, bad signature', async (t) => {
  await expectError(t, await post({ key: 'uploads/expired', ...signedV4(basic, { expiresInSec: -10 }) }, { data: 'x' }), 403, 'AccessDenied', /Invalid according to Policy: Policy expired\./);
  await expectError(
    t,
    await post({ key: 'elsewhere/x', ...signedV4(basic) }, { data: 'x' }),
    403,
    'AccessDenied',
    /Invalid according to Policy: Policy Condition failed: \["starts-with", "\$key", "uploads\/"\]/,
  );
  await expectError(t, await post({ key: 'uploads/extra', 'x-unexpected': '1', ...signedV4(basic) }, { data: 'x' }), 403, 'AccessDenied', /Extra input fields: x-unexpected/);
  // x-ignore-* fields need no condition.
  const ok = await post({ key: 'uploads/ignored', 'x-ignore-me': '1', ...signedV4(basic) }, { data: 'x' });
  t.is(ok.status, 204);
  await expectError(t, await post({ key: 'uploads/too-big', ...signedV4(basic) }, { data: randomBytes(1024 * 1024 + 1) }), 400, 'EntityTooLarge');
  await expectError(t, await post({ key: 'uploads/too-small', ...signedV4(basic) }, { data: '' }), 400, 'EntityTooSmall');
  const wrong = signedV4(basic, { secret: 'not-the-secret' });
  await expectError(t, await post({ key: 'uploads/wrong-sig', ...wrong }, { data: 'x' }), 403, 'SignatureDoesNotMatch');
  await expectError(t, await post({ key: 'uploads/bad-json', ...signedV4(basic, { rawPolicy: Buffer.from('{not json').toString('base64') }) }, { data: 'x' }), 400, 'InvalidPolicyDocument');
  const v2 = signedV2(basic);
  await expectError(t, await post({ key: 'uploads/v2-bad', ...v2, signature: 'AAAA' }, { data: 'x' }), 403, 'SignatureDoesNotMatch');
  await expectError(t, await post({ key: 'uploads/no-ak', policy: v2.policy, signature: v2.signature }, { data: 'x' }), 400, 'InvalidArgument', /AWSAccessKeyId/);
  await expectError(t, await post({ key: 'uploads/v2-unknown', ...v2, AWSAccessKeyId: 'AKNOBODY' }, { data: 'x' }), 403, 'InvalidAccessKeyId');
  for (const key of ['uploads/expired', 'elsewhere/x', 'uploads/extra', 'uploads/too-big', 'uploads/too-small', 'uploads/wrong-sig', 'uploads/bad-json', 'uploads/v2-bad']) await absent(t, key);
});

test('form errors: no key, no file, not multipart, malformed multipart, anonymous without a grant, no bucket', async (t) => {
  await expectError(t, await post({ ...signedV4(basic) }, { data: 'x' }), 400, 'InvalidArgument', /must contain a field named 'key'/);
  await expectError(t, await post({ key: 'uploads/no-file', ...signedV4(basic) }, undefined), 400, 'InvalidArgument', /exactly one file/);
  const send = (body: string, contentType: string) => fetch(`${cluster.endpoint}/${Bucket}`, { method: 'POST', body, headers: { 'content-type': contentType } });
  await expectError(t, await send('--xx\r\nContent-Disposition: form-data; name="key"\r\n\r\nk', 'multipart/form-data; boundary=xx'), 400, 'MalformedPOSTRequest');
  await expectError(t, await send('--xx\r\nno-colon-here\r\n\r\nv\r\n--xx--', 'multipart/form-data; boundary=xx'), 400, 'MalformedPOSTRequest');
  await expectError(t, await send('just text', 'multipart/form-data'), 400, 'MalformedPOSTRequest');
  await expectError(
    t,
    await send(`--b\r\nContent-Disposition: form-data; name="key"\r\n\r\n${'k'.repeat(30 * 1024)}\r\n--b--\r\n`, 'multipart/form-data; boundary=b'),
    400,
    'MaxPostPreDataLengthExceededError',
  );
  await expectError(t, await post({ key: 'uploads/anon' }, { data: 'x' }), 403, 'AccessDenied');
  await expectError(t, await post({ key: 'uploads/x', ...signedV4([{ bucket: 'no-such-forms' }, ['starts-with', '$key', '']]) }, { data: 'x' }, 'no-such-forms'), 404, 'NoSuchBucket');
  await absent(t, 'uploads/anon');
  // The server is still serving (an object of this test's own: the tests run concurrently, so another test's
  // object may not be there yet).
  await s3.send(new PutObjectCommand({ Bucket, Key: 'uploads/alive', Body: 'still here' }));
  t.is((await s3.send(new HeadObjectCommand({ Bucket, Key: 'uploads/alive' }))).ContentLength, 10);
});

test('the acl field sets the new object’s ACL', async (t) => {
  const res = await post({ key: 'uploads/public', acl: 'public-read', ...signedV4([...basic, { acl: 'public-read' }]) }, { data: 'for everyone' });
  t.is(res.status, 204, await res.text());
  const anonymous = await fetch(`${cluster.endpoint}/${Bucket}/uploads/public`);
  t.is(anonymous.status, 200);
  t.is(await anonymous.text(), 'for everyone');
  const bad = await post({ key: 'uploads/bad-acl', acl: 'no-such-canned-acl', ...signedV4([...basic, { acl: 'no-such-canned-acl' }]) }, { data: 'x' });
  t.is(bad.status, 400, await bad.text());
  await absent(t, 'uploads/bad-acl');
});
