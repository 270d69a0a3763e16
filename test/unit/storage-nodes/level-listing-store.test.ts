import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { Level } from 'level';
import type { ListingRow } from '../../../src/common/wire.js';
import { DeviceUnavailableError } from '../../../storage-nodes/disk-file.js';
import { LevelListingStore, partitionKeyPrefix } from '../../../storage-nodes/level-listing-store.js';

const run = promisify(execFile);
const ts = (n: number) => `17000000${String(n).padStart(2, '0')}.000000`;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-lls-'));
  try {
    await mkdir(join(dir, 'd1'));
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a 100,000-row listing pages without scanning, with and without a delimiter', async (t) => {
  await withDir(async (dir) => {
    const store = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    try {
      const ref = { device: 'd1', partition: 1, account: 'a', bucket: 'b' };
      await store.create(ref, { ts: ts(1) });
      // 1,000 "directories" of 100 objects each.
      for (let d = 0; d < 1000; d += 10) {
        const rows = [];
        for (let dd = d; dd < d + 10; dd++) for (let f = 0; f < 100; f++) rows.push({ name: `dir${String(dd).padStart(4, '0')}/file${f}`, ts: ts(2), size: 1 });
        await store.mergeRows(ref, rows);
      }
      t.like(await store.info(ref), { objectCount: 100_000, bytesUsed: 100_000 });

      store.stats.rowsRead = 0;
      const plain = await store.list(ref, { limit: 100 });
      t.is(plain?.entries.length, 100);
      t.true(plain?.truncated);
      t.true(store.stats.rowsRead <= 101, `read ${store.stats.rowsRead} rows`);

      store.stats.rowsRead = 0;
      const grouped = await store.list(ref, { delimiter: '/', limit: 100 });
      t.is(grouped?.entries.length, 100);
      t.deepEqual(grouped?.entries[0], { subdir: 'dir0000/' });
      t.deepEqual(grouped?.entries[99], { subdir: 'dir0099/' });
      t.true(grouped?.truncated);
      t.true(store.stats.rowsRead <= 101, `read ${store.stats.rowsRead} rows`);

      store.stats.rowsRead = 0;
      const next = await store.list(ref, { delimiter: '/', marker: 'dir0099/', limit: 100 });
      t.deepEqual(next?.entries[0], { subdir: 'dir0100/' });
      t.true(store.stats.rowsRead <= 101, `read ${store.stats.rowsRead} rows`);

      store.stats.rowsRead = 0;
      const backwards = await store.list(ref, { delimiter: '/', limit: 10, reverse: true });
      t.deepEqual(backwards?.entries[0], { subdir: 'dir0999/' });
      t.true(store.stats.rowsRead <= 11, `read ${store.stats.rowsRead} rows`);

      store.stats.rowsRead = 0;
      const inside = await store.list(ref, { prefix: 'dir0500/', delimiter: '/', limit: 1000 });
      t.is(inside?.entries.length, 100);
      t.false(inside?.truncated);
      t.true(store.stats.rowsRead <= 100, `read ${store.stats.rowsRead} rows`);
    } finally {
      await store.close();
    }
  });
});

test('concurrent merges on a device share group commits, and survive a reopen', async (t) => {
  await withDir(async (dir) => {
    const store = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: true });
    const refs = Array.from({ length: 5 }, (_, i) => ({ device: 'd1', partition: i, account: 'a', bucket: `b${i}` }));
    for (const ref of refs) await store.create(ref, { ts: ts(1) });
    const before = store.batchCount('d1');
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.mergeRows(refs[i % 5], [{ name: `k${i}`, ts: ts(2), size: 2 }])));
    const batches = store.batchCount('d1') - before;
    t.true(batches < 100, `${batches} batches for 300 merges`);
    await store.close();

    const again = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: true });
    try {
      for (const ref of refs) {
        t.like(await again.info(ref), { objectCount: 60, bytesUsed: 120 });
        t.is((await again.list(ref, { limit: 1000 }))?.entries.length, 60);
      }
    } finally {
      await again.close();
    }
  });
});

