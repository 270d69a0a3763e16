import test from 'ava';
import { ArcaError } from '../../../src/common/errors.js';
import { renderErrorXml, S3_ERRORS, S3Error, type S3ErrorCode, toS3Error } from '../../../src/s3/errors.js';
import { parseXml } from '../../../src/s3/xml.js';

test('the catalogue carries AWS statuses', (t) => {
  const expected: Partial<Record<S3ErrorCode, number>> = {
    AccessDenied: 403,
    BadDigest: 400,
    BucketAlreadyExists: 409,
    BucketAlreadyOwnedByYou: 409,
    BucketNotEmpty: 409,
    EntityTooLarge: 400,
    EntityTooSmall: 400,
    IncompleteBody: 400,
    InternalError: 500,
    InvalidAccessKeyId: 403,
    InvalidArgument: 400,
    InvalidBucketName: 400,
    InvalidDigest: 400,
    InvalidPart: 400,
    InvalidPartOrder: 400,
    InvalidRange: 416,
    InvalidRequest: 400,
    KeyTooLongError: 400,
    MalformedXML: 400,
    MetadataTooLarge: 400,
    MethodNotAllowed: 405,
    MissingContentLength: 411,
    NoSuchBucket: 404,
    NoSuchKey: 404,
    NoSuchUpload: 404,
    NotImplemented: 501,
    NotModified: 304,
    PreconditionFailed: 412,
    RequestTimeTooSkewed: 403,
    RequestTimeout: 400,
    ServiceUnavailable: 503,
    SignatureDoesNotMatch: 403,
    SlowDown: 503,
    XAmzContentSHA256Mismatch: 400,
    AuthorizationHeaderMalformed: 400,
    AuthorizationQueryParametersError: 400,
  };
  for (const [code, status] of Object.entries(expected)) t.is(S3_ERRORS[code as S3ErrorCode].status as number, status, code);
  for (const [code, spec] of Object.entries(S3_ERRORS)) t.true(spec.message.length > 0, code);
});

test('S3Error carries code, status, message and extra fields', (t) => {
  const e = new S3Error('NoSuchKey', { extra: { Key: 'a&b' } });
  t.is(e.code, 'NoSuchKey');
  t.is(e.status, 404);
  t.is(e.message, 'The specified key does not exist.');
  t.deepEqual(e.extra, { Key: 'a&b' });
  t.true(e instanceof Error);
  t.is(new S3Error('InvalidArgument', { message: 'x' }).message, 'x');
});

test('renderErrorXml is the AWS error document', (t) => {
  const e = new S3Error('NoSuchKey', { extra: { Key: 'dir/a&b<c>' } });
  const xml = renderErrorXml(e, { resource: '/bucket/dir/a&b<c>', requestId: '4442587FB7D0A2F9', hostId: 'host/id=' });
  t.is(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>' +
      '<Key>dir/a&amp;b&lt;c&gt;</Key><Resource>/bucket/dir/a&amp;b&lt;c&gt;</Resource><RequestId>4442587FB7D0A2F9</RequestId>' +
      '<HostId>host/id=</HostId></Error>',
  );
  const root = parseXml(xml);
  t.is(root.textOf('Code'), 'NoSuchKey');
  t.is(root.textOf('Key'), 'dir/a&b<c>');
  t.false(renderErrorXml(e, { resource: '/', requestId: 'r' }).includes('HostId'));
});

test('toS3Error maps domain errors and hides internal messages', (t) => {
  const cases: [ArcaError, S3ErrorCode][] = [
    [new ArcaError('BadDigest', 'md5 mismatch'), 'BadDigest'],
    [new ArcaError('PreconditionFailed', 'if-match'), 'PreconditionFailed'],
    [new ArcaError('InsufficientReplicas', '1 of 3 nodes at /srv/node/sdb1'), 'ServiceUnavailable'],
    [new ArcaError('ClientAborted', 'socket closed'), 'IncompleteBody'],
    [new ArcaError('Timeout', 'node 10.0.0.5 slow'), 'ServiceUnavailable'],
    [new ArcaError('Timeout', 'client idle', { side: 'client' }), 'RequestTimeout'],
    [new ArcaError('Conflict', 'racing writes'), 'OperationAborted'],
    [new ArcaError('NotFound', 'no such object /a/b/c'), 'InternalError'],
    [new ArcaError('InvalidRing', 'ring file /etc/arca/object.ring.gz corrupt'), 'InternalError'],
  ];
  for (const [err, code] of cases) {
    const s3 = toS3Error(err);
    t.is(s3.code, code, err.message);
    t.is(s3.message, S3_ERRORS[code].message, 'default message, never the internal one');
    t.is(s3.cause, err);
  }
  const plain = toS3Error(new TypeError('cannot read x of undefined at /work/secret/path.ts'));
  t.is(plain.code, 'InternalError');
  t.is(plain.status, 500);
  t.false(plain.message.includes('secret'));
  const same = new S3Error('SlowDown');
  t.is(toS3Error(same), same);
  t.is(toS3Error('a string').code, 'InternalError');
});
