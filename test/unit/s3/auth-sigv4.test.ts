/**
 * SigV4: AWS's documented examples as fixed vectors, aws4 as an independent oracle over random keys and
 * queries, and the error answers for malformed requests.
 */
import test from 'ava';
import aws4 from 'aws4';
import fc from 'fast-check';
import { type AuthRequest, authenticate, SigningKeyCache } from '../../../src/s3/auth/index.js';
import { canonicalQuery, canonicalUri, parseQuery } from '../../../src/s3/auth/canonical.js';
import { S3Error, type S3ErrorCode } from '../../../src/s3/errors.js';

const DOC_AKID = 'AKIAIOSFODNN7EXAMPLE';
const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DOC_NOW = new Date('2013-05-24T00:00:00Z');
const DOC_HOST = 'examplebucket.s3.amazonaws.com';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const docLookup = async (k: string) => (k === DOC_AKID ? DOC_SECRET : undefined);
const opts = { region: 'us-east-1', signingKeys: new SigningKeyCache() };

function docAuth(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=${DOC_AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
}

function doc(method: string, rawUrl: string, headers: Record<string, string>, now = DOC_NOW): AuthRequest {
  return { method, rawUrl, headers: { host: DOC_HOST, ...headers }, now };
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (examples)
const DOC_VECTORS: [string, AuthRequest][] = [
  [
    'GET Object with Range',
    doc('GET', '/test.txt', {
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
      authorization: docAuth('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
    }),
  ],
  [
    'PUT Object with Date and storage class',
    doc('PUT', '/test%24file.text', {
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      authorization: docAuth(
        'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
        '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
      ),
    }),
  ],
  [
    'GET Bucket Lifecycle (?lifecycle ≡ lifecycle=)',
    doc('GET', '/?lifecycle', {
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
      authorization: docAuth('host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'),
    }),
  ],
  [
    'GET Bucket (List Objects), query sorted',
    doc('GET', '/?prefix=J&max-keys=2', {
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
      authorization: docAuth('host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'),
    }),
  ],
  [
    'presigned GET Object',
    doc(
      'GET',
      '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      {},
      new Date('2013-05-24T12:00:00Z'),
    ),
  ],
];

for (const [name, req] of DOC_VECTORS) {
  test(`AWS documented example verifies: ${name}`, async (t) => {
    const auth = await authenticate(req, docLookup, opts);
    t.like(auth, { kind: 'signed', accessKeyId: DOC_AKID, version: 4 });
    // One changed byte in the signature fails.
    const bad = structuredClone(req);
    if (typeof bad.headers.authorization === 'string') bad.headers.authorization = bad.headers.authorization.replace(/.$/, '0');
    else bad.rawUrl = bad.rawUrl.replace(/.$/, '0');
    await t.throwsAsync(authenticate(bad, docLookup, opts), { instanceOf: S3Error, message: /signature we calculated/ });
  });
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and sigv4-streaming-trailers.html
test('AWS streaming examples: the seed requests verify and yield a chunk signer', async (t) => {
  const base = {
    'content-encoding': 'aws-chunked',
    'content-length': '66824',
    'x-amz-date': '20130524T000000Z',
    'x-amz-decoded-content-length': '66560',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
  };
  const signed = await authenticate(
    doc('PUT', '/examplebucket/chunkObject.txt', {
      ...base,
      host: 's3.amazonaws.com',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      authorization: docAuth(
        'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
        '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      ),
    }),
    docLookup,
    opts,
  );
  t.like(signed, { kind: 'signed', payload: { kind: 'streaming-signed', trailer: false } });
  t.is(signed.kind === 'signed' && signed.chunkSigner?.previousSignature, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');

  const trailer = await authenticate(
    doc('PUT', '/examplebucket/chunkObject.txt', {
      ...base,
      host: 's3.amazonaws.com',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32c',
      authorization: docAuth(
        'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
        '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
      ),
    }),
    docLookup,
    opts,
  );
  t.like(trailer, { kind: 'signed', payload: { kind: 'streaming-signed', trailer: true } });
});

// --- aws4 as an oracle --------------------------------------------------------------------------------

/** Encodes a key as the SDK puts it in a path: per segment, RFC 3986 (also `!'()*`), `/` kept. */
function sdkPath(bucket: string, key: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `/${bucket}/${key.split('/').map(enc).join('/')}`;
}

function fromAws4(signed: aws4.Request & { path?: string }, method: string): AuthRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const amzDate = headers['x-amz-date'] ?? /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(signed.path ?? '')![1];
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate)!;
  return { method, rawUrl: signed.path!, headers, now: new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) };
}

const keyArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((k) => !k.includes('\u0000'));
const queryArb = fc.uniqueArray(
  fc.tuple(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.~-]{0,10}$/), fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }), { nil: undefined })),
  { selector: (p) => p[0], maxLength: 4 },
);
const creds = { accessKeyId: 'AKIDORACLE', secretAccessKey: 'oracle/secret+key' };
const oracleLookup = async (k: string) => (k === creds.accessKeyId ? creds.secretAccessKey : undefined);

