/**
 * Virtual-host-style addressing (`bucket.<domain>`, `virtualHostDomains`) through real clients: the AWS SDK
 * with forcePathStyle off (its connections resolved to loopback, so the Host header is the real thing),
 * lib-storage multipart, a presigned URL fetched with curl --resolve, SigV2 and SigV4 raw requests; and
 * path-style still served on the same proxy, by IP and by the bare domain.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import aws4 from 'aws4';
import { runCommand } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { sendRequest } from '../helpers/raw.js';

const domain = 's3.arca.test';
let cluster: TestCluster;
let port: number;
let vhost: S3Client;
// Every name resolves to loopback, so `bucket.s3.arca.test` reaches the proxy with its Host header intact.
const agent = new http.Agent({
  keepAlive: true,
  lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
    opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
});

test.before(async () => {
  cluster = await startCluster({ nodes: 4, virtualHostDomains: [domain] });
  port = cluster.proxy.port;
  vhost = cluster.s3({ endpoint: `http://${domain}:${port}`, forcePathStyle: false, requestHandler: { httpAgent: agent } });
});
test.after.always(async () => {
  agent.destroy();
  await cluster?.close();
});

/** Records the Host header of every request an SDK client sends. */
function hostsSeen(client: S3Client): string[] {
  const hosts: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers: Record<string, string>; hostname: string; port?: number };
      hosts.push(req.headers.host ?? `${req.hostname}:${req.port}`);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'recordHost' },
  );
  return hosts;
}

test.serial('the SDK with virtual-host-style: create, put, get, head, list, multipart, delete, location', async (t) => {
  const hosts = hostsSeen(vhost);
  await vhost.send(new CreateBucketCommand({ Bucket: 'vhost-b' }));
  const data = Buffer.from('virtually hosted');
  await vhost.send(new PutObjectCommand({ Bucket: 'vhost-b', Key: 'dir/ü key+.txt', Body: data, ContentType: 'text/plain' }));
  const got = await vhost.send(new GetObjectCommand({ Bucket: 'vhost-b', Key: 'dir/ü key+.txt' }));
  t.is(await got.Body!.transformToString(), 'virtually hosted');
  t.is((await vhost.send(new HeadObjectCommand({ Bucket: 'vhost-b', Key: 'dir/ü key+.txt' }))).ContentLength, data.length);
  const big = randomBytes(11 * 1024 * 1024);
  await new Upload({ client: vhost, params: { Bucket: 'vhost-b', Key: 'big.bin', Body: big } }).done();
  const list = await vhost.send(new ListObjectsV2Command({ Bucket: 'vhost-b', Delimiter: '/' }));
  t.deepEqual(list.Contents?.map((c) => c.Key), ['big.bin']);
  t.deepEqual(list.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
  t.is((await vhost.send(new GetBucketLocationCommand({ Bucket: 'vhost-b' }))).LocationConstraint, undefined);
  t.true(hosts.length > 0);
  t.true(hosts.every((h) => h === `vhost-b.${domain}:${port}`), `every request went to the bucket's host: ${[...new Set(hosts)]}`);

  // The same objects, path-style, by IP: one namespace whatever the addressing.
  const path = cluster.s3();
  const back = await path.send(new GetObjectCommand({ Bucket: 'vhost-b', Key: 'big.bin' }));
  t.true(Buffer.from(await back.Body!.transformToByteArray()).equals(big));
  const deleted = await vhost.send(new DeleteObjectsCommand({ Bucket: 'vhost-b', Delete: { Objects: [{ Key: 'big.bin' }, { Key: 'dir/ü key+.txt' }] } }));
  t.is(deleted.Deleted?.length, 2);
  t.is((await path.send(new ListObjectsV2Command({ Bucket: 'vhost-b' }))).KeyCount, 0);
});

test.serial('a presigned virtual-host URL fetched with curl --resolve', async (t) => {
  await cluster.s3().send(new PutObjectCommand({ Bucket: 'vhost-b', Key: 'shared.txt', Body: 'shared' }));
  const url = await getSignedUrl(vhost, new GetObjectCommand({ Bucket: 'vhost-b', Key: 'shared.txt' }), { expiresIn: 60 });
  t.true(url.startsWith(`http://vhost-b.${domain}:${port}/shared.txt?`));
  const r = await runCommand('/usr/bin/curl', ['-sS', '--resolve', `vhost-b.${domain}:${port}:127.0.0.1`, '-w', ' %{http_code}', url], {});
  t.is(r.stdout, 'shared 200');
});

test.serial('raw SigV4 and SigV2 requests with Host: bucket.domain; path-style on the bare domain and on the IP', async (t) => {
  await cluster.s3().send(new PutObjectCommand({ Bucket: 'vhost-b', Key: 'raw.txt', Body: 'raw body' }));
  const v4 = aws4.sign(
    { host: `vhost-b.${domain}:${port}`, path: '/raw.txt', service: 's3', region: 'us-east-1', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { accessKeyId: cluster.accessKey, secretAccessKey: cluster.secretKey },
  );
  const r4 = await sendRequest({ ...(v4 as http.RequestOptions), host: '127.0.0.1', port, headers: { ...v4.headers, host: `vhost-b.${domain}:${port}` } });
  t.is(r4.status, 200, r4.body);
  t.is(r4.body, 'raw body');

  // SigV2's resource is /bucket/key even when the bucket is in the Host header.
  const date = new Date().toUTCString();
  const sig = (await import('node:crypto')).createHmac('sha1', cluster.secretKey).update(`GET\n\n\n${date}\n/vhost-b/raw.txt`).digest('base64');
  const r2 = await sendRequest({ host: '127.0.0.1', port, path: '/raw.txt', headers: { host: `vhost-b.${domain}:${port}`, date, authorization: `AWS ${cluster.accessKey}:${sig}` } });
  t.is(r2.status, 200, r2.body);
  t.is(r2.body, 'raw body');

  const bare = aws4.sign(
    { host: `${domain}:${port}`, path: '/vhost-b/raw.txt', service: 's3', region: 'us-east-1', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { accessKeyId: cluster.accessKey, secretAccessKey: cluster.secretKey },
  );
  const rb = await sendRequest({ ...(bare as http.RequestOptions), host: '127.0.0.1', port, headers: { ...bare.headers, host: `${domain}:${port}` } });
  t.is(rb.body, 'raw body', 'the bare domain is path-style');

  const missing = aws4.sign(
    { host: `no-such-bucket.${domain}:${port}`, path: '/x', service: 's3', region: 'us-east-1', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { accessKeyId: cluster.accessKey, secretAccessKey: cluster.secretKey },
  );
  const rm = await sendRequest({ ...(missing as http.RequestOptions), host: '127.0.0.1', port, headers: { ...missing.headers, host: `no-such-bucket.${domain}:${port}` } });
  t.is(rm.status, 404);
  t.regex(rm.body, /<Code>NoSuchBucket<\/Code>.*<BucketName>no-such-bucket<\/BucketName>/);
  const md5 = createHash('md5').update('raw body').digest('hex');
  t.is((await cluster.s3().send(new HeadObjectCommand({ Bucket: 'vhost-b', Key: 'raw.txt' }))).ETag, `"${md5}"`);
});
