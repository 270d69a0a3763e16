/**
 * Debian's boto3 (1.26, /usr/bin/python3) for what boto3-objects.test.ts does not cover: presigned URLs
 * (SigV2 query auth, boto3's default, and SigV4) fetched with plain urllib, an expired one refused, and
 * listings with `encoding-type=url` (botocore asks for it and decodes with unquote_plus, so `+` must come
 * back as %2B) over keys with spaces, `+`, Unicode and delimiters, paged.
 */
import test from 'ava';
import { boto3 } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
});
test.after.always(async () => cluster?.close());

const prelude = `
import json, sys, time, urllib.request, urllib.error, boto3
from botocore.config import Config
args = json.loads(sys.argv[1])
def client(**kw):
    return boto3.client('s3', endpoint_url=args['endpoint'], aws_access_key_id=args['ak'], aws_secret_access_key=args['sk'], region_name='us-east-1', **kw)
def fetch(url, method='GET', data=None, headers={}):
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return [r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}]
    except urllib.error.HTTPError as e:
        return [e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}]
`;

test('presigned GET and PUT URLs, SigV2 (default) and SigV4, fetched with urllib; expiry', async (t) => {
  const script = `${prelude}
s3 = client()
v4 = client(config=Config(signature_version='s3v4'))
s3.create_bucket(Bucket='presign')
key = 'dir/a key+plus ü.txt'
s3.put_object(Bucket='presign', Key=key, Body=b'presigned body', ContentType='text/plain')
out = {}
out['v2url'] = s3.generate_presigned_url('get_object', Params={'Bucket': 'presign', 'Key': key}, ExpiresIn=300)
out['v2'] = fetch(out['v2url'])[:2]
out['v4url'] = v4.generate_presigned_url('get_object', Params={'Bucket': 'presign', 'Key': key}, ExpiresIn=300)
out['v4'] = fetch(out['v4url'])[:2]
over = s3.generate_presigned_url('get_object', Params={'Bucket': 'presign', 'Key': key, 'ResponseContentType': 'application/x-override', 'ResponseContentDisposition': 'attachment; filename="x.txt"'}, ExpiresIn=300)
r = fetch(over)
out['override'] = [r[0], r[2].get('content-type'), r[2].get('content-disposition')]
# SigV2 signs the Content-Type (urllib would send a form type otherwise), so the URL names it.
put = s3.generate_presigned_url('put_object', Params={'Bucket': 'presign', 'Key': 'put-v2', 'ContentType': 'text/plain'}, ExpiresIn=300)
out['putV2'] = fetch(put, 'PUT', b'put through a v2 url', {'Content-Type': 'text/plain'})[0]
put4 = v4.generate_presigned_url('put_object', Params={'Bucket': 'presign', 'Key': 'put-v4'}, ExpiresIn=300)
out['putV4'] = fetch(put4, 'PUT', b'put through a v4 url', {'Content-Type': 'text/plain'})[0]
out['putBodies'] = [s3.get_object(Bucket='presign', Key=k)['Body'].read().decode() for k in ('put-v2', 'put-v4')]
expired2 = s3.generate_presigned_url('get_object', Params={'Bucket': 'presign', 'Key': key}, ExpiresIn=1)
expired4 = v4.generate_presigned_url('get_object', Params={'Bucket': 'presign', 'Key': key}, ExpiresIn=1)
time.sleep(2.1)
out['expired'] = [fetch(expired2)[:2], fetch(expired4)[:2]]
tampered = out['v2url'].replace('presign/dir', 'presign/dIr')
out['tampered'] = fetch(tampered)[:2]
print(json.dumps(out))
`;
  const r = await boto3(cluster, script);
  t.is(r.code, 0, r.stderr);
  const out = r.out as {
    v2url: string;
    v4url: string;
    v2: [number, string];
    v4: [number, string];
    override: [number, string, string];
    putV2: number;
    putV4: number;
    putBodies: string[];
    expired: Array<[number, string]>;
    tampered: [number, string];
  };
  t.regex(out.v2url, /AWSAccessKeyId=.*Signature=.*Expires=/, 'boto3 presigns with SigV2 by default');
  t.regex(out.v4url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
  t.deepEqual(out.v2, [200, 'presigned body']);
  t.deepEqual(out.v4, [200, 'presigned body']);
  t.deepEqual(out.override, [200, 'application/x-override', 'attachment; filename="x.txt"']);
  t.is(out.putV2, 200);
  t.is(out.putV4, 200);
  t.deepEqual(out.putBodies, ['put through a v2 url', 'put through a v4 url']);
  for (const [status, body] of out.expired) {
    t.is(status, 403);
    t.regex(body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  }
  t.is(out.tampered[0], 403);
  t.regex(out.tampered[1], /SignatureDoesNotMatch/);
});

test('list_objects_v2 and list_objects with encoding-type url: spaces, +, %, Unicode, delimiters, pages', async (t) => {
  const keys = ['a b/c d.txt', 'a b/e+f.txt', 'a+b/g.txt', 'plain.txt', 'per%cent', 'ü/ß €.txt', 'x y+z'];
  const script = `${prelude}
s3 = client()
s3.create_bucket(Bucket='encoded')
for k in args['keys']:
    s3.put_object(Bucket='encoded', Key=k, Body=k.encode())
out = {}
seen, token, pages = [], None, 0
while True:
    kw = {'Bucket': 'encoded', 'MaxKeys': 2}
    if token: kw['ContinuationToken'] = token
    page = s3.list_objects_v2(**kw)
    pages += 1
    seen += [c['Key'] for c in page.get('Contents', [])]
    if not page.get('IsTruncated'): break
    token = page['NextContinuationToken']
out['v2'] = seen
out['pages'] = pages
d = s3.list_objects_v2(Bucket='encoded', Delimiter='/')
out['prefixes'] = [p['Prefix'] for p in d.get('CommonPrefixes', [])]
out['top'] = [c['Key'] for c in d.get('Contents', [])]
sub = s3.list_objects_v2(Bucket='encoded', Prefix='a b/', Delimiter='/', StartAfter='a b/c d.txt')
out['sub'] = [sub['Prefix'], sub.get('StartAfter'), [c['Key'] for c in sub.get('Contents', [])]]
v1, marker = [], ''
while True:
    page = s3.list_objects(Bucket='encoded', MaxKeys=3, Marker=marker, Delimiter='/')
    v1 += [c['Key'] for c in page.get('Contents', [])] + [p['Prefix'] for p in page.get('CommonPrefixes', [])]
    if not page.get('IsTruncated'): break
    marker = page.get('NextMarker')
out['v1'] = sorted(v1)
out['gets'] = [s3.get_object(Bucket='encoded', Key=k)['Body'].read().decode() == k for k in args['keys']]
out['deleted'] = sorted(d['Key'] for d in s3.delete_objects(Bucket='encoded', Delete={'Objects': [{'Key': k} for k in args['keys']], 'Quiet': False})['Deleted'])
out['left'] = s3.list_objects_v2(Bucket='encoded').get('KeyCount')
print(json.dumps(out))
`;
  const r = await boto3(cluster, script, { keys });
  t.is(r.code, 0, r.stderr);
  const out = r.out as Record<string, unknown>;
  const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  t.deepEqual(out.v2, sorted);
  t.is(out.pages, 4);
  t.deepEqual(out.prefixes, ['a b/', 'a+b/', 'ü/']);
  t.deepEqual(out.top, ['per%cent', 'plain.txt', 'x y+z']);
  t.deepEqual(out.sub, ['a b/', 'a b/c d.txt', ['a b/e+f.txt']]);
  t.deepEqual(out.v1, ['a b/', 'a+b/', 'per%cent', 'plain.txt', 'x y+z', 'ü/'].sort());
  t.deepEqual(out.gets, keys.map(() => true));
  t.deepEqual(out.deleted, [...keys].sort());
  t.is(out.left, 0);
});
