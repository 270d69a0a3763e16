import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { HeldBody } from '../../../src/common/read-stream.js';
import { RingSet } from '../../../src/common/ring-files.js';
import type { NodeClient } from '../../../src/proxy/node-client.js';
import { hashDir } from '../../helpers/placement.js';
import { bodyInput, type PolicyFixture, readAll, withPolicies } from './policy-fixture.js';

const policies = [{ index: 0, name: 'replica-3' }];

test(
  'replica-3: put and delete report the replaced version; post patches, merges, and finds nothing to patch',
  withPolicies({ nodes: 4, policies }, async (t, f) => {
    const p = f.policy('replica-3');
    const first = await p.put(f.target('k'), bodyInput(f.ts(), Buffer.from('one'), { meta: { color: 'red' } }));
    t.is(first.replaced, undefined);
    t.like(first.meta, { size: 3, etag: 'etag-3', color: 'red' });

    const patched = await p.post(f.target('k'), f.ts(), { tags: { a: '1' }, color: null });
    t.like(patched, { ts: first.meta.ts, tags: { a: '1' }, size: 3 });
    t.false('color' in (patched ?? {}));
    t.like(await p.head(f.target('k')), { tags: { a: '1' } });
    const read = await p.get(f.target('k'));
    t.like(read?.meta, { tags: { a: '1' } });
    t.is(read && (await readAll(read.body)).toString(), 'one');

    const second = await p.put(f.target('k'), bodyInput(f.ts(), Buffer.from('two')));
    t.like(second.replaced, { ts: first.meta.ts, tags: { a: '1' } }, 'the replaced version with its patch');
    const del = await p.delete(f.target('k'), f.ts());
    t.true(del.existed);
    t.like(del.replaced, { ts: second.meta.ts });
    t.is(await p.post(f.target('k'), f.ts(), { x: 1 }), undefined, 'a deleted object has nothing to patch');
    t.is(await p.post(f.target('never'), f.ts(), { x: 1 }), undefined);
  }),
);

test(
  'replica-3: a metadata update succeeds with a primary down (quorum of 202s) and the node catches up',
  withPolicies({ nodes: 4, policies }, async (t, f) => {
    const p = f.policy('replica-3');
    const { meta } = await p.put(f.target('down'), bodyInput(f.ts(), Buffer.from('x')));
    await f.cluster.stopNode(0);
    const patched = await p.post(f.target('down'), f.ts(), { tags: { t: '1' } });
    t.like(patched, { ts: meta.ts, tags: { t: '1' } });
    await f.cluster.startNode(0);
    // Node 0 may be the first primary, still without the patch: a read that asks for the newest sees it.
    t.like(await p.head(f.target('down'), { newest: true }), { tags: { t: '1' } });
  }),
);

test(
  'replica-3: a device that already holds the version being written (pushed by a peer meanwhile) counts toward the quorum',
  withPolicies({ nodes: 4, policies }, async (t, f) => {
    const p = f.policy('replica-3');
    const ts = f.ts();
    await p.put(f.target('raced'), bodyInput(ts, Buffer.from('same')));
    // The same write again: every device answers 409 with its own timestamp, as one a replicator reached first.
    const again = await p.put(f.target('raced'), bodyInput(ts, Buffer.from('same')));
    t.like(again.meta, { ts, size: 4 });
    const newer = await p.put(f.target('raced'), bodyInput(f.ts(), Buffer.from('newer')));
    const older = p.put(f.target('raced'), bodyInput(ts, Buffer.from('same')));
    await t.throwsAsync(older, { message: /devices committed the write/ }, 'an older write still loses');
    t.like(await p.head(f.target('raced')), { ts: newer.meta.ts });
  }),
);

/** Counts the node requests a client sends, by method. */
function countRequests(client: NodeClient): Record<string, number> {
  const counts: Record<string, number> = {};
  const request = client.request.bind(client);
  const read = client.read.bind(client);
  client.request = (node, r) => {
    counts[r.method] = (counts[r.method] ?? 0) + 1;
    return request(node, r);
  };
  client.read = (node, r, maxBody) => {
    counts[r.method] = (counts[r.method] ?? 0) + 1;
    return read(node, r, maxBody);
  };
  return counts;
}

/** The index of the cluster node serving the first primary of `key`, the device a plain read asks. */
function firstPrimaryNode(f: PolicyFixture, key: string): number {
  const ring = new RingSet(join(f.cluster.dir, 'rings'), [0]).object(0);
  const first = ring.primaries(ring.partition(`/AUTH_test/bkt/${key}`))[0];
  return f.cluster.nodeConfigs.findIndex((c) => c.devices.includes(first.device));
}

test(
  'replica-3: a read asks one device when it holds the object; newest asks a read quorum (R = 2)',
  withPolicies({ nodes: 4, policies }, async (t, f) => {
    const p = f.policy('replica-3');
    await p.put(f.target('one'), bodyInput(f.ts(), Buffer.from('one')));
    const counts = countRequests(f.client);
    const read = await p.get(f.target('one'));
    t.is(read && (await readAll(read.body)).toString(), 'one');
    t.like(await p.head(f.target('one')), { size: 3 });
    t.deepEqual(counts, { GET: 1, HEAD: 1 }, 'one GET, one HEAD');
    const newest = await p.get(f.target('one'), undefined, { newest: true });
    t.is(newest && (await readAll(newest.body)).toString(), 'one');
    t.like(await p.head(f.target('one'), { newest: true }), { size: 3 });
    t.deepEqual(counts, { GET: 2, HEAD: 4 }, 'newest: a GET and a HEAD, then two HEADs');
  }),
);

