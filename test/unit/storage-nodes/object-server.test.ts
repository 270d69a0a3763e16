import http from 'node:http';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import test from 'ava';
import { decodeHeaderJson, encodeHeaderJson, type ListingPage, listingPath, type ObjectMeta, objectPath } from '../../../src/common/wire.js';
import { xxh64Hex } from '../../../src/common/xxh64.js';
import { withNode } from './node-fixture.js';

const t1 = '1700000001.000000';
const t2 = '1700000002.000000';
const t3 = '1700000003.000000';
const o = (key: string, device = 'd1', partition = 3) => objectPath(device, partition, 'AUTH_a', 'bkt', key);

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

const dataFiles = async (dir: string) => (await walk(join(dir, 'devices'))).filter((f) => f.endsWith('.data') || f.endsWith('.ts'));

test(
  'PUT with a chunked body and a footer trailer, then GET and HEAD',
  withNode(async (t, n) => {
    const chunks = [Buffer.from('hello, '), Buffer.from('chunked '), Buffer.from('world')];
    const put = await n.put(o('greeting.txt'), { ts: t1, body: chunks, meta: { contentType: 'text/plain', user: { color: 'blue' } } });
    t.is(put.status, 201, put.body.toString());
    t.is(put.headers['x-backend-timestamp'], t1);

    const get = await n.request('GET', o('greeting.txt'));
    t.is(get.status, 200);
    t.is(get.body.toString(), 'hello, chunked world');
    t.is(get.headers['x-backend-timestamp'], t1);
    t.is(get.headers['content-length'], '20');
    const meta = decodeHeaderJson<ObjectMeta>(get.headers['x-backend-meta']);
    t.like(meta, { name: '/AUTH_a/bkt/greeting.txt', ts: t1, size: 20, xxh64: xxh64Hex(Buffer.concat(chunks)), etag: 'etag-of-test', contentType: 'text/plain', user: { color: 'blue' } });

    const head = await n.request('HEAD', o('greeting.txt'));
    t.is(head.status, 200);
    t.is(head.body.length, 0);
    t.is(head.headers['content-length'], '20');
    t.is(head.headers['x-backend-meta'], get.headers['x-backend-meta']);

    t.is((await n.request('GET', o('absent'))).status, 404);
    t.is((await n.request('HEAD', o('absent'))).headers['x-backend-deleted'], undefined);
  }),
);

test(
  'single ranges on small (buffered) and large (streamed) objects; 416 with the size',
  withNode(async (t, n) => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    for (const [key, body] of [['small', Buffer.from('0123456789')], ['big', big]] as const) {
      t.is((await n.put(o(key), { ts: t1, body })).status, 201);
      const size = body.length;
      const cases: Array<[string, number, number]> = [
        ['bytes=2-5', 2, 5],
        ['bytes=4-', 4, size - 1],
        ['bytes=-3', size - 3, size - 1],
        [`bytes=1-${size + 100}`, 1, size - 1],
      ];
      for (const [range, start, end] of cases) {
        const r = await n.request('GET', o(key), { headers: { range } });
        t.is(r.status, 206, `${key} ${range}`);
        t.is(r.headers['content-range'], `bytes ${start}-${end}/${size}`);
        t.true(r.body.equals(body.subarray(start, end + 1)), `${key} ${range}`);
      }
      const whole = await n.request('GET', o(key), { headers: { range: 'bytes=0-1,4-5' } });
      t.is(whole.status, 200);
      t.true(whole.body.equals(body));
      const unsat = await n.request('GET', o(key), { headers: { range: `bytes=${size}-` } });
      t.is(unsat.status, 416);
      t.is(unsat.headers['content-range'], `bytes */${size}`);
    }
  }),
);

