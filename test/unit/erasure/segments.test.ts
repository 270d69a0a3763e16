import test from 'ava';
import fc from 'fast-check';
import { ArcaError } from '../../../src/common/errors.js';
import {
  createCodec,
  DEFAULT_SEGMENT_SIZE,
  fragmentArchiveSize,
  fragmentOffset,
  fragmentSize,
  mapRange,
  segmentCount,
  segmentLength,
  segments,
} from '../../../src/erasure/index.js';
import { bytes, erase, MiB } from './helpers.js';

test('fragmentSize rounds ceil(length / k) up to 8 bytes', (t) => {
  t.is(fragmentSize(0, 4), 0);
  t.is(fragmentSize(1, 4), 8);
  t.is(fragmentSize(3, 4), 8);
  t.is(fragmentSize(8, 1), 8);
  t.is(fragmentSize(9, 1), 16);
  t.is(fragmentSize(32, 4), 8);
  t.is(fragmentSize(33, 4), 16);
  t.is(fragmentSize(MiB, 4), 262144);
  t.is(fragmentSize(MiB, 8), 131072);
  t.is(fragmentSize(MiB, 10), 104864);
  t.is(fragmentSize(MiB, 6), 174768);
  t.is(fragmentSize(MiB, 12), 87384);
  t.throws(() => fragmentSize(-1, 4), { instanceOf: ArcaError });
  t.throws(() => fragmentSize(10, 0), { instanceOf: ArcaError });
  t.throws(() => fragmentSize(10, 25), { instanceOf: ArcaError });
});

test('segment count and lengths', (t) => {
  t.is(DEFAULT_SEGMENT_SIZE, MiB);
  t.is(segmentCount(0), 0);
  t.is(segmentCount(1), 1);
  t.is(segmentCount(MiB), 1);
  t.is(segmentCount(MiB + 1), 2);
  t.is(segmentCount(3 * MiB), 3);
  t.is(segmentCount(10, 3), 4);
  t.is(segmentLength(MiB + 1, 0), MiB);
  t.is(segmentLength(MiB + 1, 1), 1);
  t.is(segmentLength(3 * MiB, 2), MiB);
  t.is(segmentLength(10, 3, 3), 1);
  t.is(segmentLength(9, 2, 3), 3);
  t.throws(() => segmentLength(0, 0), { instanceOf: ArcaError });
  t.throws(() => segmentLength(MiB, 1), { instanceOf: ArcaError });
  t.throws(() => segmentCount(5, 0), { instanceOf: ArcaError });
  t.throws(() => segmentCount(1.5), { instanceOf: ArcaError });
});

test('fragment archive sizes', (t) => {
  t.is(fragmentArchiveSize(0, 4), 0);
  t.is(fragmentArchiveSize(3, 4), 8, 'size < k still makes one 8-byte fragment');
  t.is(fragmentArchiveSize(MiB, 8), 131072);
  t.is(fragmentArchiveSize(MiB + 1, 8), 131072 + 8);
  t.is(fragmentArchiveSize(3 * MiB, 10), 3 * 104864);
  t.is(fragmentArchiveSize(5 * 1024 ** 4, 10), 5 * 1024 * 1024 * 104864, '5 TiB stays exact');
  t.is(fragmentOffset(0, 8), 0);
  t.is(fragmentOffset(3, 10), 3 * 104864);
});

test('mapRange: a range inside one segment', (t) => {
  t.deepEqual(mapRange(3 * MiB, 4, MiB + 10, MiB + 20), {
    firstSegment: 1,
    lastSegment: 1,
    archiveStart: 262144,
    archiveEnd: 2 * 262144 - 1,
    segmentBytes: MiB,
    skip: 10,
    length: 11,
  });
});

test('mapRange: a range spanning segments into a short last one', (t) => {
  const size = 2 * MiB + 100;
  t.deepEqual(mapRange(size, 8, MiB - 1, size - 1), {
    firstSegment: 0,
    lastSegment: 2,
    archiveStart: 0,
    archiveEnd: 2 * 131072 + 16 - 1,
    segmentBytes: size,
    skip: MiB - 1,
    length: size - MiB + 1,
  });
  t.is(mapRange(size, 8, 0, size - 1).archiveEnd, fragmentArchiveSize(size, 8) - 1);
});

test('mapRange: single bytes, tiny objects and exact multiples', (t) => {
  t.deepEqual(mapRange(3, 4, 2, 2), {
    firstSegment: 0,
    lastSegment: 0,
    archiveStart: 0,
    archiveEnd: 7,
    segmentBytes: 3,
    skip: 2,
    length: 1,
  });
  const last = mapRange(2 * MiB, 4, 2 * MiB - 1, 2 * MiB - 1);
  t.is(last.firstSegment, 1);
  t.is(last.archiveEnd, 2 * 262144 - 1);
  t.is(last.skip, MiB - 1);
  const boundary = mapRange(2 * MiB, 4, MiB, MiB);
  t.is(boundary.firstSegment, 1);
  t.is(boundary.skip, 0);
});

