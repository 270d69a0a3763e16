/**
 * The ListingStore contract as one ava suite that every backend runs. `factory` builds a fresh store serving
 * `device` for each test.
 */
import test from 'ava';
import fc from 'fast-check';
import type { ListingEntry, ListingRow } from '../../../src/common/wire.js';
import { DeviceUnavailableError } from '../../../storage-nodes/disk-file.js';
import type { IncomingRow, ListingQuery, ListingRef, ListingStore } from '../../../storage-nodes/listing-store.js';

export interface ListingStoreFixture {
  store: ListingStore;
  device: string;
  cleanup(): Promise<void>;
}

const ts = (n: number) => `17000000${String(n).padStart(2, '0')}.000000`;

/** The obvious (slow) listing: sort, filter, group, cut. What every backend's paging must equal. */
export function referencePage(names: string[], q: ListingQuery): { entries: Array<string | { subdir: string }>; truncated: boolean } {
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const sorted = [...names].sort(cmp);
  if (q.reverse) sorted.reverse();
  const lowerMarker = q.reverse ? q.endMarker : q.marker;
  const upperMarker = q.reverse ? q.marker : q.endMarker;
  const all: Array<string | { subdir: string }> = [];
  for (const n of sorted) {
    if (q.prefix && !n.startsWith(q.prefix)) continue;
    if (lowerMarker && cmp(n, lowerMarker) <= 0) continue;
    if (upperMarker && cmp(n, upperMarker) >= 0) continue;
    const cut = q.delimiter ? n.indexOf(q.delimiter, q.prefix?.length ?? 0) : -1;
    if (cut < 0) {
      all.push(n);
      continue;
    }
    const subdir = n.slice(0, cut + q.delimiter!.length);
    if (lowerMarker && cmp(subdir, lowerMarker) <= 0) continue;
    const last = all.at(-1);
    if (typeof last === 'object' && last.subdir === subdir) continue;
    all.push({ subdir });
  }
  return { entries: all.slice(0, q.limit), truncated: all.length > q.limit };
}

function simplify(entries: ListingEntry[]): Array<string | { subdir: string }> {
  return entries.map((e) => ('subdir' in e ? { subdir: e.subdir } : e.name));
}

