/** Parsing before dispatch: addressing, operation names, list parameters, ranges and conditions. */
import test from 'ava';
import { address, isValidBucketName } from '../../../src/s3/addressing.js';
import type { S3Error } from '../../../src/s3/errors.js';
import { encodeName, listParams } from '../../../src/s3/listing.js';
import { checkConditions } from '../../../src/s3/object-response.js';
import { parseRange, resolveRange } from '../../../src/common/byte-range.js';
import { operationOf } from '../../../src/s3/operations.js';
import type { ObjectInfo } from '../../../src/proxy/object-store.js';

test('path-style: /b and /b/ name the bucket; keys are percent-decoded, + is literal', (t) => {
  t.deepEqual([address('/b', 'h', []).bucket, address('/b', 'h', []).key], ['b', undefined]);
  t.deepEqual([address('/b/', 'h', []).bucket, address('/b/', 'h', []).key], ['b', undefined]);
  t.is(address('/b/two%20words%2Bplus.txt', 'h', []).key, 'two words+plus.txt');
  t.is(address('/b/a+b', 'h', []).key, 'a+b');
  t.is(address('/b//double//slash', 'h', []).key, '/double//slash');
  t.is(address('/b/%C3%BCn%C3%AF', 'h', []).key, 'ünï');
  t.is(address('/', 'h', []).bucket, undefined);
  const e = t.throws(() => address('/b/%ZZ', 'h', [])) as S3Error;
  t.is(e.code, 'InvalidURI');
});

test('virtual-host style for configured domains', (t) => {
  const a = address('/dir/file.txt?acl', 'photos.s3.example.com:8080', ['s3.example.com']);
  t.is(a.bucket, 'photos');
  t.is(a.key, 'dir/file.txt');
  t.true(a.virtualHost);
  t.is(address('/photos/x', 'other.host', ['s3.example.com']).bucket, 'photos');
});

test('?k is ?k= and sub-resources pick operations', (t) => {
  const op = (method: string, url: string, headers: Record<string, string> = {}) => {
    const a = address(url, 'h', []);
    return operationOf(method, a.bucket, a.key, a.query, headers);
  };
  t.is(op('GET', '/'), 'ListBuckets');
  t.is(op('PUT', '/b'), 'CreateBucket');
  t.is(op('GET', '/b?location'), 'GetBucketLocation');
  t.is(op('GET', '/b?location='), 'GetBucketLocation');
  t.is(op('GET', '/b?list-type=2&prefix=a'), 'ListObjectsV2');
  t.is(op('GET', '/b?delimiter=%2F'), 'ListObjects');
  t.is(op('POST', '/b?delete'), 'DeleteObjects');
  t.is(op('POST', '/b/k?uploads'), 'CreateMultipartUpload');
  t.is(op('PUT', '/b/k?partNumber=1&uploadId=x'), 'UploadPart');
  t.is(op('PUT', '/b/k?partNumber=1&uploadId=x', { 'x-amz-copy-source': '/a/b' }), 'UploadPartCopy');
  t.is(op('POST', '/b/k?uploadId=x'), 'CompleteMultipartUpload');
  t.is(op('DELETE', '/b/k?uploadId=x'), 'AbortMultipartUpload');
  t.is(op('PUT', '/b/k', { 'x-amz-copy-source': '/a/b' }), 'CopyObject');
  t.is(op('GET', '/b/k?x-id=GetObject'), 'GetObject');
  t.is(op('PATCH', '/b/k'), 'UnknownOperation');
  t.is(op('OPTIONS', '/b/k'), 'PreflightRequest');
});

test('bucket names follow S3 rules', (t) => {
  for (const ok of ['abc', 'my-bucket.1', 'a'.repeat(63)]) t.true(isValidBucketName(ok), ok);
  for (const bad of ['ab', 'a'.repeat(64), 'Bad', 'a..b', '-ab', 'ab-', '192.168.1.1', 'a_b', 'xn--ab', 'ab-s3alias']) t.false(isValidBucketName(bad), bad);
});

test('list parameters: empty delimiter means none; max-keys capped; bad values refused', (t) => {
  t.is(listParams(new URLSearchParams('delimiter=&max-keys=1000&prefix=')).delimiter, '');
  t.is(listParams(new URLSearchParams('max-keys=5000')).maxKeys, 1000);
  t.is((t.throws(() => listParams(new URLSearchParams('max-keys=abc'))) as S3Error).code, 'InvalidArgument');
  t.is((t.throws(() => listParams(new URLSearchParams('encoding-type=base64'))) as S3Error).code, 'InvalidArgument');
});

test('encoding-type=url encodes + and space so unquote_plus restores them', (t) => {
  t.is(encodeName('a b+c/d', true), 'a%20b%2Bc/d');
  t.is(encodeName('<&>', false), '&lt;&amp;&gt;');
});

test('ranges: a-b, a-, -n; bad or multiple ranges are ignored; end clamped', (t) => {
  t.deepEqual(parseRange('bytes=2-4'), { start: 2, end: 4 });
  t.deepEqual(parseRange('bytes=7-'), { start: 7 });
  t.deepEqual(parseRange('bytes=-3'), { suffix: 3 });
  t.is(parseRange('bytes=1-2,4-5'), undefined);
  t.is(parseRange('items=1-2'), undefined);
  t.is(parseRange('bytes=5-2'), undefined);
  t.deepEqual(resolveRange({ start: 8, end: 100 }, 10), { start: 8, end: 9 });
  t.deepEqual(resolveRange({ suffix: 30 }, 10), { start: 0, end: 9 });
  t.is(resolveRange({ start: 10 }, 10), undefined);
  t.is(resolveRange({ suffix: 0 }, 10), undefined);
});

test('conditions: If-Match over If-Unmodified-Since, If-None-Match over If-Modified-Since', (t) => {
  const info: ObjectInfo = { bucket: 'b', key: 'k', ts: '1700000000.500000', size: 1, etag: 'abc', contentType: 'x', meta: {} };
  const when = new Date(1700000000 * 1000).toUTCString();
  const code = (h: Record<string, string>) => {
    try {
      checkConditions(h, info);
      return 'ok';
    } catch (e) {
      return (e as S3Error).code;
    }
  };
  t.is(code({ 'if-match': '"abc"' }), 'ok');
  t.is(code({ 'if-match': '"nope"' }), 'PreconditionFailed');
  t.is(code({ 'if-match': '*', 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' }), 'ok');
  t.is(code({ 'if-none-match': '"abc"' }), 'NotModified');
  t.is(code({ 'if-none-match': '"other"', 'if-modified-since': when }), 'ok');
  t.is(code({ 'if-modified-since': when }), 'NotModified');
  t.is(code({ 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' }), 'PreconditionFailed');
});
