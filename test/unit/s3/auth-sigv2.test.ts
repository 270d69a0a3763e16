/**
 * SigV2: AWS's documented string-to-sign examples, an independent computation of botocore's HmacV1 format,
 * and the real SigV2 clients on this machine (boto3's default presigned URLs, botocore with
 * `signature_version='s3'`, `s3cmd` with `signature_v2`) against a capture server.
 */
import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { type AuthRequest, authenticate } from '../../../src/s3/auth/index.js';
import { S3Error } from '../../../src/s3/errors.js';
import { AKID, type CaptureServer, lookup, plainGet, SECRET, startCaptureServer } from './_capture.js';

const run = promisify(execFile);
const DOC_AKID = 'AKIAIOSFODNN7EXAMPLE';
const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const docLookup = async (k: string) => (k === DOC_AKID ? DOC_SECRET : k === AKID ? SECRET : undefined);
const opts = { region: 'us-east-1' };

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html (johnsmith examples); the
// bucket is virtual-hosted there, so it is passed as virtualHostBucket.
const DOC_VECTORS: [string, AuthRequest][] = [
  ['Object GET', { method: 'GET', rawUrl: '/photos/puppy.jpg', virtualHostBucket: 'johnsmith', now: new Date('2007-03-27T19:36:42Z'), headers: { date: 'Tue, 27 Mar 2007 19:36:42 +0000', authorization: `AWS ${DOC_AKID}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=` } }],
  ['Object PUT', { method: 'PUT', rawUrl: '/photos/puppy.jpg', virtualHostBucket: 'johnsmith', now: new Date('2007-03-27T21:15:45Z'), headers: { date: 'Tue, 27 Mar 2007 21:15:45 +0000', 'content-type': 'image/jpeg', 'content-length': '94328', authorization: `AWS ${DOC_AKID}:MyyxeRY7whkBe+bq8fHCL/2kKUg=` } }],
  ['List (sub-resource-free query ignored)', { method: 'GET', rawUrl: '/?prefix=photos&max-keys=50&marker=puppy', virtualHostBucket: 'johnsmith', now: new Date('2007-03-27T19:42:41Z'), headers: { date: 'Tue, 27 Mar 2007 19:42:41 +0000', authorization: `AWS ${DOC_AKID}:htDYFYduRNen8P9ZfE/s9SuKy0U=` } }],
  ['Fetch ?acl', { method: 'GET', rawUrl: '/?acl', virtualHostBucket: 'johnsmith', now: new Date('2007-03-27T19:44:46Z'), headers: { date: 'Tue, 27 Mar 2007 19:44:46 +0000', authorization: `AWS ${DOC_AKID}:c2WLPFtWHVgbEmeEG93a4cG37dM=` } }],
  ['Delete with x-amz-date (AWS spelling)', { method: 'DELETE', rawUrl: '/johnsmith/photos/puppy.jpg', now: new Date('2007-03-27T21:20:27Z'), headers: { date: 'Tue, 27 Mar 2007 21:20:27 +0000', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000', authorization: `AWS ${DOC_AKID}:lx3byBScXR6KzyMaifNkardMwNk=` } }],
  ['Upload with x-amz-* headers', { method: 'PUT', rawUrl: '/db-backup.dat.gz', virtualHostBucket: 'static.johnsmith.net', now: new Date('2007-03-27T21:06:08Z'), headers: { date: 'Tue, 27 Mar 2007 21:06:08 +0000', 'x-amz-acl': 'public-read', 'content-type': 'application/x-download', 'content-md5': '4gJE4saaMU4BqNR0kLY+lw==', 'x-amz-meta-reviewedby': ['joe@johnsmith.net', 'jane@johnsmith.net'], 'x-amz-meta-filechecksum': '0x02661779', 'x-amz-meta-checksumalgorithm': 'crc32', authorization: `AWS ${DOC_AKID}:ilyl83RwaSoYIEdixDQcA4OnAnc=` } }],
  ['Query string auth', { method: 'GET', rawUrl: `/photos/puppy.jpg?AWSAccessKeyId=${DOC_AKID}&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620`, virtualHostBucket: 'johnsmith', now: new Date('2007-03-29T03:00:00Z'), headers: {} }],
];

for (const [name, req] of DOC_VECTORS) {
  test(`AWS SigV2 example verifies: ${name}`, async (t) => {
    t.like(await authenticate(req, docLookup, opts), { kind: 'signed', version: 2, accessKeyId: DOC_AKID });
    const other = { ...req, rawUrl: req.rawUrl.replace('/', '/x') };
    await t.throwsAsync(authenticate(other, docLookup, opts), { instanceOf: S3Error, message: /signature we calculated/ });
  });
}

/**
 * botocore's HmacV1Auth (auth.py) restated independently: standard headers, custom headers, resource with the
 * QSA-of-interest sub-resources, values unquoted.
 */
function botoStringToSign(method: string, path: string, query: [string, string | undefined][], headers: Record<string, string>): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const date = 'x-amz-date' in lower ? '' : (lower.date ?? '');
  const custom = Object.keys(lower)
    .filter((k) => k.startsWith('x-amz-'))
    .sort()
    .map((k) => `${k}:${lower[k].trim()}\n`)
    .join('');
  const qsa = ['acl', 'uploads', 'uploadId', 'partNumber', 'versionId', 'tagging', 'delete', 'response-content-disposition'];
  const subs = query
    .filter(([k]) => qsa.includes(k))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => (v === undefined ? k : `${k}=${decodeURIComponent(v)}`));
  const resource = path + (subs.length ? `?${subs.join('&')}` : '');
  return `${method}\n${lower['content-md5'] ?? ''}\n${lower['content-type'] ?? ''}\n${date}\n${custom}${resource}`;
}

test('an independent restatement of botocore HmacV1 verifies', async (t) => {
  const cases: [string, string, [string, string | undefined][], Record<string, string>][] = [
    ['PUT', '/b/two%20words%2Bplus.txt', [['partNumber', '3'], ['uploadId', 'a%2Fb']], { 'Content-Type': 'text/plain', 'X-Amz-Meta-Note': ' x ', Date: 'Mon, 30 Nov 2026 10:00:00 GMT' }],
    ['GET', '/b/%C3%BCn%C3%AF.txt', [['response-content-disposition', 'attachment%3B%20filename%3D%22a%22'], ['x-id', 'GetObject']], { 'x-amz-date': 'Mon, 30 Nov 2026 10:00:00 GMT' }],
    ['POST', '/b', [['delete', undefined]], { 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==', Date: 'Mon, 30 Nov 2026 10:00:00 GMT' }],
  ];
  for (const [method, path, query, headers] of cases) {
    const sig = createHmac('sha1', SECRET).update(botoStringToSign(method, path, query, headers)).digest('base64');
    const qs = query.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&');
    const lowered = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const req: AuthRequest = {
      method,
      rawUrl: path + (qs ? `?${qs}` : ''),
      headers: { host: '127.0.0.1', ...lowered, authorization: `AWS ${AKID}:${sig}` },
      now: new Date('2026-11-30T10:05:00Z'),
    };
    t.like(await authenticate(req, lookup, opts), { kind: 'signed', version: 2, via: 'header' }, path);
  }
});

test('SigV2 errors', async (t) => {
  const now = new Date('2026-11-30T10:00:00Z');
  const base = { method: 'GET', rawUrl: '/b/k', now };
  let err = await t.throwsAsync(authenticate({ ...base, headers: { authorization: 'AWS nocolon', date: now.toUTCString() } }, lookup, opts), { instanceOf: S3Error });
  t.is(err.code, 'InvalidArgument');
  t.is(err.message, 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature');
  err = await t.throwsAsync(authenticate({ ...base, headers: { authorization: `AWS ${AKID}:abc=` } }, lookup, opts), { instanceOf: S3Error });
  t.is(err.message, 'AWS authentication requires a valid Date or x-amz-date header');
  err = await t.throwsAsync(authenticate({ ...base, headers: { authorization: `AWS ${AKID}:abc=`, date: 'Mon, 30 Nov 2026 09:40:00 GMT' } }, lookup, opts), { instanceOf: S3Error });
  t.is(err.code, 'RequestTimeTooSkewed');
  t.is(err.extra.RequestTime, 'Mon, 30 Nov 2026 09:40:00 GMT');
  err = await t.throwsAsync(authenticate({ ...base, headers: { authorization: `AWS NOPE:abc=`, date: now.toUTCString() } }, lookup, opts), { instanceOf: S3Error });
  t.is(err.code, 'InvalidAccessKeyId');
  err = await t.throwsAsync(authenticate({ ...base, headers: { authorization: `AWS ${AKID}:abc=`, date: now.toUTCString() } }, lookup, opts), { instanceOf: S3Error });
  t.is(err.code, 'SignatureDoesNotMatch');
  t.is(err.extra.StringToSign, `GET\n\n\n${now.toUTCString()}\n/b/k`);
  t.is(err.extra.SignatureProvided, 'abc=');
  err = await t.throwsAsync(authenticate({ ...base, rawUrl: `/b/k?AWSAccessKeyId=${AKID}&Signature=x`, headers: {} }, lookup, opts), { instanceOf: S3Error });
  t.is(err.message, 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  err = await t.throwsAsync(authenticate({ ...base, rawUrl: `/b/k?AWSAccessKeyId=${AKID}&Signature=x&Expires=1700000000`, headers: {} }, lookup, opts), { instanceOf: S3Error });
  t.is(err.message, 'Request has expired');
  t.deepEqual(err.extra, { Expires: '2023-11-14T22:13:20Z', ServerTime: '2026-11-30T10:00:00Z' });
});

// --- real clients ------------------------------------------------------------------------------------

const PYTHON = '/usr/bin/python3';
const hasBoto = existsSync(PYTHON);
const hasS3cmd = existsSync('/usr/bin/s3cmd');
let server: CaptureServer;
test.before(async () => {
  server = await startCaptureServer();
});
test.after.always(async () => {
  await server?.close();
});

const KEYS = ['plain.txt', 'two words+plus.txt', 'ünï/ä.txt', "~*'()!$.txt", 'a//b', 'x&y=z?.txt'];
const env = { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CA_BUNDLE: '' };

async function python(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', script, ...args], { env, timeout: 60_000 });
  return stdout;
}

const BOTO_SETUP = `
import sys, json, boto3
from botocore.config import Config
ep, akid, secret = sys.argv[1], sys.argv[2], sys.argv[3]
keys = json.loads(sys.argv[4])
def client(**kw):
    return boto3.client('s3', endpoint_url=ep, aws_access_key_id=akid, aws_secret_access_key=secret,
                        region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 0}, **kw))
`;

(hasBoto ? test.serial : test.serial.skip)('boto3 default presigned URLs (SigV2 query) verify', async (t) => {
  const out = await python(
    `${BOTO_SETUP}
s3 = client()
for k in keys:
    print(s3.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': k}, ExpiresIn=300))
print(s3.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': 'k', 'ResponseContentDisposition': 'attachment; filename="a b.txt"', 'VersionId': 'v1'}, ExpiresIn=300))
print(s3.generate_presigned_url('put_object', Params={'Bucket': 'b', 'Key': 'up'}, ExpiresIn=300))
`,
    server.endpoint,
    AKID,
    SECRET,
    JSON.stringify(KEYS),
  );
  const urls = out.trim().split('\n');
  t.is(urls.length, KEYS.length + 2);
  for (const [i, url] of urls.entries()) {
    t.regex(url, /AWSAccessKeyId=/);
    const before = server.requests.length;
    await plainGet(url, {}, i === urls.length - 1 ? 'PUT' : 'GET');
    const c = server.requests[before];
    t.like(await authenticate({ method: c.method, rawUrl: c.rawUrl, headers: c.headers, now: new Date() }, lookup, opts), { kind: 'signed', version: 2, via: 'query' }, url);
  }
});

(hasBoto ? test.serial : test.serial.skip)("botocore signature_version='s3' header auth verifies (objects, ?uploads, ?acl, ?delete)", async (t) => {
  const before = server.requests.length;
  await python(
    `${BOTO_SETUP}
s3 = client(signature_version='s3')
def attempt(f):
    try: f()
    except Exception as e: print('ignored', type(e).__name__, file=sys.stderr)
for k in keys:
    attempt(lambda: s3.put_object(Bucket='b', Key=k, Body=b'hello', ContentType='text/plain', Metadata={'note': ' spaced  value '}))
attempt(lambda: s3.create_multipart_upload(Bucket='b', Key='multi part'))
attempt(lambda: s3.upload_part(Bucket='b', Key='multi part', UploadId='u/1+2', PartNumber=2, Body=b'x' * 10))
attempt(lambda: s3.get_object_acl(Bucket='b', Key='k'))
attempt(lambda: s3.delete_objects(Bucket='b', Delete={'Objects': [{'Key': 'a'}]}))
attempt(lambda: s3.list_objects(Bucket='b', Prefix='a b', Delimiter='/'))
`,
    server.endpoint,
    AKID,
    SECRET,
    JSON.stringify(KEYS),
  );
  const captured = server.requests.slice(before);
  t.true(captured.length >= KEYS.length + 5);
  for (const c of captured) {
    t.regex(String(c.headers.authorization), /^AWS /);
    t.like(await authenticate({ method: c.method, rawUrl: c.rawUrl, headers: c.headers, now: new Date() }, lookup, opts), { kind: 'signed', version: 2 }, `${c.method} ${c.rawUrl}`);
  }
});

(hasS3cmd ? test.serial : test.serial.skip)('s3cmd with signature_v2 verifies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-s3cmd-'));
  const cfg = join(dir, 's3cfg');
  writeFileSync(
    cfg,
    `[default]\naccess_key = ${AKID}\nsecret_key = ${SECRET}\nhost_base = 127.0.0.1:${server.port}\nhost_bucket = 127.0.0.1:${server.port}\nuse_https = False\nsignature_v2 = True\n`,
  );
  writeFileSync(join(dir, 'f.txt'), 'hello\n');
  const before = server.requests.length;
  for (const key of ['two words+plus.txt', 'ünï.txt']) {
    await run('s3cmd', ['-c', cfg, 'put', join(dir, 'f.txt'), `s3://b/${key}`], { env, timeout: 60_000 }).catch((e) => t.log(String(e)));
  }
  const captured = server.requests.slice(before);
  t.true(captured.length >= 2);
  for (const c of captured) {
    t.like(await authenticate({ method: c.method, rawUrl: c.rawUrl, headers: c.headers, now: new Date() }, lookup, opts), { kind: 'signed', version: 2 }, `${c.method} ${c.rawUrl}`);
  }
});
