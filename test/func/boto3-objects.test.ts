/**
 * Debian's boto3 (1.26, /usr/bin/python3) against the cluster: managed multipart upload_file/download_file
 * (8 MiB threshold, concurrent parts), managed copy (UploadPartCopy), delete_objects (Content-MD5), and
 * generate_presigned_post in both signature versions posted as a browser form would be.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { runCommand } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
});
test.after.always(async () => cluster?.close());

const script = `
import json, sys, boto3, urllib3
from botocore.config import Config
args = json.loads(sys.argv[1])
def client(**kw):
    return boto3.client('s3', endpoint_url=args['endpoint'], aws_access_key_id=args['ak'], aws_secret_access_key=args['sk'], region_name='us-east-1', **kw)
s3 = client()
out = {}
s3.create_bucket(Bucket='boto')
s3.upload_file(args['file'], 'boto', 'big.bin')
out['etag'] = s3.head_object(Bucket='boto', Key='big.bin')['ETag']
s3.download_file('boto', 'big.bin', args['file'] + '.back')
out['same'] = open(args['file'], 'rb').read() == open(args['file'] + '.back', 'rb').read()
s3.copy({'Bucket': 'boto', 'Key': 'big.bin'}, 'boto', 'copy.bin')
out['copyEtag'] = s3.head_object(Bucket='boto', Key='copy.bin')['ETag']
out['uploadsLeft'] = len(s3.list_multipart_uploads(Bucket='boto').get('Uploads', []))
out['deleted'] = sorted(d['Key'] for d in s3.delete_objects(Bucket='boto', Delete={'Objects': [{'Key': 'copy.bin'}, {'Key': 'nothing'}]})['Deleted'])
http = urllib3.PoolManager()
def post(c, key, body):
    p = c.generate_presigned_post('boto', key, Conditions=[['content-length-range', 1, 100]])
    fields = dict(p['fields'])
    fields['file'] = ('hello.txt', body)
    r = http.request('POST', p['url'], fields=fields)
    return r.status, c.get_object(Bucket='boto', Key=key.replace('$' + '{filename}', 'hello.txt'))['Body'].read().decode() if r.status < 300 else r.data.decode()
out['postV2'] = post(s3, 'posted/$' + '{filename}', b'posted with v2')
out['postV4'] = post(client(config=Config(signature_version='s3v4')), 'posted/v4', b'posted with v4')
out['tooBig'] = post(s3, 'posted/big', b'x' * 101)[0]
print(json.dumps(out))
`;

test('boto3: managed multipart upload and download, managed copy, delete_objects, presigned POST forms', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-boto3-'));
  const file = join(dir, 'big.bin');
  writeFileSync(file, randomBytes(19 * 1024 * 1024));
  const args = JSON.stringify({ endpoint: cluster.endpoint, ak: cluster.accessKey, sk: cluster.secretKey, file });
  const r = await runCommand('/usr/bin/python3', ['-c', script, args], { HOME: dir });
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  t.regex(out.etag, /^"[0-9a-f]{32}-3"$/, '19 MiB in 8 MiB parts');
  t.true(out.same);
  t.is(out.copyEtag, out.etag, 'a managed copy keeps the part layout');
  t.is(out.uploadsLeft, 0);
  t.deepEqual(out.deleted, ['copy.bin', 'nothing']);
  t.deepEqual(out.postV2, [204, 'posted with v2']);
  t.deepEqual(out.postV4, [204, 'posted with v4']);
  t.is(out.tooBig, 400);
});
