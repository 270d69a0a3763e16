import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { RingSet } from '../../../src/common/ring-files.js';
import { hashDir } from '../../helpers/placement.js';
import { bodyInput, readAll, withPolicies } from './policy-fixture.js';

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
    t.like(await p.head(f.target('down')), { tags: { t: '1' } });
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