test(
  'newest wins: an older or equal PUT and an older DELETE are refused with 409 and the existing timestamp',
  withNode(async (t, n) => {
    t.is((await n.put(o('k'), { ts: t2, body: Buffer.from('v2') })).status, 201);
    for (const ts of [t1, t2]) {
      const r = await n.put(o('k'), { ts, body: Buffer.from('late') });
      t.is(r.status, 409);
      t.is(r.headers['x-backend-timestamp'], t2);
    }
    const del = await n.request('DELETE', o('k'), { headers: { 'x-backend-timestamp': t1 } });
    t.is(del.status, 409);
    t.is(del.headers['x-backend-timestamp'], t2);
    t.is((await n.request('GET', o('k'))).body.toString(), 'v2');
    // The connection closed by the early 409 does not disturb later requests.
    t.is((await n.put(o('k'), { ts: t3, body: Buffer.from('v3') })).status, 201);
    t.is((await n.request('GET', o('k'))).body.toString(), 'v3');
  }),
);

test(
  'PUT with Content-Length and the footer as a header (a body the proxy held whole)',
  withNode(async (t, n) => {
    const body = Buffer.from('held whole');
    const footer = { size: body.length, xxh64: xxh64Hex(body), etag: 'etag-held' };
    const headers = {
      'x-backend-timestamp': t1,
      'x-backend-meta': encodeHeaderJson({ contentType: 'text/plain' }),
      'x-backend-footer': encodeHeaderJson(footer),
      'x-backend-container-updates': '[]',
    };
    const put = await n.request('PUT', o('held'), { headers, body });
    t.is(put.status, 201, put.body.toString());
    const get = await n.request('GET', o('held'));
    t.is(get.body.toString(), 'held whole');
    t.like(decodeHeaderJson<ObjectMeta>(get.headers['x-backend-meta']), { size: body.length, etag: 'etag-held', contentType: 'text/plain' });
    const bad = await n.request('PUT', o('held'), { headers: { ...headers, 'x-backend-timestamp': t2 }, body: Buffer.from('held wholly') });
    t.is(bad.status, 422, 'the header footer is checked like a trailer');
  }),
);

test(
  'an older PUT is refused before a large body has crossed the wire (a small one at its commit)',
  withNode(async (t, n) => {
    t.is((await n.put(o('k'), { ts: t2, body: Buffer.from('v2') })).status, 201);
    // A body that never ends: the 409 can only come from the look at the hash dir after its first 64 KiB.
    const reply = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: n.port,
        method: 'PUT',
        path: o('k'),
        headers: { 'x-backend-timestamp': t1, 'x-backend-meta': encodeHeaderJson({}), 'transfer-encoding': 'chunked', trailer: 'x-backend-footer' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res);
        req.destroy();
      });
      req.on('error', (err) => reject(err));
      req.write(Buffer.alloc(200_000, 1));
    });
    t.is(reply.statusCode, 409);
    t.is(reply.headers['x-backend-timestamp'], t2);
    t.is(reply.headers.connection, 'close');
    const small = await n.put(o('k'), { ts: t1, body: Buffer.from('late') });
    t.is(small.status, 409);
    t.is(small.headers['x-backend-timestamp'], t2);
    t.deepEqual(await readdir(join(n.dir, 'devices', 'd1', 'tmp')), []);
    t.is((await n.request('GET', o('k'))).body.toString(), 'v2');
  }),
);

test(
  'a body that does not match its footer is 422; a body without a footer is 400; neither leaves a file',
  withNode(async (t, n) => {
    const body = Buffer.from('payload');
    const badSize = await n.put(o('k'), { ts: t1, body, footer: { size: 99, xxh64: xxh64Hex(body), etag: 'e' } });
    t.is(badSize.status, 422);
    const badHash = await n.put(o('k'), { ts: t1, body, footer: { size: body.length, xxh64: '0123456789abcdef', etag: 'e' } });
    t.is(badHash.status, 422);
    const noFooter = await n.put(o('k'), { ts: t1, body, footer: null });
    t.is(noFooter.status, 400);
    t.is((await n.request('GET', o('k'))).status, 404);
    t.deepEqual(await dataFiles(n.dir), []);
    t.deepEqual(await readdir(join(n.dir, 'devices', 'd1', 'tmp')), []);
  }),
);

