/**
 * SigV4 header auth and presigned URLs exactly as @aws-sdk/client-s3 and s3-request-presigner send them,
 * captured on a loopback server and verified by `authenticate`.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { type AuthResult, authenticate, SigningKeyCache } from '../../../src/s3/auth/index.js';
import { S3Error } from '../../../src/s3/errors.js';
import { type Captured, type CaptureServer, lookup, plainGet, sdkClient, startCaptureServer } from './_capture.js';

let server: CaptureServer;
let client: S3Client;
const signingKeys = new SigningKeyCache();

test.before(async () => {
  server = await startCaptureServer();
  client = sdkClient(server.endpoint);
});
test.after.always(async () => {
  client?.destroy();
  await server?.close();
});

async function capture(send: () => Promise<unknown>): Promise<Captured> {
  const before = server.requests.length;
  await send().catch(() => undefined); // the server's answers are minimal; only the request matters
  return server.requests[before];
}

function verify(c: Captured, now = new Date(), distinct = false): Promise<AuthResult> {
  return authenticate({ method: c.method, rawUrl: c.rawUrl, headers: distinct ? c.distinct : c.headers, now }, lookup, {
    region: 'us-east-1',
    signingKeys,
  });
}

const KEYS = [
  'plain.txt',
  'two words+plus.txt',
  'ünï/ä.txt',
  "~*'()!$.txt",
  'a//double//slash',
  'dir/',
  '100% & = ? # ; , : @ [ ] { } | ^ ` "q" <x>',
  '日本語/キー',
  ' lead and trail ',
  '%2F-not-a-slash',
  'emoji 🎉',
];

for (const key of KEYS) {
  test.serial(`SDK PutObject header auth verifies: ${JSON.stringify(key)}`, async (t) => {
    const c = await capture(() => client.send(new PutObjectCommand({ Bucket: 'sdkb', Key: key, Body: 'hello' })));
    t.truthy(c, 'request captured');
    const auth = await verify(c);
    t.like(auth, { kind: 'signed', accessKeyId: 'AKIDEXAMPLE', version: 4, via: 'header', region: 'us-east-1' });
    t.deepEqual(auth.kind === 'signed' && auth.payload.kind, 'sha256');
    t.deepEqual(await verify(c, new Date(), true), auth, 'headersDistinct works the same');
  });

  test.serial(`SDK presigned GET verifies: ${JSON.stringify(key)}`, async (t) => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'sdkb', Key: key }), { expiresIn: 300 });
    const c = await capture(() => plainGet(url));
    const auth = await verify(c);
    t.like(auth, { kind: 'signed', version: 4, via: 'query', payload: { kind: 'unsigned' } });
  });
}

/** Re-spells a raw URL's path with lower-case escapes and needlessly escaped letters: same canonical URI. */
function respell(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const respelled = path.replace(/%[0-9A-F]{2}|[a-z]/g, (m) =>
    m.startsWith('%') ? m.toLowerCase() : `%${m.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return respelled + (q < 0 ? '' : rawUrl.slice(q));
}

test.serial('SDK signatures match the normalised canonical URI, not only the verbatim path', async (t) => {
  for (const key of KEYS) {
    const c = await capture(() => client.send(new GetObjectCommand({ Bucket: 'sdkb', Key: key })));
    const rawUrl = respell(c.rawUrl);
    t.not(rawUrl, c.rawUrl);
    t.like(await verify({ ...c, rawUrl }), { kind: 'signed' }, key);
  }
});

test.serial('SDK ranged GetObject (range is signed) verifies', async (t) => {
  const c = await capture(() => client.send(new GetObjectCommand({ Bucket: 'sdkb', Key: 'disk.qcow2', Range: 'bytes=0-262655' })));
  t.is(c.headers.range, 'bytes=0-262655');
  t.like(await verify(c), { kind: 'signed', version: 4 });
});

test.serial('SDK HeadObject and ListObjectsV2 with prefix/delimiter verify', async (t) => {
  const head = await capture(() => client.send(new HeadObjectCommand({ Bucket: 'sdkb', Key: 'x y' })));
  t.like(await verify(head), { kind: 'signed' });
  const list = await capture(() =>
    client.send(new ListObjectsV2Command({ Bucket: 'sdkb', Prefix: 'tree/a b+c', Delimiter: '/', StartAfter: 'tree/~x', MaxKeys: 2 })),
  );
  t.regex(list.rawUrl, /list-type=2/);
  t.like(await verify(list), { kind: 'signed' });
});

test.serial('SDK stream PutObject announces STREAMING-UNSIGNED-PAYLOAD-TRAILER and verifies', async (t) => {
  const { Readable } = await import('node:stream');
  const c = await capture(() =>
    client.send(new PutObjectCommand({ Bucket: 'sdkb', Key: 'stream.txt', Body: Readable.from([Buffer.from('hello stream\n')]), ContentLength: 13 })),
  );
  const auth = await verify(c);
  t.like(auth, { kind: 'signed', payload: { kind: 'streaming-unsigned-trailer' } });
  t.is(auth.kind === 'signed' ? auth.chunkSigner : 'x', undefined);
});

test.serial('a tampered SDK request fails with SignatureDoesNotMatch and AWS diagnostic fields', async (t) => {
  const c = await capture(() => client.send(new PutObjectCommand({ Bucket: 'sdkb', Key: 'k', Body: 'hello' })));
  const tampered = { ...c, rawUrl: c.rawUrl.replace('/k', '/K') };
  const err = await t.throwsAsync(verify(tampered), { instanceOf: S3Error });
  t.is(err.code, 'SignatureDoesNotMatch');
  t.is(err.status, 403);
  t.is(err.extra.AWSAccessKeyId, 'AKIDEXAMPLE');
  t.regex(err.extra.StringToSign, /^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
  t.true(err.extra.CanonicalRequest.startsWith('PUT\n/sdkb/K\nx-id=PutObject\n'));
  t.regex(err.extra.StringToSignBytes, /^41 57 53 34 /);
});

test.serial('an unsigned x-amz-* header added after signing is refused', async (t) => {
  const c = await capture(() => client.send(new GetObjectCommand({ Bucket: 'sdkb', Key: 'k' })));
  const err = await t.throwsAsync(verify({ ...c, headers: { ...c.headers, 'x-amz-acl': 'public-read' } }), { instanceOf: S3Error });
  t.is(err.code, 'AccessDenied');
  t.is(err.extra.HeadersNotSigned, 'x-amz-acl');
});

test.serial('presigned URL: expired → AccessDenied "Request has expired" with AWS fields', async (t) => {
  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'sdkb', Key: 'k' }), { expiresIn: 60 });
  const c = await capture(() => plainGet(url));
  const later = new Date(Date.now() + 61_000 + 2_000);
  const err = await t.throwsAsync(verify(c, later), { instanceOf: S3Error });
  t.is(err.code, 'AccessDenied');
  t.is(err.message, 'Request has expired');
  t.is(err.extra['X-Amz-Expires'], '60');
  t.regex(err.extra.Expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.regex(err.extra.ServerTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test.serial('presigned URL: X-Amz-Date beyond the skew in the future → "Request is not yet valid"', async (t) => {
  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'sdkb', Key: 'k' }), { expiresIn: 3600 });
  const c = await capture(() => plainGet(url));
  const earlier = new Date(Date.now() - 16 * 60_000);
  const err = await t.throwsAsync(verify(c, earlier), { instanceOf: S3Error });
  t.is(err.code, 'AccessDenied');
  t.is(err.message, 'Request is not yet valid');
  // Within the skew it is fine.
  t.like(await verify(c, new Date(Date.now() - 14 * 60_000)), { kind: 'signed' });
});

test.serial('presigned PUT with a signed content-type verifies only with that content-type', async (t) => {
  const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'sdkb', Key: 'up load.bin', ContentType: 'text/plain' }), {
    expiresIn: 300,
    signableHeaders: new Set(['content-type']),
  });
  const c = await capture(() => plainGet(url, { 'content-type': 'text/plain' }, 'PUT'));
  t.like(await verify(c), { kind: 'signed', via: 'query' });
  const err = await t.throwsAsync(verify({ ...c, headers: { ...c.headers, 'content-type': 'text/html' } }), { instanceOf: S3Error });
  t.is(err.code, 'SignatureDoesNotMatch');
});

test.serial('header auth: clock skew beyond 15 minutes → RequestTimeTooSkewed', async (t) => {
  const c = await capture(() => client.send(new GetObjectCommand({ Bucket: 'sdkb', Key: 'k' })));
  const err = await t.throwsAsync(verify(c, new Date(Date.now() + 16 * 60_000)), { instanceOf: S3Error });
  t.is(err.code, 'RequestTimeTooSkewed');
  t.is(err.status, 403);
  t.is(err.extra.RequestTime, c.headers['x-amz-date'] as string);
  t.is(err.extra.MaxAllowedSkewMilliseconds, '900000');
  t.truthy(err.extra.ServerTime);
});

test.serial('unknown access key → InvalidAccessKeyId', async (t) => {
  const other = sdkClient(server.endpoint, { credentials: { accessKeyId: 'NOPE', secretAccessKey: 'x' } });
  const c = await capture(() => other.send(new GetObjectCommand({ Bucket: 'sdkb', Key: 'k' })));
  other.destroy();
  const err = await t.throwsAsync(verify(c), { instanceOf: S3Error });
  t.is(err.code, 'InvalidAccessKeyId');
  t.is(err.extra.AWSAccessKeyId, 'NOPE');
});

test.serial('credential scope in another region → AuthorizationHeaderMalformed naming the expected region', async (t) => {
  const other = sdkClient(server.endpoint, { region: 'eu-west-1' });
  const c = await capture(() => other.send(new GetObjectCommand({ Bucket: 'sdkb', Key: 'k' })));
  const url = await getSignedUrl(other, new GetObjectCommand({ Bucket: 'sdkb', Key: 'k' }), { expiresIn: 60 });
  const q = await capture(() => plainGet(url));
  other.destroy();
  const err = await t.throwsAsync(verify(c), { instanceOf: S3Error });
  t.is(err.code, 'AuthorizationHeaderMalformed');
  t.is(err.message, "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
  t.is(err.extra.Region, 'us-east-1');
  const qerr = await t.throwsAsync(verify(q), { instanceOf: S3Error });
  t.is(qerr.code, 'AuthorizationQueryParametersError');
  t.is(qerr.extra.Region, 'us-east-1');
});