/** Registers the conformance tests under `title`. */
export function listingStoreConformance(title: string, factory: () => Promise<ListingStoreFixture>): void {
  async function withStore(fn: (store: ListingStore, ref: (bucket?: string, partition?: number) => ListingRef) => Promise<void>): Promise<void> {
    const fx = await factory();
    try {
      await fn(fx.store, (bucket, partition = 3) => ({ device: fx.device, partition, account: 'AUTH_test', bucket }));
    } finally {
      await fx.cleanup();
    }
  }

  test(`${title}: create, then create again; info starts empty`, async (t) => {
    await withStore(async (store, ref) => {
      t.is(await store.info(ref('b')), undefined);
      t.is(await store.create(ref('b'), { ts: ts(1), meta: { policy: 'replica-3' } }), 'created');
      t.is(await store.create(ref('b'), { ts: ts(2), meta: { owner: 'me' } }), 'accepted');
      t.deepEqual(await store.info(ref('b')), { createdTs: ts(1), meta: { policy: 'replica-3', owner: 'me' }, objectCount: 0, bytesUsed: 0 });
      t.is(await store.info(ref()), undefined, 'the account listing is another listing');
      t.is(await store.info(ref('b', 4)), undefined, 'so is the same bucket in another partition');
    });
  });

  test(`${title}: metadata merges per key by timestamp; null removes a key`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(5), meta: { a: 1 } });
      t.true(await store.updateMeta(ref('b'), { ts: ts(4), meta: { a: 2, b: 1 } }));
      t.deepEqual((await store.info(ref('b')))?.meta, { a: 1, b: 1 });
      await store.updateMeta(ref('b'), { ts: ts(7), meta: { a: null, c: { deep: [1] } } });
      await store.updateMeta(ref('b'), { ts: ts(6), meta: { a: 3 } });
      t.deepEqual((await store.info(ref('b')))?.meta, { b: 1, c: { deep: [1] } });
      t.false(await store.updateMeta(ref('none'), { ts: ts(8), meta: { a: 1 } }));
    });
  });

  test(`${title}: rows merge newest-wins per name and the stats stay exact`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      t.deepEqual(await store.mergeRows(ref('b'), [
        { name: 'a', ts: ts(2), size: 10, etag: 'e1', contentType: 'text/plain', value: { storageClass: 'STANDARD' } },
        { name: 'b', ts: ts(2), size: 5 },
        { name: 'c', ts: ts(2), size: 1 },
      ]), { found: true, conflicts: [] });
      await store.mergeRows(ref('b'), [
        { name: 'a', ts: ts(3), size: 100, etag: 'e2' },
        { name: 'b', ts: ts(1), size: 1000 },
        { name: 'c', ts: ts(3), deleted: true },
        { name: 'c', ts: ts(2), size: 7 },
        { name: 'd', ts: ts(4), deleted: true },
      ]);
      const page = await store.list(ref('b'), { limit: 100 });
      t.deepEqual(page?.entries, [
        { name: 'a', ts: ts(3), size: 100, etag: 'e2' },
        { name: 'b', ts: ts(2), size: 5 },
      ]);
      t.is(page?.truncated, false);
      t.like(await store.info(ref('b')), { objectCount: 2, bytesUsed: 105 });
      await store.mergeRows(ref('b'), [{ name: 'c', ts: ts(5), size: 3 }, { name: 'a', ts: ts(5), deleted: true }, { name: 'a', ts: ts(5), size: 9 }]);
      t.like(await store.info(ref('b')), { objectCount: 2, bytesUsed: 8 });
      t.deepEqual(simplify((await store.list(ref('b'), { limit: 100 }))!.entries), ['b', 'c']);
      t.deepEqual(await store.mergeRows(ref('nope'), [{ name: 'x', ts: ts(1) }]), { found: false });
    });
  });

  test(`${title}: ifAbsent rows conflict with live rows only; the other rows still merge`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref(), { ts: ts(1) });
      await store.mergeRows(ref(), [{ name: 'bucket1', ts: ts(2), value: { owner: 'alice' } }]);
      const r = await store.mergeRows(ref(), [
        { name: 'bucket1', ts: ts(5), ifAbsent: true, value: { owner: 'bob' } },
        { name: 'bucket2', ts: ts(5), ifAbsent: true, value: { owner: 'bob' } },
      ]);
      t.deepEqual(r, { found: true, conflicts: [{ name: 'bucket1', ts: ts(2), value: { owner: 'alice' } }] });
      t.deepEqual(simplify((await store.list(ref(), { limit: 10 }))!.entries), ['bucket1', 'bucket2']);
      t.is((await store.list(ref(), { limit: 10 }))!.entries[0] && ((await store.list(ref(), { limit: 10 }))!.entries[0] as ListingRow).value?.owner, 'alice');
      await store.mergeRows(ref(), [{ name: 'bucket1', ts: ts(6), deleted: true }]);
      t.deepEqual(await store.mergeRows(ref(), [{ name: 'bucket1', ts: ts(7), ifAbsent: true, value: { owner: 'bob' } }]), { found: true, conflicts: [] });
      t.like(await store.info(ref()), { objectCount: 2 });
    });
  });

  test(`${title}: delete only when empty; deleted listings refuse writes until revived by a newer create`, async (t) => {
    await withStore(async (store, ref) => {
      t.is(await store.delete(ref('b'), ts(2)), 'not-found');
      await store.create(ref('b'), { ts: ts(2), meta: { a: 1 } });
      await store.mergeRows(ref('b'), [{ name: 'k', ts: ts(3), size: 1 }]);
      t.is(await store.delete(ref('b'), ts(4)), 'not-empty');
      await store.mergeRows(ref('b'), [{ name: 'k', ts: ts(5), deleted: true }]);
      t.is(await store.delete(ref('b'), ts(2)), 'conflict');
      t.is(await store.delete(ref('b'), ts(6)), 'deleted');
      t.is(await store.delete(ref('b'), ts(7)), 'not-found');
      t.like(await store.info(ref('b')), { deletedTs: ts(6), objectCount: 0 });
      t.is(await store.list(ref('b'), { limit: 10 }), undefined);
      t.deepEqual(await store.mergeRows(ref('b'), [{ name: 'x', ts: ts(7) }]), { found: false });
      t.false(await store.updateMeta(ref('b'), { ts: ts(7), meta: { a: 2 } }));
      t.is(await store.create(ref('b'), { ts: ts(5) }), 'deleted');
      t.is(await store.create(ref('b'), { ts: ts(8), meta: { b: 2 } }), 'created');
      const info = await store.info(ref('b'));
      t.is(info?.deletedTs, undefined);
      t.is(info?.createdTs, ts(8));
      t.deepEqual(info?.meta, { a: 1, b: 2 });
      t.deepEqual((await store.list(ref('b'), { limit: 10 }))?.entries, []);
    });
  });

  test(`${title}: reclaim forgets old deleted rows, after which older rows can return`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      await store.mergeRows(ref('b'), [{ name: 'old', ts: ts(3), deleted: true }, { name: 'new', ts: ts(9), deleted: true }, { name: 'live', ts: ts(3) }]);
      await store.mergeRows(ref('b'), [{ name: 'old', ts: ts(2) }]);
      t.deepEqual(simplify((await store.list(ref('b'), { limit: 10 }))!.entries), ['live']);
      t.is(await store.reclaim(ref('b'), ts(5)), 1);
      await store.mergeRows(ref('b'), [{ name: 'old', ts: ts(2) }, { name: 'new', ts: ts(2) }]);
      t.deepEqual(simplify((await store.list(ref('b'), { limit: 10 }))!.entries), ['live', 'old']);
    });
  });

  test(`${title}: concurrent merges on one listing keep exact stats`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      await Promise.all(Array.from({ length: 200 }, (_, i) => store.mergeRows(ref('b'), [{ name: `k${i % 50}`, ts: ts(10 + (i % 7)), size: i % 7 }])));
      const page = await store.list(ref('b'), { limit: 1000 });
      t.is(page?.entries.length, 50);
      const bytes = (page!.entries as ListingRow[]).reduce((s, r) => s + (r.size ?? 0), 0);
      t.like(page?.info, { objectCount: 50, bytesUsed: bytes });
      for (const r of page!.entries as ListingRow[]) t.is(r.size, Number(r.ts.slice(8, 10)) - 10);
    });
  });

  test(`${title}: names are listed verbatim in UTF-8 byte order`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      const names = ['z', 'a', '\uffff', '😀', 'é', 'a/b', 'a\u0000b', '..', '//x', '%00', `${'k'.repeat(1024)}`, 'A'];
      await store.mergeRows(ref('b'), names.map((name) => ({ name, ts: ts(2) })));
      const want = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      t.deepEqual(simplify((await store.list(ref('b'), { limit: 100 }))!.entries), want);
      t.deepEqual(simplify((await store.list(ref('b'), { limit: 100, reverse: true }))!.entries), [...want].reverse());
    });
  });

  test(`${title}: paging with prefix, delimiter, markers, limit and reverse matches the reference`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      const alphabet = ['a', 'b', '/', '-', 'é', '😀', '\uffff'];
      const nameArb = fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 5 }).map((cs) => cs.join(''));
      const names = [...new Set(fc.sample(nameArb, { numRuns: 300, seed: 42 }))];
      await store.mergeRows(ref('b'), names.map((name) => ({ name, ts: ts(2) })));
      // Some deleted rows too: they must never show.
      await store.mergeRows(ref('b'), names.slice(0, 20).map((name) => ({ name, ts: ts(3), deleted: true })));
      const live = names.slice(20);
      const optional = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });
      const queryArb = fc.record({
        prefix: optional(fc.array(fc.constantFrom(...alphabet), { maxLength: 2 }).map((cs) => cs.join(''))),
        delimiter: optional(fc.constantFrom('/', '-', 'é', 'a/')),
        marker: optional(nameArb),
        endMarker: optional(nameArb),
        limit: fc.integer({ min: 1, max: 30 }),
        reverse: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(queryArb, async (q) => {
          const got = await store.list(ref('b'), q);
          const want = referencePage(live, q);
          t.deepEqual({ entries: simplify(got!.entries), truncated: got!.truncated }, want, JSON.stringify(q));
        }),
        { numRuns: 300, seed: 7 },
      );
    });
  });

  test(`${title}: a page's JSON text is what JSON.stringify makes of it, every row field and odd character kept`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      const rows: ListingRow[] = [
        { name: 'plain', ts: ts(2) },
        { name: 'q"uo\\te\n', ts: ts(2), size: 5, etag: 'e"1', contentType: 'text/plain; a="b"' },
        { name: 'seq,"seq":1}', ts: ts(2), size: 1, value: { seq: 3, note: ',"seq":9}' } },
        { name: 'value/last', ts: ts(2), size: 0, etag: '', value: { nested: { seq: 1 }, storageClass: 'STANDARD' } },
        { name: 'é😀\u0001', ts: ts(2), contentType: '' },
      ];
      await store.mergeRows(ref('b'), rows);
      const text = await store.listJson(ref('b'), { limit: 10 });
      t.is(text, JSON.stringify(JSON.parse(text!)));
      const page = await store.list(ref('b'), { limit: 10 });
      t.deepEqual(page?.entries, [...rows].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name))));
      t.like(page?.info, { objectCount: 5, bytesUsed: 6 });
      const grouped = await store.listJson(ref('b'), { delimiter: '/', limit: 10 });
      t.is(grouped, JSON.stringify(JSON.parse(grouped!)));
      t.true(JSON.parse(grouped!).entries.some((e: ListingEntry) => 'subdir' in e && e.subdir === 'value/'));
      t.is(await store.listJson(ref('none'), { limit: 10 }), undefined);
    });
  });

  test(`${title}: a device not served is unavailable`, async (t) => {
    await withStore(async (store) => {
      const ref = { device: 'other', partition: 1, account: 'a' };
      t.true((await t.throwsAsync(store.create(ref, { ts: ts(1) }))) instanceof DeviceUnavailableError);
      t.true((await t.throwsAsync(store.list(ref, { limit: 1 }))) instanceof DeviceUnavailableError);
      t.true((await t.throwsAsync(store.mergeRows(ref, [] as IncomingRow[]))) instanceof DeviceUnavailableError);
    });
  });

  // Replication: change numbers, changes since a point, merging a replica's batch, removing, reclaiming.

  /** Sends every change of `from` after the point `to` holds for it, as the listing replicator does. */
  async function replicate(store: ListingStore, from: ListingRef, to: ListingRef, limit = 1000): Promise<number> {
    const state = await store.syncState(from);
    let cursor = await store.syncPoint(to, state!.id);
    let batches = 0;
    for (;;) {
      const changes = await store.changesSince(from, cursor, limit);
      if (!changes || changes.upTo <= cursor) return batches;
      await store.mergeReplica(to, { id: state!.id, upTo: changes.upTo, info: changes.info, rows: changes.rows });
      batches++;
      cursor = changes.upTo;
      if (!changes.more) return batches;
    }
  }

  test(`${title}: every change takes the next number; changes come back in that order, deleted rows included`, async (t) => {
    await withStore(async (store, ref) => {
      t.is(await store.syncState(ref('b')), undefined);
      await store.create(ref('b'), { ts: ts(1) });
      const first = await store.syncState(ref('b'));
      t.is(first?.seq, 1);
      t.regex(first!.id, /^[0-9a-f-]+$/);
      await store.mergeRows(ref('b'), [{ name: 'x', ts: ts(2), size: 3 }, { name: 'y', ts: ts(2) }]);
      await store.mergeRows(ref('b'), [{ name: 'x', ts: ts(3), deleted: true }]);
      await store.mergeRows(ref('b'), [{ name: 'y', ts: ts(1) }]); // older: no change
      await store.updateMeta(ref('b'), { ts: ts(4), meta: { color: 'red' } });
      t.like(await store.syncState(ref('b')), { id: first!.id, seq: 5 });
      const all = await store.changesSince(ref('b'), 0, 10);
      t.deepEqual(all?.rows, [{ name: 'y', ts: ts(2) }, { name: 'x', ts: ts(3), deleted: true }]);
      t.is(all?.upTo, 5);
      t.false(all?.more);
      t.deepEqual(all?.info, { createdTs: ts(1), meta: { color: ['red', ts(4)] } });
      const page = await store.changesSince(ref('b'), 0, 1);
      t.deepEqual(page?.rows.map((r) => r.name), ['y']);
      t.true(page?.more);
      t.is(page?.upTo, 3);
      t.deepEqual((await store.changesSince(ref('b'), 3, 10))?.rows.map((r) => r.name), ['x']);
      t.deepEqual((await store.changesSince(ref('b'), 5, 10))?.rows, []);
      t.is(await store.changesSince(ref('none'), 0, 10), undefined);
    });
  });

  test(`${title}: replicas converge by exchanging changes, only new ones after the first exchange`, async (t) => {
    await withStore(async (store, ref) => {
      const a = ref('b', 3);
      const b = ref('b', 4);
      await store.create(a, { ts: ts(1), meta: { x: 1 } });
      await store.mergeRows(a, Array.from({ length: 25 }, (_, i) => ({ name: `k${i}`, ts: ts(2), size: i })));
      t.is(await replicate(store, a, b, 10), 3, 'a missing listing is created; rows go in batches');
      t.deepEqual(await store.info(b), await store.info(a));
      // Both sides change; each exchange sends only what is new.
      await store.mergeRows(a, [{ name: 'k0', ts: ts(5), deleted: true }, { name: 'new-a', ts: ts(5), size: 100 }]);
      await store.mergeRows(b, [{ name: 'k1', ts: ts(6), size: 7 }, { name: 'k0', ts: ts(4), size: 1 }]);
      await store.updateMeta(b, { ts: ts(6), meta: { x: 2, y: 3 } });
      const idA = (await store.syncState(a))!.id;
      const sinceA = await store.syncPoint(b, idA);
      t.deepEqual((await store.changesSince(a, sinceA, 100))?.rows.map((r) => r.name), ['k0', 'new-a']);
      await replicate(store, a, b);
      await replicate(store, b, a);
      await replicate(store, a, b);
      const la = await store.list(a, { limit: 100 });
      const lb = await store.list(b, { limit: 100 });
      t.deepEqual(lb?.entries, la?.entries);
      t.deepEqual(lb?.info, la?.info);
      t.false(la!.entries.some((e) => 'name' in e && e.name === 'k0'), 'the newer delete wins over the older row');
      t.like(la?.info, { objectCount: 25, meta: { x: 2, y: 3 } });
      // Nothing new: an exchange sends nothing and changes nothing.
      const before = [await store.syncState(a), await store.syncState(b)];
      t.is(await replicate(store, a, b), 0);
      t.is(await replicate(store, b, a), 0);
      t.deepEqual([await store.syncState(a), await store.syncState(b)], before);
    });
  });

  test(`${title}: replicas that took the same rows in any order have the same digest, and then nothing is sent`, async (t) => {
    await withStore(async (store, ref) => {
      const a = ref('b', 3);
      const b = ref('b', 4);
      const rows: IncomingRow[] = [
        { name: 'x', ts: ts(2), size: 3, etag: 'e' },
        { name: 'y', ts: ts(2), size: 1 },
        { name: 'x', ts: ts(4), deleted: true },
        { name: 'z', ts: ts(3), size: 5 },
        { name: 'y', ts: ts(1), size: 9 }, // older: ignored
      ];
      for (const r of [a, b]) await store.create(r, { ts: ts(1), meta: { color: 'red' } });
      // As listing updates reach each replica: in another order and grouping on each.
      await store.mergeRows(a, rows);
      for (const r of [...rows].reverse()) await store.mergeRows(b, [r]);
      const sa = (await store.syncState(a))!;
      const sb = (await store.syncState(b))!;
      t.regex(sa.digest ?? '', /^[0-9a-f]{32}$/);
      t.is(sb.digest, sa.digest, 'same rows and info, same digest');
      t.is(await store.syncPoint(b, sa.id, { seq: sa.seq, digest: sa.digest! }), sa.seq, 'the same digest: all of them merged');
      t.is(await store.syncPoint(b, sa.id), sa.seq, 'and recorded');
      t.is(await replicate(store, a, b), 0, 'nothing to send');

      // A row one of them lacks, or metadata, or a delete time of the listing tells them apart.
      await store.mergeRows(a, [{ name: 'w', ts: ts(5) }]);
      const sa2 = (await store.syncState(a))!;
      t.not(sa2.digest, (await store.syncState(b))!.digest);
      t.is(await store.syncPoint(b, sa2.id, { seq: sa2.seq, digest: sa2.digest! }), sa.seq, 'another digest: the point stays');
      await store.mergeRows(b, [{ name: 'w', ts: ts(5) }]);
      t.is((await store.syncState(b))!.digest, sa2.digest);
      await store.updateMeta(b, { ts: ts(6), meta: { color: 'blue' } });
      t.not((await store.syncState(b))!.digest, sa2.digest);
      await store.updateMeta(a, { ts: ts(6), meta: { color: 'blue' } });
      t.is((await store.syncState(b))!.digest, (await store.syncState(a))!.digest);

      // Reclaiming deleted rows takes them out of the digest.
      t.is(await store.reclaim(a, ts(9)), 1);
      t.not((await store.syncState(a))!.digest, (await store.syncState(b))!.digest);
      t.is(await store.reclaim(b, ts(9)), 1);
      t.is((await store.syncState(a))!.digest, (await store.syncState(b))!.digest);
    });
  });

  test(`${title}: the digest does not depend on the order rows arrive in (property)`, async (t) => {
    // A write's timestamp fixes its content (as a real write does): deleted and size follow from it.
    const row = fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd/e', 'é'), n: fc.integer({ min: 2, max: 30 }) });
    const incoming = (r: { name: string; n: number }): IncomingRow => (r.n % 3 === 0 ? { name: r.name, ts: ts(r.n), deleted: true } : { name: r.name, ts: ts(r.n), size: r.n % 7 });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 12 }), fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), async (rows, keys) => {
        return withStore(async (store, ref) => {
          const shuffled = rows.map((r, i) => ({ r, k: keys[i] })).sort((x, y) => x.k - y.k).map((x) => x.r);
          const a = ref('b', 3);
          const b = ref('b', 4);
          for (const r of [a, b]) await store.create(r, { ts: ts(1) });
          for (const r of rows) await store.mergeRows(a, [incoming(r)]);
          await store.mergeRows(b, shuffled.map(incoming));
          t.is((await store.syncState(a))!.digest, (await store.syncState(b))!.digest);
        });
      }),
      { numRuns: 25 },
    );
  });

  test(`${title}: a replica batch merges deleted state and rows also into a deleted listing`, async (t) => {
    await withStore(async (store, ref) => {
      const a = ref('b', 3);
      const b = ref('b', 4);
      await store.create(a, { ts: ts(1) });
      await replicate(store, a, b);
      t.is(await store.delete(a, ts(2)), 'deleted');
      await replicate(store, a, b);
      t.is((await store.info(b))?.deletedTs, ts(2));
      t.is(await store.list(b, { limit: 1 }), undefined);
      // A row newer than the delete still lands (Swift keeps rows of deleted DBs); a newer create revives.
      await store.mergeReplica(b, { id: 'f00d', upTo: 1, info: { createdTs: ts(1), meta: {} }, rows: [{ name: 'late', ts: ts(3) }] });
      t.like(await store.info(b), { deletedTs: ts(2), objectCount: 1 });
      t.is(await store.syncPoint(b, 'f00d'), 1);
      await store.mergeReplica(b, { id: 'f00d', upTo: 2, info: { createdTs: ts(4), deletedTs: ts(2), meta: {} }, rows: [] });
      t.like(await store.info(b), { createdTs: ts(4), deletedTs: undefined });
      t.deepEqual(simplify((await store.list(b, { limit: 10 }))!.entries), ['late']);
      t.is(await store.syncPoint(b, 'f00d'), 2);
      await store.mergeReplica(b, { id: 'f00d', upTo: 1, info: { createdTs: ts(4), meta: {} }, rows: [] });
      t.is(await store.syncPoint(b, 'f00d'), 2, 'a point never goes back');
    });
  });

  test(`${title}: reclaim with a change bound keeps deleted rows others have not merged`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      await store.mergeRows(ref('b'), [{ name: 'd1', ts: ts(2), deleted: true }]); // change 2
      await store.mergeRows(ref('b'), [{ name: 'd2', ts: ts(3), deleted: true }]); // change 3
      t.is(await store.reclaim(ref('b'), ts(9), 2), 1);
      t.deepEqual((await store.changesSince(ref('b'), 0, 10))?.rows.map((r) => r.name), ['d2']);
      t.is(await store.reclaim(ref('b'), ts(3), 3), 0, 'not older than the cutoff');
      t.is(await store.reclaim(ref('b'), ts(9), 3), 1);
      t.is(await store.reclaim(ref('b'), ts(9)), 0);
    });
  });

  test(`${title}: partitions and listings of a partition, paged; removeListing only when unchanged`, async (t) => {
    await withStore(async (store, ref) => {
      for (const [bucket, partition] of [['b', 3], [undefined, 3], ['c', 3], ['b', 9], ['z', 0x10000]] as const) {
        await store.create(ref(bucket, partition), { ts: ts(1) });
        await store.mergeRows(ref(bucket, partition), [{ name: 'x', ts: ts(2) }]).catch(() => {});
      }
      const device = ref().device;
      t.deepEqual(await store.partitions(device), [3, 9, 0x10000]);
      const names = (refs: ListingRef[]) => refs.map((r) => r.bucket ?? '(account)');
      t.deepEqual(names(await store.listingsIn(device, 3, 10)), ['(account)', 'b', 'c']);
      const first = await store.listingsIn(device, 3, 2);
      t.deepEqual(names(first), ['(account)', 'b']);
      t.deepEqual(names(await store.listingsIn(device, 3, 2, first[1])), ['c']);
      t.deepEqual(await store.listingsIn(device, 4, 10), []);
      const state = await store.syncState(ref('c', 3));
      t.false(await store.removeListing(ref('c', 3), state!.seq - 1));
      t.true(await store.removeListing(ref('c', 3), state!.seq));
      t.is(await store.info(ref('c', 3)), undefined);
      t.deepEqual(names(await store.listingsIn(device, 3, 10)), ['(account)', 'b']);
      t.true((await store.list(ref('b', 3), { limit: 10 }))!.entries.length === 1, 'neighbours untouched');
    });
  });

  test(`${title}: with changeLog set, every applied row change is a log entry in change order; trimmed by age`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1) });
      await store.mergeRows(ref('b'), [{ name: 'before', ts: ts(2) }]);
      t.deepEqual((await store.readChanges(ref('b'), 0, 10))?.entries, [], 'nothing logged without changeLog');
      await store.updateMeta(ref('b'), { ts: ts(3), meta: { changeLog: true } });
      await store.mergeRows(ref('b'), [
        { name: 'k', ts: ts(4), size: 3, etag: 'e1', contentType: 'text/plain', value: { event: 'ObjectCreated:Copy', origin: ['h'] } },
        { name: 'k', ts: ts(4) },
        { name: 'old', ts: ts(1) },
      ]);
      await store.mergeRows(ref('b'), [{ name: 'k', ts: ts(5), deleted: true }, { name: 'k', ts: ts(3) }]);
      const page = (await store.readChanges(ref('b'), 0, 10))!;
      t.deepEqual(
        page.entries.map(({ at: _, ...e }) => e),
        [
          { seq: page.entries[0].seq, key: 'k', ts: ts(4), size: 3, etag: 'e1', contentType: 'text/plain', event: 'ObjectCreated:Copy', origin: ['h'] },
          { seq: page.entries[1].seq, key: 'old', ts: ts(1) },
          { seq: page.entries[2].seq, key: 'k', ts: ts(5), deleted: true },
        ],
        'a duplicate or older row changes nothing and logs nothing',
      );
      t.true(page.entries[0].seq < page.entries[1].seq && page.entries[1].seq < page.entries[2].seq);
      t.is(page.head, (await store.syncState(ref('b')))!.seq);
      t.is(page.id, (await store.syncState(ref('b')))!.id);
      const later = (await store.readChanges(ref('b'), page.entries[0].seq, 1))!;
      t.deepEqual(later.entries.map((e) => e.key), ['old']);
      t.true(later.more);
      t.deepEqual(await store.changeRows(ref('b'), ['k', 'old', 'none']), [
        { ts: ts(5), seq: page.entries[2].seq, deleted: true },
        { ts: ts(1), seq: page.entries[1].seq },
        null,
      ]);
      t.is(await store.changeRows(ref('nope'), ['k']), undefined);
      t.is(await store.readChanges(ref('nope'), 0, 10), undefined);
      t.is(await store.trimChanges(ref('b'), page.entries[0].at), 0, 'nothing older than the oldest');
      t.is(await store.trimChanges(ref('b'), Date.now() + 1), 3);
      t.deepEqual((await store.readChanges(ref('b'), 0, 10))?.entries, []);
      await store.updateMeta(ref('b'), { ts: ts(6), meta: { changeLog: null } });
      await store.mergeRows(ref('b'), [{ name: 'after', ts: ts(7) }]);
      t.deepEqual((await store.readChanges(ref('b'), 0, 10))?.entries, [], 'off again');
    });
  });

  test(`${title}: rows merged from another replica are logged too`, async (t) => {
    await withStore(async (store, ref) => {
      await store.create(ref('b'), { ts: ts(1), meta: { changeLog: true } });
      await store.mergeReplica(ref('b'), {
        id: '00000000-0000-0000-0000-000000000001',
        upTo: 2,
        info: { createdTs: ts(1), meta: { changeLog: [true, ts(1)] } },
        rows: [{ name: 'r', ts: ts(2), size: 1, etag: 'x' }],
      });
      t.deepEqual((await store.readChanges(ref('b'), 0, 10))?.entries.map((e) => e.key), ['r']);
    });
  });
}