test('mapRange: ranges outside the object are BadRequest', (t) => {
  for (const [size, start, end] of [
    [0, 0, 0],
    [10, 5, 4],
    [10, 0, 10],
    [10, -1, 3],
    [10, 1.5, 3],
  ]) {
    const err = t.throws(() => mapRange(size, 4, start, end));
    t.is((err as ArcaError).code, 'BadRequest');
  }
});

test('segments() lists what a writer appends and a reader splits', (t) => {
  t.deepEqual([...segments(0, 4)], []);
  t.deepEqual(
    [...segments(25, 2, 10)],
    [
      { index: 0, length: 10, fragmentSize: 8, archiveOffset: 0 },
      { index: 1, length: 10, fragmentSize: 8, archiveOffset: 8 },
      { index: 2, length: 5, fragmentSize: 8, archiveOffset: 16 },
    ],
  );
  t.deepEqual(
    [...segments(25, 2, 10, 1, 1)].map((s) => s.index),
    [1],
  );
  t.throws(() => [...segments(25, 2, 10, 0, 3)], { instanceOf: ArcaError });
});

test('property: the arithmetic is consistent', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 24 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 60000 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (k, segmentSize, size, a, b) => {
        const all = [...segments(size, k, segmentSize)];
        t.is(all.length, segmentCount(size, segmentSize));
        t.is(
          all.reduce((n, s) => n + s.length, 0),
          size,
        );
        t.is(
          all.reduce((n, s) => n + s.fragmentSize, 0),
          fragmentArchiveSize(size, k, segmentSize),
        );
        for (const s of all) {
          t.is(s.length, segmentLength(size, s.index, segmentSize));
          t.is(s.archiveOffset, fragmentOffset(s.index, k, segmentSize));
          t.true(s.fragmentSize % 8 === 0 && s.fragmentSize * k >= s.length && s.fragmentSize * k < s.length + 8 * k);
        }
        const start = Math.min(size - 1, Math.floor(a * size));
        const end = Math.min(size - 1, start + Math.floor(b * (size - start)));
        const r = mapRange(size, k, start, end, segmentSize);
        const picked = all.slice(r.firstSegment, r.lastSegment + 1);
        t.is(r.archiveStart, picked[0].archiveOffset);
        t.is(r.archiveEnd + 1 - r.archiveStart, picked.reduce((n, s) => n + s.fragmentSize, 0));
        t.is(r.segmentBytes, picked.reduce((n, s) => n + s.length, 0));
        t.true(r.skip < picked[0].length);
        t.true(r.skip + r.length <= r.segmentBytes);
        t.is(r.firstSegment * segmentSize + r.skip, start);
      },
    ),
    { numRuns: 300 },
  );
});

/**
 * End to end: write an object as fragment archives, drop up to m archives, serve a byte range from the
 * archive bytes mapRange names, as the proxy's reader will.
 */
test('property: ranges served from damaged fragment archives', async (t) => {
  const [k, m] = [4, 2];
  const codec = createCodec(k, m);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 20000 }),
      fc.integer({ min: 8, max: 4096 }),
      fc.integer(),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { maxLength: m }),
      async (size, segmentSize, seed, a, b, lost) => {
        const object = bytes(size, seed);
        const archives: Buffer[][] = Array.from({ length: k + m }, () => []);
        for (const s of segments(size, k, segmentSize)) {
          const at = s.index * segmentSize;
          const fragments = await codec.encode(object.subarray(at, at + s.length));
          for (const [i, f] of fragments.entries()) archives[i].push(f);
        }
        const stored = archives.map((parts) => Buffer.concat(parts));
        t.is(stored[0].length, fragmentArchiveSize(size, k, segmentSize));
        const start = Math.min(size - 1, Math.floor(a * size));
        const end = Math.min(size - 1, start + Math.floor(b * (size - start)));
        const r = mapRange(size, k, start, end, segmentSize);
        const fetched = erase(
          stored.map((archive) => archive.subarray(r.archiveStart, r.archiveEnd + 1)),
          lost,
        );
        const decoded: Buffer[] = [];
        let offset = 0;
        for (const s of segments(size, k, segmentSize, r.firstSegment, r.lastSegment)) {
          const slot = fetched.map((f) => f?.subarray(offset, offset + s.fragmentSize));
          decoded.push((await codec.decode(slot)).subarray(0, s.length));
          offset += s.fragmentSize;
        }
        const body = Buffer.concat(decoded).subarray(r.skip, r.skip + r.length);
        t.true(body.equals(object.subarray(start, end + 1)), `range ${start}-${end} of ${size} without ${lost}`);
      },
    ),
    { numRuns: 60 },
  );
});