test('aws4 oracle: header-signed requests over random keys, queries and ranges verify', async (t) => {
  await fc.assert(
    fc.asyncProperty(keyArb, queryArb, fc.constantFrom('GET', 'PUT', 'HEAD', 'DELETE'), fc.boolean(), async (key, query, method, ranged) => {
      const qs = query.map(([k, v]) => (v === undefined ? k : `${k}=${encodeURIComponent(v)}`)).join('&');
      const path = sdkPath('bucket', key) + (qs ? `?${qs}` : '');
      const headers: Record<string, string> = { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'X-Amz-Meta-Note': '  spaced   value ' };
      if (ranged) headers.Range = 'bytes=0-99';
      const signed = aws4.sign(
        { host: '127.0.0.1:9000', method, path, service: 's3', region: 'us-east-1', headers, extraHeadersToInclude: { range: true } } as aws4.Request,
        creds,
      );
      const auth = await authenticate(fromAws4(signed, method), oracleLookup, opts);
      t.is(auth.kind, 'signed');
    }),
    { numRuns: 300 },
  );
});

test('aws4 oracle: presigned (signQuery) URLs over random keys verify', async (t) => {
  await fc.assert(
    fc.asyncProperty(keyArb, async (key) => {
      const signed = aws4.sign({ host: '127.0.0.1:9000', path: sdkPath('bucket', key), service: 's3', region: 'us-east-1', signQuery: true }, creds);
      const auth = await authenticate(fromAws4(signed, 'GET'), oracleLookup, opts);
      t.like(auth, { kind: 'signed', via: 'query', payload: { kind: 'unsigned' } });
    }),
    { numRuns: 200 },
  );
});

// --- canonical pieces ----------------------------------------------------------------------------------

test('canonical URI normalises escapes and keeps slashes, dots and + literally', (t) => {
  t.is(canonicalUri(''), '/');
  t.is(canonicalUri('/b/a%2fb'), '/b/a%2Fb');
  t.is(canonicalUri('/b/%7e~%41'), '/b/~~A');
  t.is(canonicalUri('/b/a+b c'), '/b/a%2Bb%20c');
  t.is(canonicalUri('/b//./../x'), '/b//./../x');
  t.is(canonicalUri('/b/100%'), '/b/100%25');
  t.is(canonicalUri('/b/ü'), '/b/%C3%BC');
});

test('canonical query: sorted by name then value, k ≡ k=, x-id kept, / encoded', (t) => {
  t.is(canonicalQuery(parseQuery('x-id=PutObject&uploads&b=2&a=1')), 'a=1&b=2&uploads=&x-id=PutObject');
  t.is(canonicalQuery(parseQuery('k=b&k=a')), 'k=a&k=b');
  t.is(canonicalQuery(parseQuery('prefix=a/b&delimiter=%2f')), 'delimiter=%2F&prefix=a%2Fb');
  t.is(canonicalQuery(parseQuery('q=a+b')), 'q=a%2Bb');
});