test('rows stored in other shapes (change number first, or none) are listed as before', async (t) => {
  await withDir(async (dir) => {
    const ref = { device: 'd1', partition: 2, account: 'a', bucket: 'b' };
    const rows: ListingRow[] = [
      { name: 'a', ts: ts(2), size: 1, etag: 'x', contentType: 'text/plain', value: { seq: 1 } },
      { name: 'b', ts: ts(2), size: 2, etag: 'y' },
      { name: 'c', ts: ts(2), size: 3 },
      { name: 'd/e', ts: ts(2), size: 4, value: { storageClass: 'GLACIER' } },
    ];
    const store = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    await store.create(ref, { ts: ts(1) });
    await store.mergeRows(ref, rows);
    const want = await store.listJson(ref, { limit: 10 });
    const wantGrouped = await store.listJson(ref, { delimiter: '/', limit: 10 });
    await store.close();

    // Rewrite the stored rows as a writer that put `seq` first, or none, would have left them.
    const db = new Level<Buffer, string>(join(dir, 'd1', 'listings'), { keyEncoding: 'buffer', valueEncoding: 'utf8' });
    const live = Buffer.from('00000002\0a\0b\0r');
    const stored = await db.iterator({ gte: live, lt: Buffer.from('00000002\0a\0b\0s') }).all();
    t.is(stored.length, 4);
    for (const [i, [key, value]] of stored.entries()) {
      const { seq, ...rest } = JSON.parse(value) as { seq: number };
      t.regex(value, /,"seq":\d+\}$/);
      await db.put(key, JSON.stringify(i % 2 === 0 ? { seq, ...rest } : rest));
    }
    await db.close();

    const again = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    try {
      t.is(await again.listJson(ref, { limit: 10 }), want);
      t.is(await again.listJson(ref, { delimiter: '/', limit: 10 }), wantGrouped);
      t.deepEqual((await again.list(ref, { limit: 10 }))?.entries, rows);
    } finally {
      await again.close();
    }
  });
});

test('a listing stored before digests gets its digest from its rows when the replicator first asks', async (t) => {
  await withDir(async (dir) => {
    const ref = { device: 'd1', partition: 2, account: 'a', bucket: 'b' };
    const store = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    await store.create(ref, { ts: ts(1), meta: { m: 1 } });
    await store.mergeRows(ref, [{ name: 'a', ts: ts(2), size: 1 }, { name: 'b', ts: ts(2) }, { name: 'c', ts: ts(3) }]);
    await store.mergeRows(ref, [{ name: 'b', ts: ts(4), deleted: true }]);
    const kept = (await store.syncState(ref))!;
    await store.close();
    let twinDigest: string | undefined;
    let staleDigest: string | undefined;

    // Take the digest out of the stored info, as a listing written by an older version holds none.
    const db = new Level<Buffer, string>(join(dir, 'd1', 'listings'), { keyEncoding: 'buffer', valueEncoding: 'utf8' });
    const infoKey = Buffer.from('00000002\0a\0b\0i');
    const { digest, ...older } = JSON.parse((await db.get(infoKey))!) as { digest?: string };
    t.regex(digest ?? '', /^[0-9a-f]{32}$/);
    await db.put(infoKey, JSON.stringify(older));
    await db.close();

    const again = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    try {
      t.deepEqual(await again.syncState(ref), kept, 'computed from the rows, the same as kept along');
      await again.mergeRows(ref, [{ name: 'd', ts: ts(5) }]);
      staleDigest = (await again.syncState(ref))!.digest;
      t.not(staleDigest, kept.digest, 'and kept along from then on');
      // A twin listing that takes the same rows, and one more, normally.
      const twin = { ...ref, partition: 3 };
      await again.create(twin, { ts: ts(1), meta: { m: 1 } });
      await again.mergeRows(twin, [{ name: 'a', ts: ts(2), size: 1 }, { name: 'b', ts: ts(4), deleted: true }, { name: 'c', ts: ts(3) }, { name: 'd', ts: ts(5) }, { name: 'e', ts: ts(6) }]);
      twinDigest = (await again.syncState(twin))!.digest;
    } finally {
      await again.close();
    }

    // An older version that keeps no digest adds row `e` (and numbers the change) after that: the digest it
    // left is stale, and is computed again.
    const old = new Level<Buffer, string>(join(dir, 'd1', 'listings'), { keyEncoding: 'buffer', valueEncoding: 'utf8' });
    const info = JSON.parse((await old.get(infoKey))!) as { seq: number; digest: string; digestAt: number };
    t.is(info.digestAt, info.seq);
    await old.put(Buffer.from('00000002\0a\0b\0re'), JSON.stringify({ ts: ts(6), seq: info.seq + 1 }));
    await old.put(infoKey, JSON.stringify({ ...info, seq: info.seq + 1 }));
    await old.close();
    const third = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    try {
      t.is(await third.syncPoint(ref, 'f00d', { seq: 99, digest: staleDigest! }), 0, 'a peer matching the stale digest is not taken at its word');
      t.is((await third.syncState(ref))!.digest, twinDigest, 'the stale digest is not trusted');
    } finally {
      await third.close();
    }
  });
});

