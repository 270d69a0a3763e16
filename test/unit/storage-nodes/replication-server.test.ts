import http from 'node:http';
import test from 'ava';
import { decodeHeaderJson, encodeHeaderJson, type ListingPage, listingPath, type ObjectMeta, objectPath, type PartitionChanges, partitionPath, type SuffixHashes } from '../../../src/common/wire.js';
import { xxh64Hex } from '../../../src/common/xxh64.js';
import { hashOfName, suffixOfHash } from '../../../storage-nodes/disk-file.js';
import { ReplicationClient } from '../../../storage-nodes/replication-client.js';
import { hashesDigest } from '../../../storage-nodes/suffix-hashes.js';
import { withNode } from './node-fixture.js';

const t1 = '1700000001.000000';
const t2 = '1700000002.000000';
const o = (key: string, partition = 3) => objectPath('d1', partition, 'AUTH_a', 'bkt', key);
const suffix = (key: string) => suffixOfHash(hashOfName(`/AUTH_a/bkt/${key}`));

test(
  'GET ?hashes answers the suffix hashes of a partition, and ?suffixes= the newest version of each hash dir',
  withNode(async (t, n) => {
    const p = partitionPath('o', 'd1', 3);
    const empty = await n.request('GET', `${p}?hashes`);
    t.is(empty.status, 200);
    t.deepEqual(JSON.parse(empty.body.toString()), {});
    await n.put(o('k1'), { ts: t1, body: Buffer.from('one') });
    await n.put(o('k2'), { ts: t1, body: Buffer.from('two') });
    await n.request('DELETE', o('k2'), { headers: { 'x-backend-timestamp': t2 } });
    const hashes = JSON.parse((await n.request('GET', `${p}?hashes`)).body.toString());
    t.deepEqual(Object.keys(hashes).sort(), [suffix('k1'), suffix('k2')].sort());
    t.deepEqual(JSON.parse((await n.request('GET', `${p}?hashes&recalculate=${suffix('k1')}`)).body.toString()), hashes);
    const contents = JSON.parse((await n.request('GET', `${p}?suffixes=${suffix('k1')},${suffix('k2')},fff`)).body.toString());
    t.deepEqual(contents[suffix('k1')], { [hashOfName('/AUTH_a/bkt/k1')]: `${t1}.data` });
    t.deepEqual(contents[suffix('k2')], { [hashOfName('/AUTH_a/bkt/k2')]: `${t2}.ts` });
    // Another policy's partition is another directory.
    t.deepEqual(JSON.parse((await n.request('GET', `${p}?hashes`, { headers: { 'x-backend-storage-policy-index': '1' } })).body.toString()), {});
    t.is((await n.request('GET', `${p}?hashes`, { headers: { 'x-backend-storage-policy-index': '7' } })).status, 400);
    t.is((await n.request('GET', `${p}?suffixes=../x`)).status, 400);
    t.is((await n.request('GET', p)).status, 400);
    t.is((await n.request('PUT', p)).status, 405);
    t.is((await n.request('GET', `${partitionPath('o', 'nope', 3)}?hashes`)).status, 507);
  }),
);

