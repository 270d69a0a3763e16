import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { decodeHeaderJson, type ListingInfo, type ListingPage, listingPath, objectPath } from '../../../src/common/wire.js';
import { withNode } from './node-fixture.js';

const ts = (n: number) => `17000000${String(n).padStart(2, '0')}.000000`;
const bucket = listingPath('d1', 5, 'AUTH_a', 'photos');
const account = listingPath('d1', 6, 'AUTH_a');

test(
  'create, head, metadata, rows, page',
  withNode(async (t, n) => {
    t.is((await n.request('HEAD', bucket)).status, 404);
    t.is((await n.json('PUT', bucket, { ts: ts(1), meta: { policy: 'replica-3' } })).status, 201);
    t.is((await n.json('PUT', bucket, { ts: ts(2), meta: { owner: 'alice' } })).status, 202);
    t.is((await n.json('POST', bucket, { ts: ts(3), meta: { versioning: 'Enabled', owner: null } })).status, 204);
    t.is((await n.json('POST', `${bucket}?rows`, { rows: [{ name: 'a.jpg', ts: ts(4), size: 10, etag: 'e', contentType: 'image/jpeg' }, { name: 'b.jpg', ts: ts(4), size: 5 }] })).status, 204);
    const head = await n.request('HEAD', bucket);
    t.is(head.status, 204);
    t.deepEqual(decodeHeaderJson<ListingInfo>(head.headers['x-backend-listing-info']), {
      createdTs: ts(1),
      meta: { policy: 'replica-3', versioning: 'Enabled' },
      objectCount: 2,
      bytesUsed: 15,
    });
    const get = await n.request('GET', `${bucket}?limit=1`);
    t.is(get.status, 200);
    const page = JSON.parse(get.body.toString()) as ListingPage;
    t.deepEqual(page.entries, [{ name: 'a.jpg', ts: ts(4), size: 10, etag: 'e', contentType: 'image/jpeg' }]);
    t.true(page.truncated);
    t.is(page.info.objectCount, 2);
  }),
);

test(
  'ifAbsent rows: 409 with the conflicting live rows, the other rows merged',
  withNode(async (t, n) => {
    await n.json('PUT', account, { ts: ts(1) });
    await n.json('POST', `${account}?rows`, { rows: [{ name: 'photos', ts: ts(2), value: { owner: 'alice' } }] });
    const r = await n.json('POST', `${account}?rows`, {
      rows: [
        { name: 'photos', ts: ts(3), ifAbsent: true, value: { owner: 'bob' } },
        { name: 'videos', ts: ts(3), ifAbsent: true, value: { owner: 'bob' } },
      ],
    });
    t.is(r.status, 409);
    t.deepEqual(JSON.parse(r.body.toString()), { conflicts: [{ name: 'photos', ts: ts(2), value: { owner: 'alice' } }] });
    const page = JSON.parse((await n.request('GET', account)).body.toString()) as ListingPage;
    t.deepEqual(page.entries.map((e) => ('name' in e ? [e.name, e.value?.owner] : e.subdir)), [['photos', 'alice'], ['videos', 'bob']]);
  }),
);

test(
  'delete: 409 while rows live, 204 once empty, then 404 with the deleted headers; older creates stay deleted',
  withNode(async (t, n) => {
    t.is((await n.request('DELETE', bucket, { headers: { 'x-backend-timestamp': ts(1) } })).status, 404);
    await n.json('PUT', bucket, { ts: ts(1) });
    await n.json('POST', `${bucket}?rows`, { rows: [{ name: 'k', ts: ts(2), size: 1 }] });
    t.is((await n.request('DELETE', bucket, { headers: { 'x-backend-timestamp': ts(3) } })).status, 409);
    await n.json('POST', `${bucket}?rows`, { rows: [{ name: 'k', ts: ts(4), deleted: true }] });
    t.is((await n.request('DELETE', bucket, { headers: { 'x-backend-timestamp': ts(5) } })).status, 204);
    for (const method of ['HEAD', 'GET']) {
      const r = await n.request(method, bucket);
      t.is(r.status, 404);
      t.is(r.headers['x-backend-deleted'], '1');
      t.is(r.headers['x-backend-timestamp'], ts(5));
    }
    t.is((await n.json('POST', `${bucket}?rows`, { rows: [{ name: 'k', ts: ts(6) }] })).status, 404);
    t.is((await n.json('POST', bucket, { ts: ts(6), meta: { a: 1 } })).status, 404);
    t.is((await n.json('PUT', bucket, { ts: ts(4) })).status, 404);
    t.is((await n.json('PUT', bucket, { ts: ts(7) })).status, 201);
    t.is((await n.request('HEAD', bucket)).status, 204);
  }),
);