test(
  'an aborted PUT leaves nothing on disk',
  withNode(async (t, n) => {
    const tmp = join(n.dir, 'devices', 'd1', 'tmp');
    const until = async (cond: () => Promise<boolean>) => {
      for (let i = 0; i < 100 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 20));
    };
    const req = http.request({
      host: '127.0.0.1',
      port: n.port,
      method: 'PUT',
      path: o('aborted'),
      headers: { 'x-backend-timestamp': t1, 'x-backend-meta': encodeHeaderJson({}), 'transfer-encoding': 'chunked', trailer: 'x-backend-footer' },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(2_000_000, 1));
    // Mid-body: the node holds a tmp file (and has written part of the body to it).
    await until(async () => (await readdir(tmp)).length === 1);
    t.is((await readdir(tmp)).length, 1);
    req.destroy();
    // The node notices the reset asynchronously.
    await until(async () => (await readdir(tmp)).length === 0);
    t.deepEqual(await readdir(join(n.dir, 'devices', 'd1', 'tmp')), []);
    t.deepEqual(await dataFiles(n.dir), []);
    t.is((await n.request('GET', o('aborted'))).status, 404);
  }),
);

test(
  'x-backend-if-timestamp: 412 unless the data file has exactly that timestamp',
  withNode(async (t, n) => {
    await n.put(o('k'), { ts: t2, body: Buffer.from('x') });
    const miss = await n.request('GET', o('k'), { headers: { 'x-backend-if-timestamp': t1 } });
    t.is(miss.status, 412);
    t.is(miss.headers['x-backend-timestamp'], t2);
    t.is((await n.request('GET', o('k'), { headers: { 'x-backend-if-timestamp': t2 } })).status, 200);
    t.is((await n.request('GET', o('none'), { headers: { 'x-backend-if-timestamp': t2 } })).status, 404);
  }),
);

test(
  'DELETE writes a tombstone: 204 over data, 404 otherwise; GET of a tombstone says deleted',
  withNode(async (t, n) => {
    await n.put(o('k'), { ts: t1, body: Buffer.from('x') });
    const del = await n.request('DELETE', o('k'), { headers: { 'x-backend-timestamp': t2 } });
    t.is(del.status, 204);
    const get = await n.request('GET', o('k'));
    t.is(get.status, 404);
    t.is(get.headers['x-backend-deleted'], '1');
    t.is(get.headers['x-backend-timestamp'], t2);
    t.is((await n.request('HEAD', o('k'))).headers['x-backend-deleted'], '1');
    t.is((await n.request('DELETE', o('k'), { headers: { 'x-backend-timestamp': t3 } })).status, 404);
    const never = await n.request('DELETE', o('never'), { headers: { 'x-backend-timestamp': t3 } });
    t.is(never.status, 404);
    t.is((await n.request('GET', o('never'))).headers['x-backend-timestamp'], t3, 'the tombstone was still written');
  }),
);

