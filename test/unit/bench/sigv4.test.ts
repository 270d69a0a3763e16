/** bench/lib/sigv4: AWS's documented example as a fixed vector, aws4 as the oracle over random requests. */
import test from 'ava';
import aws4 from 'aws4';
import fc from 'fast-check';
import { EMPTY_SHA256, SigV4Signer, toAmzDate, UNSIGNED_PAYLOAD } from '../../../bench/lib/sigv4.js';

const DOC = new SigV4Signer({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });

test('matches the AWS documentation example (GET Object with Range)', (t) => {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
  const signed = DOC.sign({
    method: 'GET',
    path: '/test.txt',
    host: 'examplebucket.s3.amazonaws.com',
    headers: { range: 'bytes=0-9' },
    payloadHash: EMPTY_SHA256,
    now: new Date('2013-05-24T00:00:00Z'),
  });
  t.is(
    signed.headers.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
      'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
      'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
  t.is(signed.headers['x-amz-date'], '20130524T000000Z');
  t.is(signed.url, '/test.txt');
});

test('signing key is derived once per day and changes with the day', (t) => {
  const s = new SigV4Signer({ accessKeyId: 'a', secretAccessKey: 'b' });
  const k1 = s.signingKey('20240101');
  t.is(s.signingKey('20240101'), k1, 'same Buffer: cached');
  const k2 = s.signingKey('20240102');
  t.not(k2.toString('hex'), k1.toString('hex'));
});

test('x-amz-date of the current second when no time is given', (t) => {
  const s = new SigV4Signer({ accessKeyId: 'a', secretAccessKey: 'b' });
  const before = toAmzDate(new Date(Math.floor(Date.now() / 1000) * 1000));
  const date = s.sign({ method: 'GET', path: '/b/k', host: 'h', payloadHash: EMPTY_SHA256 }).headers['x-amz-date'];
  const after = toAmzDate(new Date());
  t.true(date >= before && date <= after, `${before} <= ${date} <= ${after}`);
});

const segment = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~ !*()\'+%&=?#é日/'), minLength: 1, maxLength: 12 });
const queryPart = fc.string({ unit: fc.constantFrom(...'ab-_.~ +=&%é'), minLength: 1, maxLength: 6 });

test('agrees with aws4 on random keys, queries, methods, regions and payload hashes', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom('GET', 'PUT', 'HEAD', 'DELETE'),
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      fc.uniqueArray(fc.tuple(queryPart, queryPart), { maxLength: 4, selector: ([k]) => k }),
      fc.constantFrom('us-east-1', 'eu-west-3'),
      fc.constantFrom(UNSIGNED_PAYLOAD, EMPTY_SHA256, 'a'.repeat(64)),
      fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
      fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
      (method, segments, query, region, payloadHash, length, now) => {
        const path = `/bucket/${segments.join('/')}`;
        const signer = new SigV4Signer({ accessKeyId: 'AKID', secretAccessKey: 'se/cr+et', region });
        const headers = length === undefined ? undefined : { 'content-length': String(length) };
        const ours = signer.sign({ method, path, query, host: '127.0.0.1:8080', headers, payloadHash, now });
        // aws4 gets our encoded URL and exactly the headers we signed, minus the Authorization.
        const { authorization, ...sent } = ours.headers;
        const theirs = aws4.sign(
          { method, host: '127.0.0.1:8080', path: ours.url, headers: { ...sent }, service: 's3', region },
          { accessKeyId: 'AKID', secretAccessKey: 'se/cr+et' },
        );
        t.is(authorization, String(theirs.headers?.Authorization), `${method} ${ours.url}`);
      },
    ),
    { numRuns: 300 },
  );
});

test('keys are encoded once per segment, slashes kept', (t) => {
  const s = new SigV4Signer({ accessKeyId: 'a', secretAccessKey: 'b' });
  const { url } = s.sign({
    method: 'GET',
    path: "/b/dir/a b+c%(x)!'*~.txt",
    host: 'h',
    query: [
      ['prefix', 'p q'],
      ['list-type', '2'],
    ],
    payloadHash: EMPTY_SHA256,
  });
  t.is(url, '/b/dir/a%20b%2Bc%25%28x%29%21%27%2A~.txt?list-type=2&prefix=p%20q');
});