// --- error answers -------------------------------------------------------------------------------------

function v4Header(extra: Record<string, string>, authorization: string, rawUrl = '/b/k', now = DOC_NOW): AuthRequest {
  return doc('GET', rawUrl, { 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z', authorization, ...extra }, now);
}

async function failsWith(t: import('ava').ExecutionContext, req: AuthRequest, code: S3ErrorCode, message?: RegExp | string) {
  const err = await t.throwsAsync(authenticate(req, docLookup, opts), { instanceOf: S3Error });
  t.is(err.code, code);
  if (typeof message === 'string') t.is(err.message, message);
  else if (message) t.regex(err.message, message);
  return err;
}

const SIG = '0'.repeat(64);
const GOOD_CRED = `${DOC_AKID}/20130524/us-east-1/s3/aws4_request`;

test('malformed Authorization headers', async (t) => {
  await failsWith(t, v4Header({}, `AWS4-HMAC-SHA256 Credential=${GOOD_CRED}, Signature=${SIG}`), 'AuthorizationHeaderMalformed', /requires three components/);
  await failsWith(t, v4Header({}, `AWS4-HMAC-SHA256 Credential=${DOC_AKID}/20130524/us-east-1/s3, SignedHeaders=host, Signature=${SIG}`), 'AuthorizationHeaderMalformed', /Credential is mal-formed/);
  await failsWith(t, v4Header({}, `AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${SIG}`), 'AuthorizationHeaderMalformed', /non-empty Access Key/);
  await failsWith(t, v4Header({}, `AWS4-HMAC-SHA256 Credential=${DOC_AKID}/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${SIG}`), 'AuthorizationHeaderMalformed', /incorrect service "ec2"/);
  await failsWith(t, v4Header({}, `AWS4-HMAC-SHA256 Credential=${DOC_AKID}/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=${SIG}`), 'AuthorizationHeaderMalformed', /incorrect terminal/);
  await failsWith(t, v4Header({}, `AWS4-HMAC-SHA256 Credential=${DOC_AKID}/20130525/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${SIG}`), 'AuthorizationHeaderMalformed', /Invalid credential date/);
  await failsWith(t, v4Header({}, 'Bearer abc'), 'InvalidArgument', 'Unsupported Authorization Type');
  await failsWith(t, v4Header({}, 'AWS4-ECDSA-P256-SHA256 Credential=x'), 'InvalidArgument', 'Unsupported Authorization Type');
});

test('missing or invalid dates and payload hashes', async (t) => {
  const auth = `AWS4-HMAC-SHA256 Credential=${GOOD_CRED}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${SIG}`;
  await failsWith(t, v4Header({ 'x-amz-date': 'yesterday' }, auth), 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const noSha = v4Header({}, auth);
  delete noSha.headers['x-amz-content-sha256'];
  await failsWith(t, noSha, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  const err = await failsWith(t, v4Header({ 'x-amz-content-sha256': 'nope' }, auth), 'InvalidArgument', /x-amz-content-sha256 must be/);
  t.deepEqual(err.extra, { ArgumentName: 'x-amz-content-sha256', ArgumentValue: 'nope' });
  await failsWith(t, v4Header({}, auth, '/b/k', new Date('2013-05-24T00:15:01Z')), 'RequestTimeTooSkewed');
  await failsWith(t, v4Header({}, auth), 'SignatureDoesNotMatch');
});

test('host must be signed', async (t) => {
  const auth = `AWS4-HMAC-SHA256 Credential=${GOOD_CRED}, SignedHeaders=x-amz-content-sha256;x-amz-date, Signature=${SIG}`;
  const err = await failsWith(t, v4Header({}, auth), 'AccessDenied', 'There were headers present in the request which were not signed');
  t.is(err.extra.HeadersNotSigned, 'host');
});

test('unknown key → InvalidAccessKeyId', async (t) => {
  const auth = `AWS4-HMAC-SHA256 Credential=NOPE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${SIG}`;
  const err = await failsWith(t, v4Header({}, auth), 'InvalidAccessKeyId');
  t.is(err.status, 403);
});

test('only one auth mechanism', async (t) => {
  const auth = `AWS4-HMAC-SHA256 Credential=${GOOD_CRED}, SignedHeaders=host, Signature=${SIG}`;
  await failsWith(t, v4Header({}, auth, '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256'), 'InvalidArgument', /^Only one auth mechanism allowed/);
  await failsWith(t, doc('GET', '/b/k?X-Amz-Signature=x&Signature=y', {}), 'InvalidArgument', /^Only one auth mechanism allowed/);
});

function presigned(params: Record<string, string>, now = DOC_NOW): AuthRequest {
  const all: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': GOOD_CRED,
    'X-Amz-Date': '20130524T000000Z',
    'X-Amz-Expires': '3600',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': SIG,
    ...params,
  };
  const qs = Object.entries(all)
    .filter(([, v]) => v !== '-')
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return doc('GET', `/b/k?${qs}`, {}, now);
}

test('presigned URL parameter errors', async (t) => {
  await failsWith(t, presigned({ 'X-Amz-Expires': '-' }), 'AuthorizationQueryParametersError', /requires the X-Amz-Algorithm/);
  await failsWith(t, presigned({ 'X-Amz-Algorithm': 'AWS4-HMAC-SHA1' }), 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  await failsWith(t, presigned({ 'X-Amz-Expires': '604801' }), 'AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  await failsWith(t, presigned({ 'X-Amz-Expires': '-5' }), 'AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative');
  await failsWith(t, presigned({ 'X-Amz-Expires': 'soon' }), 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  await failsWith(t, presigned({ 'X-Amz-Date': '2013-05-24' }), 'AuthorizationQueryParametersError', /ISO8601 Long Format/);
  await failsWith(t, presigned({ 'X-Amz-Credential': 'x/y' }), 'AuthorizationQueryParametersError', /^Error parsing the X-Amz-Credential parameter; the Credential is mal-formed/);
  await failsWith(t, presigned({ 'X-Amz-SignedHeaders': 'x-amz-date' }), 'AccessDenied', /not signed/);
  await failsWith(t, presigned({ 'X-Amz-Expires': '604800' }), 'SignatureDoesNotMatch');
  const expired = await failsWith(t, presigned({}, new Date('2013-05-24T01:00:01Z')), 'AccessDenied', 'Request has expired');
  t.deepEqual(expired.extra, { 'X-Amz-Expires': '3600', Expires: '2013-05-24T01:00:00Z', ServerTime: '2013-05-24T01:00:01Z' });
  const early = await failsWith(t, presigned({}, new Date('2013-05-23T23:44:59Z')), 'AccessDenied', 'Request is not yet valid');
  t.is(early.extra['X-Amz-Date'], String(DOC_NOW.getTime()));
});

test('requests without credentials are anonymous', async (t) => {
  t.deepEqual(await authenticate(doc('GET', '/b/k?Expires=5', {}), docLookup, opts), { kind: 'anonymous' });
  t.deepEqual(await authenticate(doc('GET', '/b/k', { authorization: '' }), docLookup, opts), { kind: 'anonymous' });
});

test('works without a signing-key cache and caches derived keys when given one', async (t) => {
  const [, req] = DOC_VECTORS[0];
  t.like(await authenticate(req, docLookup, { region: 'us-east-1' }), { kind: 'signed' });
  const cache = new SigningKeyCache(2);
  const a = cache.get('s', '20130524', 'us-east-1', 's3');
  t.is(cache.get('s', '20130524', 'us-east-1', 's3'), a);
  cache.get('s', '20130525', 'us-east-1', 's3');
  cache.get('s', '20130526', 'us-east-1', 's3');
  t.not(cache.get('s', '20130524', 'us-east-1', 's3'), a, 'oldest entry evicted');
});
