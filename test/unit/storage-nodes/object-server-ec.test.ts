import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { CODEC_SCHEME, fragmentArchiveSize } from '../../../src/erasure/index.js';
import { decodeHeaderJson, type ListingPage, listingPath, type ObjectMeta, objectPath } from '../../../src/common/wire.js';
import { xxh64Hex } from '../../../src/common/xxh64.js';
import { type TestNode, withNode } from './node-fixture.js';

const [t1, t2] = ['1700000001.000000', '1700000002.000000'];
const o = (key: string) => objectPath('d1', 3, 'AUTH_a', 'bkt', key);
const ecPolicy = '2';
// Segments of 64 bytes, k = 4: full fragments of 16 bytes.
const layout = { scheme: CODEC_SCHEME, k: 4, m: 2, segmentSize: 64 };

/** A made-up archive for an object of `objectSize` bytes (the node does not decode, it only checks fragments). */
function archiveOf(objectSize: number, seed: number): Buffer {
  const size = fragmentArchiveSize(objectSize, layout.k, layout.segmentSize);
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff));
}

function putArchive(n: TestNode, key: string, ts: string, frag: number, objectSize: number, body: Buffer, extra: Record<string, string> = {}) {
  return n.put(o(key), {
    ts,
    body,
    policyIndex: 2,
    meta: { contentType: 'text/plain', ec: { ...layout, frag } } as Partial<ObjectMeta>,
    footer: { size: body.length, xxh64: xxh64Hex(body), etag: 'etag-of-object', objectSize, ec: { ...layout, size: objectSize, frag } },
    headers: { 'x-backend-fragment-index': String(frag), ...extra },
  });
}

const headers = (frag?: number, more: Record<string, string> = {}) => ({
  headers: { 'x-backend-storage-policy-index': ecPolicy, ...(frag === undefined ? {} : { 'x-backend-fragment-index': String(frag) }), ...more },
});

test(
  'an EC PUT is pending until its commit; the commit updates the listings; GET by fragment index',
  withNode(async (t, n) => {
    const l = listingPath('d2', 4, 'AUTH_a', 'bkt');
    t.is((await n.json('PUT', l, { ts: t1 })).status, 201);
    const body = archiveOf(150, 1);
    const put = await putArchive(n, 'k', t1, 3, 150, body);
    t.is(put.status, 201, put.body.toString());
    t.is((await n.request('GET', o('k'), headers(3))).status, 404, 'not durable yet');
    const files = await readdir(join(n.dir, 'devices', 'd1', 'objects-2', '3'), { recursive: true });
    t.true(files.some((f) => f.endsWith(`${t1}#3.data`)));

    const commit = await n.request('POST', `${o('k')}?commit`, headers(3, { 'x-backend-timestamp': t1, 'x-backend-container-updates': JSON.stringify([n.target(4, 'd2')]) }));
    t.is(commit.status, 202, commit.body.toString());
    const got = await n.request('GET', o('k'), headers(3));
    t.is(got.status, 200);
    t.true(got.body.equals(body));
    t.is(got.headers['x-backend-fragment-index'], '3');
    const meta = decodeHeaderJson<ObjectMeta>(got.headers['x-backend-meta']);
    t.like(meta, { ts: t1, size: body.length, objectSize: 150, etag: 'etag-of-object', ec: { ...layout, size: 150, frag: 3 } });
    t.false(JSON.stringify(meta).includes('fragmentXxh64'), 'fragment checksums stay on the node');
    t.is((await n.request('GET', o('k'), headers(2))).status, 404, 'another index is not here');
    t.is((await n.request('HEAD', o('k'), headers())).headers['x-backend-fragment-index'], '3', 'any index when none is asked');
    const page = JSON.parse((await n.request('GET', l)).body.toString()) as ListingPage;
    t.like(page.entries[0], { name: 'k', ts: t1, size: 150, etag: 'etag-of-object' });

    // Ranges across fragments, each fragment checked.
    for (const [start, end] of [[0, 0], [5, 20], [15, 16], [30, body.length - 1]]) {
      const r = await n.request('GET', o('k'), headers(3, { range: `bytes=${start}-${end}` }));
      t.is(r.status, 206);
      t.true(r.body.equals(body.subarray(start, end + 1)), `${start}-${end}`);
    }
    t.is((await n.request('POST', `${o('k')}?commit`, headers(3, { 'x-backend-timestamp': t2, 'x-backend-container-updates': '[]' }))).status, 404);
  }),
);