test(
  'replica-3: a first primary that missed writes: its older version serves plain reads, not newest ones; its 404 or tombstone is not final',
  withPolicies({ nodes: 4, policies }, async (t, f) => {
    const p = f.policy('replica-3');
    const text = async (r: Awaited<ReturnType<typeof p.get>>) => r && (await readAll(r.body)).toString();
    const down = firstPrimaryNode(f, 'stale');
    // Keys whose first primary is on the same node.
    const on = (prefix: string) => {
      for (let i = 0; ; i++) if (firstPrimaryNode(f, `${prefix}-${i}`) === down) return `${prefix}-${i}`;
    };
    const missed = on('missed');
    const revived = on('revived');
    // stale: v1 everywhere, then v2 while the node is down. missed: written only while it is down. revived:
    // deleted everywhere, then written again while it is down (it keeps the tombstone).
    await p.put(f.target('stale'), bodyInput(f.ts(), Buffer.from('v1')));
    await p.put(f.target(revived), bodyInput(f.ts(), Buffer.from('old')));
    await p.delete(f.target(revived), f.ts());
    await f.cluster.stopNode(down);
    const v2 = await p.put(f.target('stale'), bodyInput(f.ts(), Buffer.from('v2')));
    await p.put(f.target(missed), bodyInput(f.ts(), Buffer.from('missed')));
    await p.put(f.target(revived), bodyInput(f.ts(), Buffer.from('revived')));
    await f.cluster.startNode(down);

    t.is(await text(await p.get(f.target('stale'))), 'v1', 'the documented trade-off: the first device serves what it holds');
    t.is(await text(await p.get(f.target('stale'), undefined, { newest: true })), 'v2');
    t.like(await p.head(f.target('stale'), { newest: true }), { ts: v2.meta.ts });
    t.is(await text(await p.get(f.target(missed))), 'missed', 'a 404 on the first primary is not final');
    t.like(await p.head(f.target(missed)), { size: 6 });
    t.is(await text(await p.get(f.target(revived))), 'revived', 'nor is a tombstone there');
    t.like(await p.head(f.target(revived)), { size: 7 });
  }),
);

test(
  'replica-3: a read that finds nothing on the first primaries asks the others and the handoffs before 404 (a partition still moving)',
  withPolicies({ nodes: 5, policies }, async (t, f) => {
    const p = f.policy('replica-3');
    const { meta } = await p.put(f.target('moving'), bodyInput(f.ts(), Buffer.from('still here')));
    const ring = new RingSet(join(f.cluster.dir, 'rings'), [0]).object(0);
    const name = '/AUTH_test/bkt/moving';
    const part = ring.partition(name);
    const [a, b, c] = ring.primaries(part).map((d) => hashDir(f.cluster, d.device, 0, part, name));
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });
    t.like(await p.head(f.target('moving')), { ts: meta.ts }, 'the third primary has it');
    // Only an old holder, now a handoff, has it: as after a rebalance, before the move.
    const handoff = hashDir(f.cluster, [...ring.handoffs(part)][0].device, 0, part, name);
    mkdirSync(dirname(handoff), { recursive: true });
    renameSync(c, handoff);
    const read = await p.get(f.target('moving'));
    t.is(read && (await readAll(read.body)).toString(), 'still here');
    t.is(await p.head(f.target('never')), undefined, 'a missing object is still a 404');
  }),
);

test(
  'replica-3: a body up to 64 KiB goes to each device as one request (footer as a header), a larger one streams; reads hold bodies up to 256 KiB whole and stream larger ones',
  withPolicies({ nodes: 5, policies }, async (t, f) => {
    const p = f.policy('replica-3');
    const counts = countRequests(f.client);
    let uploads = 0;
    const upload = f.client.upload.bind(f.client);
    f.client.upload = (...args) => {
      uploads++;
      return upload(...args);
    };
    const small = Buffer.alloc(64 * 1024, 1);
    const put = await p.put(f.target('small'), bodyInput(f.ts(), small, { chunk: 1000 }));
    t.like(put.meta, { size: small.length, etag: `etag-${small.length}` });
    t.deepEqual(counts, { PUT: 3 }, 'three whole requests');
    t.is(uploads, 0, 'no streamed upload');
    const read = await p.get(f.target('small'));
    t.true(read?.body instanceof HeldBody, 'held whole');
    t.true(read && (await readAll(read.body)).equals(small));

    const large = Buffer.alloc(64 * 1024 + 1, 2);
    await p.put(f.target('large'), bodyInput(f.ts(), large, { chunk: 1000 }));
    t.is(uploads, 3, 'three streamed uploads');
    const back = await p.get(f.target('large'));
    t.true(back?.body instanceof HeldBody, 'held whole: up to 256 KiB');
    t.true(back && (await readAll(back.body)).equals(large));

    const huge = Buffer.alloc(256 * 1024 + 1, 3);
    await p.put(f.target('huge'), bodyInput(f.ts(), huge, { chunk: 65536 }));
    const streamed = await p.get(f.target('huge'));
    t.false(streamed?.body instanceof HeldBody, 'streamed');
    t.true(streamed && (await readAll(streamed.body)).equals(huge));

    // A primary down: a handoff takes its copy of a small body too.
    const down = firstPrimaryNode(f, 'small-down');
    await f.cluster.stopNode(down);
    await p.put(f.target('small-down'), bodyInput(f.ts(), Buffer.from('while down')));
    const ring = new RingSet(join(f.cluster.dir, 'rings'), [0]).object(0);
    const name = '/AUTH_test/bkt/small-down';
    const part = ring.partition(name);
    const handoff = [...ring.handoffs(part)][0];
    t.true(existsSync(hashDir(f.cluster, handoff.device, 0, part, name)), `handoff ${handoff.device} holds a copy`);
    const again = await p.get(f.target('small-down'));
    t.is(again && (await readAll(again.body)).toString(), 'while down');
  }),
);

