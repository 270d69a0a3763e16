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

  test(`${title}: a device not served is unavailable`, async (t) => {
    await withStore(async (store) => {
      const ref = { device: 'other', partition: 1, account: 'a' };
      t.true((await t.throwsAsync(store.create(ref, { ts: ts(1) }))) instanceof DeviceUnavailableError);
      t.true((await t.throwsAsync(store.list(ref, { limit: 1 }))) instanceof DeviceUnavailableError);
      t.true((await t.throwsAsync(store.mergeRows(ref, [] as IncomingRow[]))) instanceof DeviceUnavailableError);
    });
  });
}