test(
  'a fragment that does not match its checksum is never sent: the response is cut before it',
  withNode(async (t, n) => {
    const body = archiveOf(64 * 40, 2); // 40 fragments of 16 bytes
    t.is((await putArchive(n, 'rot', t1, 0, 64 * 40, body, { 'x-backend-durable': '1', 'x-backend-replication': '1' })).status, 400, 'a sync write needs the stored meta');
    t.is((await putArchive(n, 'rot', t1, 0, 64 * 40, body)).status, 201);
    t.is((await n.request('POST', `${o('rot')}?commit`, headers(0, { 'x-backend-timestamp': t1, 'x-backend-container-updates': '[]' }))).status, 202);
    const dir = join(n.dir, 'devices', 'd1', 'objects-2', '3');
    const file = (await readdir(dir, { recursive: true })).find((f) => f.endsWith('#d.data'))!;
    const raw = await readFile(join(dir, file));
    raw[16 * 20 + 3] ^= 0x01; // fragment 20
    await writeFile(join(dir, file), raw);
    const whole = await n.request('GET', o('rot'), headers(0)).catch((err: Error) => err);
    t.true(whole instanceof Error || whole.body.length <= 16 * 20, 'nothing past the bad fragment');
    if (!(whole instanceof Error)) t.true(whole.body.equals(body.subarray(0, whole.body.length)));
    const before = await n.request('GET', o('rot'), headers(0, { range: 'bytes=0-319' }));
    t.true(before.body.equals(body.subarray(0, 320)), 'fragments before it are fine');
    const after = await n.request('GET', o('rot'), headers(0, { range: 'bytes=336-' }));
    t.true(after.body.equals(body.subarray(336)), 'and after it');
    t.true(n.logs.some((l) => l.includes('does not match its checksum')));
  }),
);

test(
  'EC writes need a fragment index and a consistent archive; replicated ones refuse one',
  withNode(async (t, n) => {
    const body = archiveOf(100, 3);
    const noIndex = await n.put(o('x'), { ts: t1, body, policyIndex: 2, meta: { ec: { ...layout, frag: 0 } } as Partial<ObjectMeta> });
    t.is(noIndex.status, 400);
    t.is((await putArchive(n, 'x', t1, 6, 100, body)).status, 400, 'index beyond k+m');
    const short = body.subarray(0, body.length - 8);
    const wrong = await n.put(o('x'), {
      ts: t1,
      body: short,
      policyIndex: 2,
      meta: { ec: { ...layout, frag: 1 } } as Partial<ObjectMeta>,
      footer: { size: short.length, xxh64: xxh64Hex(short), ec: { ...layout, size: 100, frag: 1 } },
      headers: { 'x-backend-fragment-index': '1' },
    });
    t.is(wrong.status, 422, 'the archive size does not fit the object size');
    t.is((await n.put(o('x'), { ts: t1, body, headers: { 'x-backend-fragment-index': '1' } })).status, 400);
    // A durable sync write (the reconstructor's) is visible at once.
    const sync = await n.put(o('y'), {
      ts: t2,
      body,
      policyIndex: 2,
      meta: { ts: t2, contentType: 'x', ec: { ...layout, size: 100, frag: 5 } } as Partial<ObjectMeta>,
      headers: { 'x-backend-fragment-index': '5', 'x-backend-durable': '1', 'x-backend-replication': '1' },
      footer: { size: body.length, xxh64: xxh64Hex(body) },
    });
    t.is(sync.status, 201, sync.body.toString());
    const got = await n.request('GET', o('y'), headers(5));
    t.is(got.status, 200);
    t.true(got.body.equals(body));
  }),
);