test(
  'delimiter paging over HTTP: common prefixes, then continuing after one as the marker',
  withNode(async (t, n) => {
    await n.json('PUT', bucket, { ts: ts(1) });
    const names = ['2023/01/a', '2023/01/b', '2023/02/a', '2024/01/a', 'top', 'zz/1'];
    await n.json('POST', `${bucket}?rows`, { rows: names.map((name) => ({ name, ts: ts(2) })) });
    const page = async (query: string) => JSON.parse((await n.request('GET', `${bucket}?${query}`)).body.toString()) as ListingPage;
    const simple = (p: ListingPage) => p.entries.map((e) => ('subdir' in e ? `${e.subdir}*` : e.name));
    const p1 = await page('delimiter=/&limit=2');
    t.deepEqual(simple(p1), ['2023/*', '2024/*']);
    t.true(p1.truncated);
    const p2 = await page(`delimiter=/&limit=2&marker=${encodeURIComponent('2024/')}`);
    t.deepEqual(simple(p2), ['top', 'zz/*']);
    t.false(p2.truncated);
    t.deepEqual(simple(await page('delimiter=/&prefix=2023/')), ['2023/01/*', '2023/02/*']);
    t.deepEqual(simple(await page('prefix=2023/01/&end_marker=2023/01/b')), ['2023/01/a']);
    t.deepEqual(simple(await page('delimiter=/&reverse=1')), ['zz/*', 'top', '2024/*', '2023/*']);
    t.deepEqual(simple(await page('reverse=1&limit=2&marker=top')), ['2024/01/a', '2023/02/a']);
  }),
);

test(
  'malformed requests are 400; a listing on an unknown device is 507',
  withNode(async (t, n) => {
    await n.json('PUT', bucket, { ts: ts(1) });
    t.is((await n.request('PUT', bucket, { body: 'not json' })).status, 400);
    t.is((await n.json('PUT', bucket, { ts: 'now' })).status, 400);
    t.is((await n.json('POST', `${bucket}?rows`, { rows: [{ name: '', ts: ts(2) }] })).status, 400);
    t.is((await n.json('POST', `${bucket}?rows`, { rows: [{ name: 'x', ts: ts(2), size: -1 }] })).status, 400);
    t.is((await n.json('POST', `${bucket}?rows`, { rows: [{ name: '\ud800', ts: ts(2) }] })).status, 400);
    t.is((await n.json('POST', `${bucket}?rows`, { nope: 1 })).status, 400);
    t.is((await n.request('GET', `${bucket}?limit=-1`)).status, 400);
    t.is((await n.request('DELETE', bucket)).status, 400);
    t.is((await n.json('PUT', listingPath('d1', 5, 'AUTH_a', 'nul\0byte'), { ts: ts(1) })).status, 400);
    t.is((await n.json('PUT', listingPath('nodev', 5, 'AUTH_a', 'b'), { ts: ts(1) })).status, 507);
  }),
);

test(
  "an object PUT whose listing replica is on the same node: the row is merged there; a missing listing queues it as a remote 404 would",
  withNode(async (t, n) => {
    await n.json('PUT', bucket, { ts: ts(1) });
    const put = await n.put(objectPath('d2', 3, 'AUTH_a', 'photos', 'k.jpg'), { ts: ts(2), body: Buffer.from('abc'), updates: [n.target(5, 'd1')] });
    t.is(put.status, 201);
    const page = JSON.parse((await n.request('GET', bucket)).body.toString()) as ListingPage;
    t.deepEqual(
      page.entries.map((e) => ('name' in e ? [e.name, e.size] : e.subdir)),
      [['k.jpg', 3]],
    );
    const missing = await n.put(objectPath('d2', 3, 'AUTH_a', 'no-such-bucket', 'x'), { ts: ts(3), body: Buffer.from('x'), updates: [n.target(7, 'd1')] });
    t.is(missing.status, 201);
    t.is(readdirSync(join(n.dir, 'devices', 'd2', 'async_pending')).length, 1, 'the update waits for the updater');
  }),
);
