/**
 * Bad input on the quick-start surface: each gets the exact S3 error, nothing is half stored, and the
 * proxy keeps serving.
 */
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join, relative, sep } from 'node:path';
import test from 'ava';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawRequest, signedOptions } from '../helpers/raw.js';

let cluster: TestCluster;
test.before(async () => {
  cluster = await startCluster({ nodes: 4 });
  const r = await rawRequest(cluster, 'PUT', '/bad');
  if (r.status !== 200) throw new Error(`create bucket: ${r.status} ${r.body}`);
});
test.after.always(async () => cluster?.close());

/** Every file under the devices' object and tmp dirs (what a half-stored object would leave). */
function filesOnDisk(): string[] {
  const out: string[] = [];
  const devicesDir = cluster.nodeConfigs[0].devicesDir;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      // A device's own tmp dir, not the temp dir the whole cluster lives in.
      else if (/\.(data|meta)$/.test(e.name) || relative(devicesDir, p).split(sep).includes('tmp')) out.push(p);
    }
  };
  walk(devicesDir);
  return out;
}

test.serial('a client that disconnects mid-PUT leaves nothing visible and nothing on disk', async (t) => {
  const before = filesOnDisk().length;
  await new Promise<void>((resolve) => {
    const req = http.request(signedOptions(cluster, 'PUT', '/bad/partial', { 'content-length': String(1 << 20) }));
    req.on('error', () => resolve());
    req.write(Buffer.alloc(256 * 1024, 1));
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 200);
  });
  await new Promise((r) => setTimeout(r, 500));
  const head = await rawRequest(cluster, 'HEAD', '/bad/partial');
  t.is(head.status, 404);
  t.is(filesOnDisk().length, before, 'no data or tmp file left behind');
  const list = await rawRequest(cluster, 'GET', '/bad?list-type=2');
  t.false(list.body.includes('partial'));
});

test('a body shorter than Content-Length is refused and not stored', async (t) => {
  // The server sees the connection end early: the request is aborted and nothing is written.
  const status = await new Promise<number | string>((resolve) => {
    const req = http.request(signedOptions(cluster, 'PUT', '/bad/short', { 'content-length': '100' }), (res) => resolve(res.statusCode ?? 0));
    req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
    req.write('only a few bytes');
    req.socket?.end();
    setTimeout(() => req.destroy(), 300);
  });
  t.not(status, 200);
  t.is((await rawRequest(cluster, 'HEAD', '/bad/short')).status, 404);
});

test('malformed CreateBucketConfiguration is MalformedXML', async (t) => {
  const r = await rawRequest(cluster, 'PUT', '/malformed-xml-bucket', {}, '<CreateBucketConfiguration><LocationConstraint>');
  t.is(r.status, 400);
  t.regex(r.body, /<Code>MalformedXML<\/Code>/);
  t.is((await rawRequest(cluster, 'HEAD', '/malformed-xml-bucket')).status, 404);
});

test('an unsatisfiable range is 416 InvalidRange with the object size', async (t) => {
  await rawRequest(cluster, 'PUT', '/bad/ten', {}, '0123456789');
  const r = await rawRequest(cluster, 'GET', '/bad/ten', { range: 'bytes=20-30' });
  t.is(r.status, 416);
  t.regex(r.body, /<Code>InvalidRange<\/Code>/);
  t.is(r.headers['content-range'], 'bytes */10');
});

test('a request with no credentials for a private bucket is AccessDenied, and the proxy stays up', async (t) => {
  await rawRequest(cluster, 'PUT', '/bad/private', {}, 'secret');
  const res = await new Promise<{ status: number; body: string }>((resolve) => {
    http.get(`${cluster.endpoint}/bad/private`, (r) => {
      let body = '';
      r.on('data', (c) => (body += c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
  });
  t.is(res.status, 403);
  t.regex(res.body, /<Code>AccessDenied<\/Code>/);
  t.is((await rawRequest(cluster, 'GET', '/bad/private')).body, 'secret');
});