test(
  'GET /o/{device}?changes answers the epoch, the change generation and the partitions changed since one',
  withNode(async (t, n) => {
    const ask = async (query: string, headers: Record<string, string> = {}) => {
      const r = await n.request('GET', `/o/d1?changes${query}`, { headers });
      return { status: r.status, body: r.status === 200 ? (JSON.parse(r.body.toString()) as PartitionChanges) : undefined };
    };
    const start = (await ask('')).body!;
    t.deepEqual(start.partitions, []);
    await n.put(o('k1', 3), { ts: t1, body: Buffer.from('one') });
    await n.put(o('k2', 5), { ts: t1, body: Buffer.from('two') });
    const all = (await ask(`&since=${start.gen}`)).body!;
    t.deepEqual(all.partitions, [3, 5]);
    t.is(all.epoch, start.epoch);
    t.true(all.gen > start.gen);
    await n.request('DELETE', o('k2', 5), { headers: { 'x-backend-timestamp': t2 } });
    t.deepEqual((await ask(`&since=${all.gen}`)).body!.partitions, [5]);
    t.deepEqual((await ask('', { 'x-backend-storage-policy-index': '1' })).body!.partitions, [], 'another policy');
    // With &digests, a digest of each changed partition's suffix hashes: of what ?hashes answers for it.
    const withDigests = (await ask(`&since=${start.gen}&digests`)).body!;
    t.deepEqual(Object.keys(withDigests.digests ?? {}), ['3', '5']);
    for (const part of [3, 5]) {
      const r = await n.request('GET', `${partitionPath('o', 'd1', part)}?hashes`);
      const hashes = JSON.parse(r.body.toString()) as SuffixHashes;
      t.true(Object.keys(hashes).length > 0);
      t.is(withDigests.digests![part], hashesDigest(hashes));
      t.regex(withDigests.digests![part], /^[A-Za-z0-9+/]{22}$/);
    }
    t.not(withDigests.digests![3], withDigests.digests![5]);
    t.is((await ask(`&since=${start.gen}`)).body!.digests, undefined, 'only when asked');
    t.is((await ask(`&since=${start.gen}&hashes`)).body!.digests, undefined, "an older node's &hashes is not answered");
    // With &all, every partition the device holds, changed or not, and complete: true.
    const every = (await ask(`&since=${all.gen}&digests&all`)).body!;
    t.deepEqual(every.partitions, [3, 5]);
    t.deepEqual(Object.keys(every.digests ?? {}), ['3', '5']);
    t.is(every.complete, true);
    t.is((await ask('&since=-1')).status, 400);
    t.is((await n.request('GET', '/o/d1')).status, 400);
    t.is((await n.request('PUT', '/o/d1?changes')).status, 405);
    t.is((await n.request('GET', '/o/nope?changes')).status, 507);
    // The client reads the same.
    const client = new ReplicationClient(new http.Agent(), 2000);
    t.deepEqual((await client.changes({ ip: '127.0.0.1', port: n.port, device: 'd1' }, 0, all.gen)).changes?.partitions, [5]);
    t.deepEqual(Object.keys((await client.changes({ ip: '127.0.0.1', port: n.port, device: 'd1' }, 0, all.gen, { digests: true })).changes?.digests ?? {}), ['5']);
    t.like(await client.changes({ ip: '127.0.0.1', port: n.port, device: 'nope' }, 0, 0), { status: 507, changes: undefined });
  }),
);

/** A replicator's sync PUT: the whole stored metadata in the meta header, the stored size and xxh64 as footer. */
function syncPut(port: number, path: string, ts: string, meta: ObjectMeta, body: Buffer, extra: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = {
      'x-backend-timestamp': ts,
      'x-backend-replication': '1',
      'x-backend-meta': encodeHeaderJson(meta),
      'transfer-encoding': 'chunked',
      trailer: 'x-backend-footer',
      ...extra,
    };
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(body);
    req.addTrailers({ 'x-backend-footer': encodeHeaderJson({ size: body.length, xxh64: xxh64Hex(body) }) });
    req.end();
  });
}

test(
  'a sync write stores exactly the version it carries and sends no listing update; a proxy write does',
  withNode(async (t, n) => {
    await n.json('PUT', listingPath('d2', 9, 'AUTH_a', 'bkt'), { ts: t1 });
    const target = [n.target(9, 'd2')];
    const updates = { 'x-backend-container-updates': JSON.stringify(target) };
    const body = Buffer.from('replicated body');
    t.is((await n.put(o('proxied'), { ts: t2, body, updates: target })).status, 201);
    const meta: ObjectMeta = { name: '/AUTH_a/bkt/synced', ts: t2, size: body.length, xxh64: xxh64Hex(body), etag: 'abc', contentType: 'image/png', user: { k: 'v' } };
    t.is(await syncPut(n.port, o('synced'), t2, meta, body, updates), 201);
    const got = await n.request('GET', o('synced'));
    t.is(got.body.toString(), 'replicated body');
    t.deepEqual(decodeHeaderJson<ObjectMeta>(got.headers['x-backend-meta']), meta, 'the stored metadata, unchanged');
    t.is(await syncPut(n.port, o('synced'), t2, meta, body), 409, 'the same version again');
    t.is(await syncPut(n.port, o('other'), t1, meta, body), 400, 'metadata of another version');
    const del = await n.request('DELETE', o('proxied'), { headers: { 'x-backend-timestamp': '1700000003.000000', 'x-backend-replication': '1', ...updates } });
    t.is(del.status, 204);
    const page = JSON.parse((await n.request('GET', listingPath('d2', 9, 'AUTH_a', 'bkt'))).body.toString()) as ListingPage;
    t.deepEqual(page.entries.map((e) => ('name' in e ? e.name : e.subdir)), ['proxied'], 'only the proxy write sent a row; the sync writes sent none');
  }),
);