test(
  'odd keys are stored, read and listed verbatim, and only hashes reach the file system',
  withNode(async (t, n) => {
    const keys = ['..', '.', '../../../etc/passwd', 'a//b//', '%00', 'nul\u0000inside', 'percent%2Fslash', '🦄/ünï code', 'k'.repeat(1024), 'tab\tand\nnewline', '\u0001ctl'];
    t.is((await n.json('PUT', listingPath('d2', 9, 'AUTH_a', 'bkt'), { ts: t1 })).status, 201);
    for (const [i, key] of keys.entries()) {
      const r = await n.put(o(key), { ts: t2, body: Buffer.from(`body ${i}`), updates: [n.target(9, 'd2')] });
      t.is(r.status, 201, key);
    }
    for (const [i, key] of keys.entries()) {
      const r = await n.request('GET', o(key));
      t.is(r.body.toString(), `body ${i}`, key);
      t.is(decodeHeaderJson<ObjectMeta>(r.headers['x-backend-meta'])?.name, `/AUTH_a/bkt/${key}`);
    }
    const page = JSON.parse((await n.request('GET', `${listingPath('d2', 9, 'AUTH_a', 'bkt')}?limit=100`)).body.toString()) as ListingPage;
    const want = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    t.deepEqual(page.entries.map((e) => ('name' in e ? e.name : e.subdir)), want);
    // Every file the node made is inside a device directory, under the layout's directories.
    for (const f of await walk(n.dir)) {
      const rel = relative(join(n.dir, 'devices'), f);
      t.regex(rel, /^d[12]\/(objects(-\d+)?\/\d+\/([0-9a-f]{3}\/[0-9a-f]{32}\/\d{10}\.\d{6}\.(data|ts)|hashes\.invalid)|listings\/.+)$/, rel);
    }
  }),
);

test(
  'PUT and DELETE update the listing replicas named, with the row built from the metadata',
  withNode(async (t, n) => {
    const l = listingPath('d2', 4, 'AUTH_a', 'bkt');
    await n.json('PUT', l, { ts: t1 });
    const put = await n.put(o('photo.jpg'), {
      ts: t2,
      body: Buffer.from('fragment'),
      meta: { contentType: 'image/jpeg', objectSize: 1000, listing: { storageClass: 'STANDARD' } },
      updates: [n.target(4, 'd2')],
    });
    t.is(put.status, 201);
    const page = JSON.parse((await n.request('GET', l)).body.toString()) as ListingPage;
    t.deepEqual(page.entries, [{ name: 'photo.jpg', ts: t2, size: 1000, etag: 'etag-of-test', contentType: 'image/jpeg', value: { storageClass: 'STANDARD' } }]);
    t.like(page.info, { objectCount: 1, bytesUsed: 1000 });
    const del = await n.request('DELETE', o('photo.jpg'), { headers: { 'x-backend-timestamp': t3, 'x-backend-container-updates': encodeHeaderJson([n.target(4, 'd2')]) } });
    t.is(del.status, 204);
    const after = JSON.parse((await n.request('GET', l)).body.toString()) as ListingPage;
    t.deepEqual(after.entries, []);
    t.like(after.info, { objectCount: 0, bytesUsed: 0 });
  }),
);

test(
  'policies pick the object directory; unknown devices are 507, unknown policies and bad headers 400',
  withNode(async (t, n) => {
    t.is((await n.put(o('k'), { ts: t1, body: Buffer.from('ec'), policyIndex: 1 })).status, 201);
    t.is((await n.request('GET', o('k'), { headers: { 'x-backend-storage-policy-index': '1' } })).status, 200);
    t.is((await n.request('GET', o('k'))).status, 404, 'policy 0 is another directory');
    t.true((await dataFiles(n.dir)).every((f) => f.includes('/objects-1/')));
    t.is((await n.put(o('k', 'nosuchdev'), { ts: t1, body: Buffer.from('x') })).status, 507);
    t.is((await n.request('GET', o('k', 'nosuchdev'))).status, 507);
    t.is((await n.request('GET', o('k', '..'))).status, 507);
    t.is((await n.put(o('k'), { ts: t2, body: Buffer.from('x'), policyIndex: 7 })).status, 400);
    t.is((await n.put(o('k'), { ts: 'yesterday', body: Buffer.from('x') })).status, 400);
    t.is((await n.request('DELETE', o('k'))).status, 400);
    t.is((await n.request('GET', '/o/d1/3/AUTH_a')).status, 404);
    t.is((await n.request('PATCH', o('k'))).status, 405);
    t.is((await n.request('GET', '/healthcheck')).body.toString(), 'OK');
  }),
);
