import { randomBytes } from 'node:crypto';
import test from 'ava';
import { isArcaError } from '../../../src/common/errors.js';
import { hangOn } from '../../helpers/cluster.js';
import { archivePlacement } from '../../probe/ec-cluster.js';
import { bodyInput, readAll, withPolicies } from './policy-fixture.js';

const policies = [
  { index: 0, name: 'replica-3' },
  { index: 1, name: 'ec-4+2' },
];
// Small segments so that a few KiB make many segments.
const segment = 4096;

test(
  'ec-4+2: bodies of every shape round-trip, whole and by range, without decoding when all data archives answer',
  withPolicies({ nodes: 6, policies, ecSegmentSize: segment }, async (t, f) => {
    const p = f.policy('ec-4+2');
    for (const size of [0, 1, 7, 4095, 4096, 4097, 3 * 4096 + 1001, 20 * 4096]) {
      const body = randomBytes(size);
      const key = `obj-${size}`;
      const { meta } = await p.put(f.target(key), bodyInput(f.ts(), body, { chunk: 1000 }));
      t.like(meta, { objectSize: size, etag: `etag-${size}`, ec: { k: 4, m: 2, segmentSize: segment, size } });
      const got = await p.get(f.target(key));
      t.truthy(got, key);
      t.true((await readAll(got!.body)).equals(body), `${key} whole`);
      t.like(await p.head(f.target(key)), { objectSize: size, ts: meta.ts });
      if (size === 0) {
        t.true(isArcaError(await t.throwsAsync(p.get(f.target(key), { start: 0 })), 'RangeNotSatisfiable'));
        continue;
      }
      const ranges: Array<[number, number | undefined]> = [[0, 0], [size - 1, undefined], [Math.floor(size / 3), Math.floor((2 * size) / 3)]];
      if (size > segment) ranges.push([segment - 3, segment + 2], [segment, 2 * segment - 1]);
      for (const [start, end] of ranges) {
        const r = await p.get(f.target(key), { start, end });
        const last = Math.min(end ?? size - 1, size - 1);
        t.deepEqual(r?.range, { start, end: last });
        t.true((await readAll(r!.body)).equals(body.subarray(start, last + 1)), `${key} ${start}-${end}`);
      }
      const suffix = await p.get(f.target(key), { suffix: 5 });
      t.true((await readAll(suffix!.body)).equals(body.subarray(Math.max(0, size - 5))), `${key} suffix`);
      t.true(isArcaError(await t.throwsAsync(p.get(f.target(key), { start: size })), 'RangeNotSatisfiable'));
    }
    t.is(await p.get(f.target('missing')), undefined);
    t.is(await p.head(f.target('missing')), undefined);
  }),
);

test(
  'ec-4+2: reads decode with up to m nodes down; writes need k+1; deletes and metadata updates reach m+1',
  withPolicies({ nodes: 6, policies, ecSegmentSize: segment }, async (t, f) => {
    const p = f.policy('ec-4+2');
    const body = randomBytes(5 * segment + 123);
    const first = await p.put(f.target('k'), bodyInput(f.ts(), body));
    await f.cluster.stopNode(0);
    await f.cluster.stopNode(1);
    const got = await p.get(f.target('k'));
    t.true((await readAll(got!.body)).equals(body), 'decoded with two nodes down');
    const part = await p.get(f.target('k'), { start: segment - 10, end: 3 * segment + 10 });
    t.true((await readAll(part!.body)).equals(body.subarray(segment - 10, 3 * segment + 11)));
    // Six devices, two down: only four archives can be written, fewer than k+1.
    t.true(isArcaError(await t.throwsAsync(p.put(f.target('k2'), bodyInput(f.ts(), body))), 'InsufficientReplicas'));
    t.like(await p.post(f.target('k'), f.ts(), { tags: { a: '1' } }), { ts: first.meta.ts, tags: { a: '1' } });
    await f.cluster.startNode(0);
    await f.cluster.startNode(1);
    t.like(await p.head(f.target('k')), { tags: { a: '1' } }, 'the patch is seen whichever archives answer');
    const second = await p.put(f.target('k'), bodyInput(f.ts(), Buffer.from('v2')));
    t.like(second.replaced, { ts: first.meta.ts, tags: { a: '1' } });
    const del = await p.delete(f.target('k'), f.ts());
    t.true(del.existed);
    t.like(del.replaced, { ts: second.meta.ts });
    t.is(await p.get(f.target('k')), undefined);
    t.is(await p.post(f.target('k'), f.ts(), { x: 1 }), undefined);
  }),
);

test(
  'ec-4+2: a read with a hung data primary, and no error limiter, reads the archives it opened while it waited',
  // The node timeout is shorter than the reader's wait for a straggler (500 ms): the bodies opened in the first
  // round time out unread, and each is opened again once. Without that, every read fails; with a node timeout
  // this short, a loaded machine can fail a write or a read now and then, so each gets three tries.
  withPolicies({ nodes: 6, policies, ecSegmentSize: segment, nodeTimeoutMs: 400 }, async (t, f) => {
    const tries = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (let i = 1; ; i++) {
        try {
          return await fn();
        } catch (err) {
          if (i === 3) throw err;
        }
      }
    };
    const p = f.policy('ec-4+2');
    const devices = f.cluster.nodeConfigs[0].devices;
    let key = 'k0';
    for (let i = 1; !archivePlacement(f.cluster, `/AUTH_test/bkt/${key}`, 1).primaries.slice(0, 4).some((d) => devices.includes(d)); i++) key = `k${i}`;
    const body = randomBytes(3 * segment + 5);
    await tries(() => p.put(f.target(key), bodyInput(f.ts(), body)));
    await f.cluster.stopNode(0);
    const hung = await hangOn(f.cluster.nodeConfigs[0].port);
    try {
      for (let i = 0; i < 3; i++) t.true((await tries(async () => readAll((await p.get(f.target(key)))!.body))).equals(body), `read ${i}`);
      t.true(hung.connections > 0, 'the hung node was asked');
    } finally {
      await hung.close();
    }
  }),
);

test(
  'ec-8+4 and ec-10+4 round-trip beside each other, whole and by range, with m nodes down',
  withPolicies(
    {
      nodes: 14,
      policies: [
        { index: 0, name: 'replica-3' },
        { index: 1, name: 'ec-8+4' },
        { index: 2, name: 'ec-10+4' },
      ],
      ecSegmentSize: segment,
    },
    async (t, f) => {
      const body = randomBytes(7 * segment + 999);
      for (const name of ['ec-8+4', 'ec-10+4']) {
        const p = f.policy(name);
        await p.put(f.target(name), bodyInput(f.ts(), body, { chunk: 3000 }));
        t.true((await readAll((await p.get(f.target(name)))!.body)).equals(body), name);
      }
      for (let i = 0; i < 4; i++) await f.cluster.stopNode(i);
      for (const name of ['ec-8+4', 'ec-10+4']) {
        const p = f.policy(name);
        t.true((await readAll((await p.get(f.target(name)))!.body)).equals(body), `${name} with 4 nodes down`);
        const r = await p.get(f.target(name), { start: segment - 1, end: 5 * segment });
        t.true((await readAll(r!.body)).equals(body.subarray(segment - 1, 5 * segment + 1)), `${name} range`);
      }
    },
  ),
);
