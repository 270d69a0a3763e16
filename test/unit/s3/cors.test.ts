import test from 'ava';
import type { BucketInfo } from '../../../src/proxy/object-store.js';
import { actualRequestCorsHeaders, corsHeaders, corsXml, matchCorsRule, parseCorsXml } from '../../../src/s3/cors.js';
import type { S3Error } from '../../../src/s3/errors.js';

const config = `<CORSConfiguration>
  <CORSRule><ID>site</ID><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>
  <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
</CORSConfiguration>`;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as S3Error).code;
  }
  return 'none';
}

test('parse, render, parse again', (t) => {
  const rules = parseCorsXml(Buffer.from(config));
  t.is(rules.length, 2);
  t.deepEqual(rules[0], {
    id: 'site',
    allowedOrigins: ['https://*.example.com'],
    allowedMethods: ['GET', 'PUT'],
    allowedHeaders: ['x-amz-*', 'Content-Type'],
    exposeHeaders: ['ETag'],
    maxAgeSeconds: 600,
  });
  t.deepEqual(parseCorsXml(Buffer.from(corsXml(rules))), rules);
});

test('invalid configurations', (t) => {
  const rule = (inner: string) => Buffer.from(`<CORSConfiguration><CORSRule>${inner}</CORSRule></CORSConfiguration>`);
  t.is(code(() => parseCorsXml(Buffer.from('<CORSConfiguration/>'))), 'MalformedXML');
  t.is(code(() => parseCorsXml(rule('<AllowedMethod>GET</AllowedMethod>'))), 'MalformedXML');
  t.is(code(() => parseCorsXml(rule('<AllowedOrigin>*</AllowedOrigin>'))), 'MalformedXML');
  t.is(code(() => parseCorsXml(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>'))), 'InvalidRequest');
  t.is(code(() => parseCorsXml(rule('<AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'))), 'InvalidRequest');
  t.is(code(() => parseCorsXml(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds>'))), 'MalformedXML');
  t.is(code(() => parseCorsXml(rule('<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Bogus/>'))), 'MalformedXML');
  t.is(code(() => parseCorsXml(Buffer.from('<CORSConfiguration><CORSRule>'))), 'MalformedXML');
});

test('matching: origin wildcard, method, request headers case-insensitively', (t) => {
  const rules = parseCorsXml(Buffer.from(config));
  t.is(matchCorsRule(rules, 'https://app.example.com', 'PUT', ['x-amz-meta-a', 'content-type'])?.id, 'site');
  t.is(matchCorsRule(rules, 'https://app.example.com', 'PUT', ['authorization']), undefined);
  t.is(matchCorsRule(rules, 'http://app.example.com', 'GET'), undefined);
  t.is(matchCorsRule(rules, 'https://anything', 'HEAD')?.allowedOrigins[0], '*');
  t.is(matchCorsRule(rules, 'https://anything', 'DELETE'), undefined);
});

test('response headers: echoed origin with credentials, or * without', (t) => {
  const [site, any] = parseCorsXml(Buffer.from(config));
  t.deepEqual(corsHeaders(site, 'https://a.example.com', ['content-type']), {
    'access-control-allow-origin': 'https://a.example.com',
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, PUT',
    'access-control-allow-headers': 'content-type',
    'access-control-expose-headers': 'ETag',
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  });
  t.is(corsHeaders(any, 'https://x')['access-control-allow-origin'], '*');
  t.false('access-control-allow-credentials' in corsHeaders(any, 'https://x'));
  const bucket = { meta: { cors: [site] } } as unknown as BucketInfo;
  t.deepEqual(actualRequestCorsHeaders(bucket, 'https://evil.test', 'GET'), { vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method' });
  t.is(actualRequestCorsHeaders({ meta: {} } as BucketInfo, 'https://a.example.com', 'GET'), undefined);
});
