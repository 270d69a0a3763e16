/**
 * The DiskFiles contract as one ava suite that every backend runs (Level's habit: the spec is a shared test
 * suite). `factory` builds a fresh store serving `device` for each test.
 */
import type { Readable } from 'node:stream';
import test from 'ava';
import { isArcaError } from '../../../src/common/errors.js';
import type { ObjectMeta } from '../../../src/common/wire.js';
import { type ByteRange, DeviceUnavailableError, type DiskFiles, type ObjectLocation, suffixOfHash, hashOfName } from '../../../storage-nodes/disk-file.js';

export interface DiskFilesFixture {
  files: DiskFiles;
  device: string;
  cleanup(): Promise<void>;
}

/** Reads a whole body (Buffer or stream) from `DataFile.read`. */
export async function readBody(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes one version through the full create → write → put → commit protocol. */
export async function writeObject(files: DiskFiles, loc: ObjectLocation, ts: string, body: Buffer, extra: Partial<ObjectMeta> = {}): Promise<void> {
  const w = await files.create(loc);
  for (let i = 0; i < body.length; i += 65536) await w.write(body.subarray(i, i + 65536));
  w.put({ name: loc.name, ts, size: body.length, xxh64: '0000000000000000', etag: 'e', contentType: 'application/octet-stream', ...extra });
  await w.commit();
}

/** Registers the conformance tests under `title`. */
export function diskFilesConformance(title: string, factory: () => Promise<DiskFilesFixture>): void {
  const t0 = '1700000000.000000';
  const t1 = '1700000001.000000';
  const t2 = '1700000002.000000';

  async function withFiles(fn: (files: DiskFiles, loc: (name: string, partition?: number, policyIndex?: number) => ObjectLocation) => Promise<void>): Promise<void> {
    const fx = await factory();
    try {
      await fn(fx.files, (name, partition = 7, policyIndex = 0) => ({ device: fx.device, policyIndex, partition, name }));
    } finally {
      await fx.cleanup();
    }
  }

  async function open(files: DiskFiles, l: ObjectLocation, range?: ByteRange) {
    const f = await files.open(l);
    if (f?.kind !== 'data') return f;
    return { kind: 'data' as const, meta: f.meta, size: f.size, rawMeta: Buffer.from(f.rawMeta).toString('utf8'), body: await readBody(f.read(range)) };
  }

  test(`${title}: a committed object reads back with its metadata`, async (t) => {
    await withFiles(async (files, loc) => {
      const body = Buffer.from('hello, world');
      await writeObject(files, loc('/a/b/k'), t1, body, { contentType: 'text/plain', listing: { x: 1 } });
      const got = await open(files, loc('/a/b/k'));
      t.is(got?.kind, 'data');
      if (got?.kind !== 'data') return;
      t.deepEqual(got.body, body);
      t.is(got.size, body.length);
      t.is(got.meta.ts, t1);
      t.is(got.meta.name, '/a/b/k');
      t.is(got.meta.contentType, 'text/plain');
      t.deepEqual(got.meta.listing, { x: 1 });
      t.deepEqual(JSON.parse(got.rawMeta), got.meta);
      t.deepEqual(await files.newest(loc('/a/b/k')), { kind: 'data', ts: t1 });
    });
  });

  test(`${title}: absent objects are undefined`, async (t) => {
    await withFiles(async (files, loc) => {
      t.is(await files.open(loc('/a/b/none')), undefined);
      t.is(await files.newest(loc('/a/b/none')), undefined);
    });
  });

  test(`${title}: empty, small and multi-MiB bodies, whole and by range`, async (t) => {
    await withFiles(async (files, loc) => {
      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      for (const [name, body] of [['/a/b/empty', Buffer.alloc(0)], ['/a/b/small', Buffer.from('0123456789')], ['/a/b/big', big]] as const) {
        await writeObject(files, loc(name), t1, body);
        const whole = await open(files, loc(name));
        // Buffer.equals: ava's deepEqual is far too slow for MiBs.
        t.true(whole?.kind === 'data' && whole.body.equals(body), name);
        if (body.length > 4) {
          const part = await open(files, loc(name), { start: 2, end: body.length - 2 });
          t.true(part?.kind === 'data' && part.body.equals(body.subarray(2, body.length - 1)), `${name} range`);
        }
      }
    });
  });

  test(`${title}: newest timestamp wins; older or equal writes are refused with the existing timestamp`, async (t) => {
    await withFiles(async (files, loc) => {
      const l = loc('/a/b/k');
      await writeObject(files, l, t1, Buffer.from('one'));
      await writeObject(files, l, t2, Buffer.from('two'));
      for (const ts of [t0, t1, t2]) {
        const err = await t.throwsAsync(writeObject(files, l, ts, Buffer.from('late')));
        t.true(isArcaError(err, 'Conflict'));
        t.is((err as unknown as { detail: { existingTs: string } }).detail.existingTs, t2);
      }
      const got = await open(files, l);
      t.deepEqual(got?.kind === 'data' && got.body.toString(), 'two');
    });
  });

  test(`${title}: tombstones hide data, report what they replaced, and lose to newer writes`, async (t) => {
    await withFiles(async (files, loc) => {
      const l = loc('/a/b/k');
      t.deepEqual(await files.delete(l, t0), { previous: undefined });
      t.deepEqual(await files.open(l), { kind: 'tombstone', ts: t0 });
      await writeObject(files, l, t1, Buffer.from('x'));
      const err = await t.throwsAsync(files.delete(l, t1));
      t.true(isArcaError(err, 'Conflict'));
      t.like(await files.delete(l, t2), { previous: 'data', replaced: { name: '/a/b/k', ts: t1, size: 1 } });
      t.deepEqual(await files.open(l), { kind: 'tombstone', ts: t2 });
      t.deepEqual(await files.newest(l), { kind: 'tombstone', ts: t2 });
      await t.throwsAsync(writeObject(files, l, t1, Buffer.from('old')));
      t.deepEqual(await files.delete(l, '1700000003.000000'), { previous: 'tombstone' });
    });
  });

  test(`${title}: abort leaves nothing, at any point`, async (t) => {
    await withFiles(async (files, loc) => {
      const l = loc('/a/b/k');
      const w1 = await files.create(l);
      await w1.abort();
      const w2 = await files.create(l);
      await w2.write(Buffer.from('partial'));
      await w2.abort();
      const w3 = await files.create(l);
      await w3.write(Buffer.from('partial'));
      w3.put({ name: l.name, ts: t1, size: 7, xxh64: '0', etag: 'e', contentType: 'x' });
      await w3.abort();
      await w3.abort();
      t.is(await files.open(l), undefined);
      await writeObject(files, l, t1, Buffer.from('kept'));
      const w4 = await files.create(l);
      await w4.write(Buffer.from('discarded'));
      await w4.abort();
      const got = await open(files, l);
      t.deepEqual(got?.kind === 'data' && got.body.toString(), 'kept');
    });
  });

  test(`${title}: commit needs metadata first`, async (t) => {
    await withFiles(async (files, loc) => {
      const w = await files.create(loc('/a/b/k'));
      await t.throwsAsync(w.commit());
      await w.abort();
      t.is(await files.open(loc('/a/b/k')), undefined);
    });
  });

  test(`${title}: names are opaque (dots, slashes, emoji, 1024 bytes) and placement parts keep objects apart`, async (t) => {
    await withFiles(async (files, loc) => {
      const names = ['/a/b/..', '/a/b/../../etc/passwd', '/a/b//x//', '/a/b/%00', '/a/b/🦄 ünïcode', `/a/b/${'k'.repeat(1024)}`, '/a/b/.', '/a/b/x\ny'];
      for (const [i, name] of names.entries()) await writeObject(files, loc(name), t1, Buffer.from(String(i)));
      for (const [i, name] of names.entries()) {
        const got = await open(files, loc(name));
        t.is(got?.kind === 'data' && got.body.toString(), String(i), name);
        t.is(got?.kind === 'data' && got.meta.name, name);
      }
      await writeObject(files, loc('/a/b/k', 7, 0), t1, Buffer.from('p7'));
      await writeObject(files, loc('/a/b/k', 8, 0), t1, Buffer.from('p8'));
      await writeObject(files, loc('/a/b/k', 7, 1), t1, Buffer.from('policy1'));
      for (const [l, want] of [[loc('/a/b/k', 7, 0), 'p7'], [loc('/a/b/k', 8, 0), 'p8'], [loc('/a/b/k', 7, 1), 'policy1']] as const) {
        const got = await open(files, l);
        t.is(got?.kind === 'data' && got.body.toString(), want);
      }
    });
  });

  test(`${title}: concurrent commits of one object leave the newest`, async (t) => {
    await withFiles(async (files, loc) => {
      const l = loc('/a/b/race');
      const stamps = Array.from({ length: 12 }, (_, i) => `17000000${String(10 + ((i * 7) % 12)).padStart(2, '0')}.000000`);
      const results = await Promise.allSettled(stamps.map((ts) => writeObject(files, l, ts, Buffer.from(ts))));
      for (const r of results) if (r.status === 'rejected') t.true(isArcaError(r.reason, 'Conflict'));
      const newest = [...stamps].sort().at(-1)!;
      const got = await open(files, l);
      t.is(got?.kind === 'data' && got.body.toString(), newest);
    });
  });

  test(`${title}: writes and deletes invalidate their suffix`, async (t) => {
    await withFiles(async (files, loc) => {
      t.deepEqual(await files.invalidatedSuffixes(loc('x').device, 0, 3), []);
      await writeObject(files, loc('/a/b/one', 3), t1, Buffer.from('1'));
      await files.delete(loc('/a/b/two', 3), t1);
      const want = [...new Set([suffixOfHash(hashOfName('/a/b/one')), suffixOfHash(hashOfName('/a/b/two'))])].sort();
      t.deepEqual(await files.invalidatedSuffixes(loc('x').device, 0, 3), want);
      t.deepEqual(await files.invalidatedSuffixes(loc('x').device, 0, 4), []);
    });
  });

  test(`${title}: post writes a .meta patch: merged, newest wins, applied on open, kept over older data`, async (t) => {
    await withFiles(async (files, loc) => {
      const l = loc('/a/b/k');
      const t3 = '1700000003.000000';
      const t4 = '1700000004.000000';
      t.deepEqual(await files.post(l, t1, { x: 1 }), { kind: 'absent' });
      await writeObject(files, l, t1, Buffer.from('body'), { user: { a: '1' }, tag: 'old' });
      const conflict = await t.throwsAsync(files.post(l, t1, { x: 1 }));
      t.true(isArcaError(conflict, 'Conflict'), 'a .meta must be newer than the data');
      const first = await files.post(l, t2, { tag: 'new', extra: 5 });
      t.like(first, { kind: 'posted', meta: { ts: t1, tag: 'new', extra: 5, user: { a: '1' }, size: 4 } });
      const second = await files.post(l, t3, { extra: null, size: 99 });
      t.is(second.kind, 'posted');
      if (second.kind !== 'posted') return;
      t.is(second.meta.extra, undefined, 'null removes a key');
      t.is(second.meta.tag, 'new', 'patches merge');
      t.is(second.meta.size, 4, 'size cannot be patched');
      t.true(isArcaError(await t.throwsAsync(files.post(l, t2, { late: true })), 'Conflict'), 'an older .meta loses');
      const got = await open(files, l);
      t.like(got, { kind: 'data', meta: { ts: t1, tag: 'new', user: { a: '1' } }, body: Buffer.from('body') });
      t.is(got?.kind === 'data' && got.meta.extra, undefined);
      t.deepEqual(got?.kind === 'data' && JSON.parse(got.rawMeta), got?.kind === 'data' && got.meta);
      const opened = await files.open(l);
      t.is(opened?.kind === 'data' && opened.metaTs, t3);
      if (opened?.kind === 'data') await opened.close();
      t.deepEqual(await files.newest(l), { kind: 'data', ts: t1 }, 'the version is still the data');

      // Data older than the .meta (a late write) keeps it applying; newer data drops it.
      await writeObject(files, l, t2, Buffer.from('late'), { tag: 'late-data' });
      t.like(await open(files, l), { meta: { ts: t2, tag: 'new' }, body: Buffer.from('late') });
      const replacing = await files.create(l);
      await replacing.write(Buffer.from('newest'));
      replacing.put({ name: l.name, ts: t4, size: 6, xxh64: '0', etag: 'e', contentType: 'x', tag: 'fresh' });
      const outcome = await replacing.commit();
      t.like(outcome.replaced, { ts: t2, tag: 'new' }, 'the replaced version is reported with its .meta applied');
      const after = await files.open(l);
      t.like(after, { kind: 'data', meta: { ts: t4, tag: 'fresh' } });
      t.is(after?.kind === 'data' && after.metaTs, undefined);
      if (after?.kind === 'data') await after.close();

      // A tombstone ends it: no more .meta, and post finds nothing.
      const deleted = await files.delete(l, '1700000005.000000');
      t.like(deleted, { previous: 'data', replaced: { ts: t4, tag: 'fresh' } });
      t.deepEqual(await files.post(l, '1700000006.000000', { x: 1 }), { kind: 'absent' });
      t.true(isArcaError(await t.throwsAsync(files.post(l, '1700000005.000000', { x: 1 })), 'Conflict'));
    });
  });

  test(`${title}: fragment archives: pending until durable, several indexes per hash dir, newest durable served`, async (t) => {
    await withFiles(async (files, loc) => {
      const l = loc('/a/b/ec', 7, 2);
      const write = async (ts: string, frag: number, body: string, durable = false) => {
        const w = await files.create(l, { frag, durable });
        await w.write(Buffer.from(body));
        w.put({ name: l.name, ts, size: body.length, xxh64: '0', etag: 'e', contentType: 'x', ec: { frag } });
        return w.commit();
      };
      await write(t1, 2, 'frag2@t1');
      t.is(await files.open(l), undefined, 'a pending archive is not served');
      t.is(await files.newest(l), undefined);
      t.is(await files.markDurable(l, t1, 3), undefined, 'no such archive');
      t.deepEqual(await files.markDurable(l, t1, 2), {});
      t.like(await open(files, l, undefined), { kind: 'data', body: Buffer.from('frag2@t1') });
      t.deepEqual(await files.markDurable(l, t1, 2), {}, 'marking twice is harmless');
      // A handoff may hold another index of the same version.
      await write(t1, 4, 'frag4@t1');
      t.true(isArcaError(await t.throwsAsync(write(t1, 2, 'again')), 'Conflict'));
      const f4 = await files.open(l, { frag: 4 });
      t.like(f4, { kind: 'data', frag: 4 }, 'an archive at a durable timestamp is durable');
      if (f4?.kind === 'data') await f4.close();
      t.is(await files.open(l, { frag: 0 }), undefined, 'an index not held');
      // A newer write stays pending while the older version is served, then replaces it.
      await write(t2, 2, 'frag2@t2');
      const served = await files.open(l, { frag: 2 });
      t.like(served, { kind: 'data', meta: { ts: t1 } });
      if (served?.kind === 'data') await served.close();
      const done = await files.markDurable(l, t2, 2);
      t.like(done?.replaced, { ts: t1 });
      t.like(await open(files, l), { kind: 'data', meta: { ts: t2 }, body: Buffer.from('frag2@t2') });
      t.is(await files.open(l, { frag: 4 }), undefined, 'the older version is gone');
      // An archive older than the version is refused; a durable sync write of a new version is visible at once.
      t.true(isArcaError(await t.throwsAsync(write(t1, 5, 'old')), 'Conflict'));
      await write('1700000003.000000', 1, 'frag1@t3', true);
      t.like(await open(files, l, undefined), { kind: 'data', meta: { ts: '1700000003.000000' } });
      t.true(isArcaError(await t.throwsAsync(files.markDurable(l, t2, 2)), 'Conflict'));
    });
  });

  test(`${title}: a device not served is unavailable`, async (t) => {
    await withFiles(async (files) => {
      const l = { device: 'no-such-device', policyIndex: 0, partition: 1, name: '/a/b/k' };
      t.true((await t.throwsAsync(files.create(l))) instanceof DeviceUnavailableError);
      t.true((await t.throwsAsync(files.open(l))) instanceof DeviceUnavailableError);
      t.true((await t.throwsAsync(files.delete(l, t1))) instanceof DeviceUnavailableError);
      const bad = { ...l, device: '..' };
      t.true((await t.throwsAsync(files.open(bad))) instanceof DeviceUnavailableError);
    });
  });
}
