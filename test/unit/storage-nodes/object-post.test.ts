import test from 'ava';
import { decodeHeaderJson, encodeHeaderJson, type ObjectMeta, objectPath } from '../../../src/common/wire.js';
import { withNode } from './node-fixture.js';

const [t1, t2, t3, t4] = ['1700000001.000000', '1700000002.000000', '1700000003.000000', '1700000004.000000'];
const o = (key: string) => objectPath('d1', 3, 'AUTH_a', 'bkt', key);
const post = (ts: string, patch: unknown) => ({ headers: { 'x-backend-timestamp': ts, 'x-backend-meta': encodeHeaderJson(patch) } });

test(
  'POST patches metadata: 202 with the merged meta, GET/HEAD apply it with x-backend-meta-timestamp; 404 and 409',
  withNode(async (t, n) => {
    t.is((await n.request('POST', o('k'), post(t2, { tags: { a: '1' } }))).status, 404, 'nothing to patch');
    t.is((await n.put(o('k'), { ts: t1, body: Buffer.from('hello'), meta: { contentType: 'text/plain', acl: 'private' } })).status, 201);
    const r = await n.request('POST', o('k'), post(t2, { tags: { a: '1' }, acl: null }));
    t.is(r.status, 202);
    t.is(r.headers['x-backend-timestamp'], t1);
    t.is(r.headers['x-backend-meta-timestamp'], t2);
    const merged = decodeHeaderJson<ObjectMeta>(r.headers['x-backend-meta']);
    t.like(merged, { ts: t1, size: 5, contentType: 'text/plain', tags: { a: '1' } });
    t.false('acl' in (merged ?? {}));

    for (const method of ['GET', 'HEAD']) {
      const got = await n.request(method, o('k'));
      t.is(got.status, 200);
      t.is(got.headers['x-backend-timestamp'], t1, 'still the data version');
      t.is(got.headers['x-backend-meta-timestamp'], t2);
      t.deepEqual(decodeHeaderJson(got.headers['x-backend-meta']), merged);
      if (method === 'GET') t.is(got.body.toString(), 'hello');
    }
    const stale = await n.request('POST', o('k'), post(t2, { tags: { b: '2' } }));
    t.is(stale.status, 409);
    t.is(stale.headers['x-backend-timestamp'], t2);
    t.is((await n.request('POST', o('k'), post(t1, { x: 1 }))).status, 409, 'not newer than the data');
    t.is((await n.request('POST', o('k'), post(t3, { size: 1 }))).status, 400, 'size cannot be patched');
    t.is((await n.request('POST', o('k'), { headers: { 'x-backend-timestamp': t3, 'x-backend-meta': 'not json' } })).status, 400);
  }),
);

test(
  'PUT 201 and DELETE 204 carry x-backend-replaced-meta (merged) of the live version they replaced',
  withNode(async (t, n) => {
    const updates = { 'x-backend-container-updates': '[]' };
    const first = await n.put(o('r'), { ts: t1, body: Buffer.from('one'), meta: { contentType: 'a/b', manifest: { parts: 2 } }, updates: [] });
    t.is(first.status, 201);
    t.is(first.headers['x-backend-replaced-meta'], undefined, 'nothing was replaced');
    t.is((await n.request('POST', o('r'), post(t2, { tags: { t: 'x' } }))).status, 202);
    const second = await n.put(o('r'), { ts: t3, body: Buffer.from('two'), updates: [] });
    t.is(second.status, 201);
    t.like(decodeHeaderJson<ObjectMeta>(second.headers['x-backend-replaced-meta']), { ts: t1, manifest: { parts: 2 }, tags: { t: 'x' }, size: 3 });
    const del = await n.request('DELETE', o('r'), { headers: { 'x-backend-timestamp': t4, ...updates } });
    t.is(del.status, 204);
    t.like(decodeHeaderJson<ObjectMeta>(del.headers['x-backend-replaced-meta']), { ts: t3 });
    const again = await n.request('DELETE', o('r'), { headers: { 'x-backend-timestamp': '1700000005.000000', ...updates } });
    t.is(again.status, 404);
    t.is(again.headers['x-backend-replaced-meta'], undefined);
  }),
);