test('a page reads the rows it needs and no more; with a delimiter, a prefix past a batch is sought, not scanned', async (t) => {
  await withDir(async (dir) => {
    const store = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    try {
      const ref = { device: 'd1', partition: 1, account: 'a', bucket: 'b' };
      await store.create(ref, { ts: ts(1) });
      // Plain names (the run of rows read at once grows), then a big "directory", then more plain names.
      const names = [...Array.from({ length: 40 }, (_, i) => `a${String(i).padStart(2, '0')}`), ...Array.from({ length: 5000 }, (_, i) => `m/${i}`), 'z1', 'z2'];
      for (let i = 0; i < names.length; i += 1000) await store.mergeRows(ref, names.slice(i, i + 1000).map((name) => ({ name, ts: ts(2), size: 1 })));

      store.stats.rowsRead = 0;
      const page = await store.list(ref, { limit: 1000 });
      t.is(page?.entries.length, 1000);
      t.is(store.stats.rowsRead, 1001);

      store.stats.rowsRead = 0;
      const grouped = await store.list(ref, { delimiter: '/', limit: 1000 });
      t.deepEqual(
        grouped?.entries.map((e) => ('subdir' in e ? e.subdir : e.name)),
        [...names.slice(0, 40), 'm/', 'z1', 'z2'],
      );
      // The plain rows in batches of 1, 1, 2, 4, 8, 16 and 32, which reads 24 rows of m/ too; then z1 and z2.
      t.true(store.stats.rowsRead <= 40 + 32 + 3, `read ${store.stats.rowsRead} rows`);
    } finally {
      await store.close();
    }
  });
});

test('listing pages leave little native memory behind until V8 collects their iterators', async (t) => {
  // classic-level keeps an iterator's last batch, and room for the rows asked for, in memory V8 cannot see,
  // until it collects the closed iterator. Measured in a process of its own (ava's test files share this one):
  // its anonymous memory outside V8's heap and buffers. 400 pages, 16 at a time, left 34–47 MiB behind when
  // each page was read in one batch of 1,001 rows, 5–7 MiB in batches of 128.
  const store = new URL('../../../storage-nodes/level-listing-store.js', import.meta.url).href;
  await withDir(async (dir) => {
    const script = `
      import { readFileSync } from 'node:fs';
      import { LevelListingStore } from ${JSON.stringify(store)};
      const nativeMiB = () => {
        const anon = Number(/^RssAnon:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
        const m = process.memoryUsage();
        return (anon - m.heapTotal - m.external) / 1048576;
      };
      const store = await LevelListingStore.open({ devicesDir: ${JSON.stringify(dir)}, devices: ['d1'], fsync: false });
      const ref = { device: 'd1', partition: 1, account: 'a', bucket: 'b' };
      const ts = '1700000002.000000';
      const name = (n) => 'photos/2026/12/01/img-' + String(n).padStart(6, '0') + '.jpg';
      await store.create(ref, { ts: '1700000001.000000' });
      for (let i = 0; i < 5000; i += 1000) {
        await store.mergeRows(ref, Array.from({ length: 1000 }, (_, j) => ({ name: name(i + j), ts, size: 4096, etag: 'd41d8cd98f00b204e9800998ecf8427e' })));
      }
      await store.list(ref, { limit: 1000 });
      const before = nativeMiB();
      for (let round = 0; round < 25; round++) {
        await Promise.all(Array.from({ length: 16 }, (_, i) => store.listJson(ref, { limit: 1000, marker: name(((round * 16 + i) * 7) % 4000) })));
      }
      console.log(nativeMiB() - before);
      await store.close();`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    const grew = Number(stdout);
    t.true(grew < 20, `memory outside V8's heap grew by ${grew.toFixed(1)} MiB over 400 pages`);
  });
});

test('one partition is one key range of the device database', async (t) => {
  await withDir(async (dir) => {
    const store = await LevelListingStore.open({ devicesDir: dir, devices: ['d1'], fsync: false });
    await store.create({ device: 'd1', partition: 7, account: 'a', bucket: 'b' }, { ts: ts(1) });
    await store.mergeRows({ device: 'd1', partition: 7, account: 'a', bucket: 'b' }, [{ name: 'x', ts: ts(2) } as ListingRow]);
    await store.create({ device: 'd1', partition: 7, account: 'a' }, { ts: ts(1) });
    await store.create({ device: 'd1', partition: 8, account: 'a', bucket: 'b' }, { ts: ts(1) });
    await store.close();
    const db = new Level<Buffer, string>(join(dir, 'd1', 'listings'), { keyEncoding: 'buffer', valueEncoding: 'utf8' });
    const p7 = partitionKeyPrefix(7);
    const keys = await db.keys({ gte: p7, lt: partitionKeyPrefix(8) }).all();
    await db.close();
    t.deepEqual(
      keys.map((k) => k.toString('utf8').replaceAll('\0', '|')),
      // The create was change 1 of a/b, the row change 2 (the change index the replicator reads).
      ['00000007|a||i', '00000007|a|b|i', '00000007|a|b|rx', '00000007|a|b|s0000000000000002'],
    );
  });
});

test('opening a listing database on an unusable device names the path', async (t) => {
  await withDir(async (dir) => {
    // A file where the devices dir should be: Level cannot create `<device>/listings` under it.
    await writeFile(join(dir, 'blocker'), '');
    const err = await t.throwsAsync(LevelListingStore.open({ devicesDir: join(dir, 'blocker'), devices: ['d1'], fsync: false }));
    t.true(err instanceof DeviceUnavailableError);
    t.true(err!.message.includes(join(dir, 'blocker', 'd1', 'listings')), err!.message);
  });
});