test(
  'POST /l/{device}/{partition}?sync answers each listing\'s sync point for the asking replica',
  withNode(async (t, n) => {
    const lp = listingPath('d1', 4, 'AUTH_a', 'bkt');
    await n.json('PUT', lp, { ts: t1 });
    const batch = { id: 'aaaa-1', upTo: 7, info: { createdTs: t1, meta: {} }, rows: [{ name: 'r', ts: t2, size: 1 }] };
    t.is((await n.json('POST', `${lp}?replicate`, batch)).status, 204);
    const sync = await n.json('POST', `${partitionPath('l', 'd1', 4)}?sync`, { listings: [{ account: 'AUTH_a', bucket: 'bkt', id: 'aaaa-1' }, { account: 'AUTH_a', id: 'aaaa-1' }, { account: 'AUTH_a', bucket: 'bkt', id: 'bbbb' }] });
    t.is(sync.status, 200);
    t.deepEqual(JSON.parse(sync.body.toString()), { points: [7, 0, 0] });
    t.is((await n.json('POST', `${partitionPath('l', 'd1', 4)}?sync`, { listings: [{ account: 'AUTH_a', id: '../x' }] })).status, 400);
    t.is((await n.json('POST', `${lp}?replicate`, { ...batch, upTo: -1 })).status, 400);
    t.is((await n.json('POST', `${lp}?replicate`, { ...batch, info: { createdTs: 'x', meta: {} } })).status, 400);
    const page = JSON.parse((await n.request('GET', lp)).body.toString()) as ListingPage;
    t.deepEqual(page.entries.map((e) => ('name' in e ? e.name : e.subdir)), ['r']);
  }),
);

test(
  'pushing a large version to a peer that holds a newer one changes nothing there, and the client goes on working',
  withNode(async (t, n) => {
    const agent = new http.Agent({ keepAlive: true });
    const client = new ReplicationClient(agent, 2000);
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const put = (device: string, key: string, ts: string, body: Buffer) => n.put(objectPath(device, 3, 'AUTH_a', 'bkt', key), { ts, body });
    await put('d1', 'big', t1, big);
    await put('d2', 'big', t2, Buffer.from('newer'));
    await put('d1', 'other', t1, big);
    const parts = n.node.partitions;
    const open = async (key: string) => {
      const name = `/AUTH_a/bkt/${key}`;
      const v = await parts.openVersion({ device: 'd1', policyIndex: 0, partition: 3, suffix: suffixOfHash(hashOfName(name)), hash: hashOfName(name) }, `${t1}.data`);
      if (v?.kind !== 'data') throw new Error('no data');
      return v.file;
    };
    const peer = { ip: '127.0.0.1', port: n.port, device: 'd2' };
    // The peer refuses before reading the body and closes the connection; whether its 409 or the reset of the
    // socket reaches the client first is a race (0 = failed: the next pass looks again and finds it newer).
    t.true([0, 409].includes(await client.pushData(peer, 0, 3, await open('big'))));
    t.is((await n.request('GET', objectPath('d2', 3, 'AUTH_a', 'bkt', 'big'))).body.toString(), 'newer');
    t.is(await client.pushData(peer, 0, 3, await open('other')), 201);
    const got = await n.request('GET', objectPath('d2', 3, 'AUTH_a', 'bkt', 'other'));
    t.is(got.body.length, big.length);
    t.is(await client.pushTombstone(peer, 0, 3, '/AUTH_a/bkt/other', t2), 204);
    t.is(await client.pushTombstone({ ...peer, port: 1 }, 0, 3, '/AUTH_a/bkt/other', t2), 0, 'unreachable');
    agent.destroy();
  }),
);
