import test from 'ava';
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
