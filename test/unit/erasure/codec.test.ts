import test from 'ava';
import fc from 'fast-check';
import { allocSegment, type CodecImpl, createCodec, type ErasureCodec, fragmentSize } from '../../../src/erasure/index.js';
import { bytes, erase, MiB, POLICIES, padded, sha256, subsets } from './helpers.js';

const IMPLS: CodecImpl[] = ['native', 'reference'];

/** Segment lengths: mostly small and odd, some around and up to 3 MiB, and the exact edges. */
const lengthArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 4096 }), weight: 6 },
  { arbitrary: fc.integer({ min: 4097, max: 3 * MiB }), weight: 2 },
  { arbitrary: fc.constantFrom(0, 1, 7, 8, 9, MiB - 1, MiB, MiB + 1, 3 * MiB), weight: 2 },
);

for (const [k, m] of POLICIES) {
  test(`${k}+${m}: native and reference agree; any ${m} erasures decode and reconstruct`, async (t) => {
    const native = createCodec(k, m, 'native');
    const reference = createCodec(k, m, 'reference');
    const indexes = Array.from({ length: k + m }, (_, i) => i);
    await fc.assert(
      fc.asyncProperty(
        lengthArb,
        fc.integer(),
        fc.shuffledSubarray(indexes, { minLength: 1, maxLength: m }),
        async (length, seed, erased) => {
          const segment = bytes(length, seed);
          const size = fragmentSize(length, k);
          const fragments = await native.encode(segment);
          const oracle = await reference.encode(segment);
          t.is(fragments.length, k + m);
          for (let i = 0; i < k + m; i++) {
            t.is(fragments[i].length, size);
            if (!fragments[i].equals(oracle[i])) t.fail(`fragment ${i} differs from the reference for length ${length}`);
          }
          const whole = padded(segment, k * size);
          t.true(Buffer.concat(fragments.slice(0, k)).equals(whole), 'data fragments are the padded segment');
          if (length === 0) return;
          const damaged = erase(fragments, erased);
          for (const codec of [native, reference]) {
            t.true((await codec.decode(damaged)).equals(whole), `decode without ${erased}`);
            const rebuilt = await codec.reconstruct(damaged, erased);
            erased.forEach((e, i) => {
              if (!rebuilt[i].equals(fragments[e])) t.fail(`reconstruct ${e} without ${erased}`);
            });
          }
        },
      ),
      { numRuns: 25 },
    );
  });
}

for (const [k, m] of [
  [4, 2],
  [6, 3],
  [8, 4],
  [10, 4],
] as const) {
  test(`${k}+${m}: every erasure pattern up to ${m} decodes and rebuilds (both codecs)`, async (t) => {
    const segment = bytes(999, k * 100 + m);
    for (const impl of IMPLS) {
      const codec = createCodec(k, m, impl);
      const fragments = await codec.encode(segment);
      const whole = padded(segment, k * fragmentSize(segment.length, k));
      let patterns = 0;
      for (const erased of subsets(k + m, m)) {
        const damaged = erase(fragments, erased);
        if (!(await codec.decode(damaged)).equals(whole)) t.fail(`${impl} decode without ${erased}`);
        const rebuilt = await codec.reconstruct(damaged, erased);
        if (!erased.every((e, i) => rebuilt[i].equals(fragments[e]))) t.fail(`${impl} reconstruct ${erased}`);
        patterns++;
      }
      t.true(patterns > 1);
    }
  });
}

test('1+1 and 1+m are replication: every fragment is the padded segment', async (t) => {
  for (const m of [1, 2, 3, 6]) {
    for (const impl of IMPLS) {
      const fragments = await createCodec(1, m, impl).encode(bytes(13, m));
      const whole = padded(bytes(13, m), 16);
      t.true(fragments.every((f) => f.equals(whole)), `1+${m} ${impl}`);
    }
  }
});

test('parity 0 is the XOR of the data fragments', async (t) => {
  for (const [k, m] of POLICIES) {
    const fragments = await createCodec(k, m).encode(bytes(4000, k));
    const xor = Buffer.alloc(fragments[0].length);
    for (let i = 0; i < k; i++) for (let j = 0; j < xor.length; j++) xor[j] ^= fragments[i][j];
    t.true(fragments[k].equals(xor), `${k}+${m}`);
  }
});

/**
 * Pins the stored format: a change to the code (matrix, packet size, padding) changes these digests and
 * would leave every stored fragment unreadable. Change them only with a new CODEC_SCHEME.
 */
test('parity bytes are pinned (on-disk format)', async (t) => {
  const golden: Array<[number, number, number, number, string]> = [
    [4, 2, MiB + 5, 42, '3ad2ddadddc630fd38febf24e9746ac4cb8103bbfbbdfaed7a845af7e5604450'],
    [8, 4, MiB + 5, 42, '03224a4c3b9a9c0f1a33c006f38d3038ab66726388dfde60a4d16b11b7ec1e3c'],
    [10, 4, MiB + 5, 42, 'b476cdb76c7e89738b76180b12792cef51ee7080ba5e6ecc7156d19ae00c2cf6'],
    [6, 3, 1000, 7, '0cf3b7772433375cdadfc7f903a62e00d76002abe6395089f603d92012f3fcbf'],
    [12, 4, 1000, 7, 'ad7fb2c313753960bdf83cd8de127d9a611dff86f70fa490316afe4afd6530f6'],
    [2, 1, 64, 1, '825731bb804bc7b2445069a4af0d9a60bad08b2e52e99f8a324611dd42f74d39'],
    [16, 6, 100000, 3, '5b4113c7a1e0f8a9914f0f786a49bb7da928c817a366732e57a3adf6d6e4cfe1'],
  ];
  for (const [k, m, length, seed, digest] of golden) {
    for (const impl of IMPLS) {
      const fragments = await createCodec(k, m, impl).encode(bytes(length, seed));
      t.is(sha256(...fragments.slice(k)), digest, `${k}+${m} ${impl}`);
    }
  }
});

test('codecs never modify their inputs', async (t) => {
  for (const impl of IMPLS) {
    const codec = createCodec(8, 4, impl);
    const segment = bytes(MiB, 5);
    const copy = Buffer.from(segment);
    const fragments = await codec.encode(segment);
    t.true(segment.equals(copy), `${impl} encode`);
    const damaged = erase(fragments, [0, 3, 9]);
    const before = damaged.map((f) => (f ? Buffer.from(f) : undefined));
    await codec.decode(damaged);
    await codec.reconstruct(damaged, [0, 3, 9]);
    await codec.reconstruct(fragments, [1, 8]);
    t.true(
      damaged.every((f, i) => (f === undefined ? before[i] === undefined : f.equals(before[i] as Buffer))),
      `${impl} decode/reconstruct`,
    );
    t.true(segment.equals(copy), `${impl} fragments of the segment`);
  }
});

test('a present fragment listed in want is rebuilt, not trusted', async (t) => {
  for (const impl of IMPLS) {
    const codec = createCodec(4, 2, impl);
    const fragments = await codec.encode(bytes(5000, 9));
    const corrupt = [...fragments];
    corrupt[1] = Buffer.alloc(fragments[1].length, 0xee);
    corrupt[5] = Buffer.alloc(fragments[5].length, 0xee);
    const [one, five] = await codec.reconstruct(corrupt, [1, 5]);
    t.true(one.equals(fragments[1]) && five.equals(fragments[5]), impl);
    t.deepEqual(await codec.reconstruct(fragments, []), []);
  }
});

test('fragments at odd offsets and plain Uint8Arrays work', async (t) => {
  for (const impl of IMPLS) {
    const codec = createCodec(6, 3, impl);
    const segment = bytes(70001, 3);
    const fragments = await codec.encode(segment);
    const odd = fragments.map((f) => {
      const host = Buffer.alloc(f.length + 3);
      f.copy(host, 3);
      return host.subarray(3);
    });
    const damaged = erase(odd, [0, 4, 7]);
    t.true((await codec.decode(damaged)).subarray(0, segment.length).equals(segment), impl);
    const plain = new Uint8Array(segment);
    const again = await codec.encode(plain as Buffer);
    t.true(again.every((f, i) => f.equals(fragments[i])), `${impl} Uint8Array`);
  }
});

test('native calls run concurrently and stay correct', async (t) => {
  const native = createCodec(10, 4);
  const reference = createCodec(10, 4, 'reference');
  const segments = Array.from({ length: 12 }, (_, i) => bytes(MiB - i * 1001, i));
  const encoded = await Promise.all(segments.map((s) => native.encode(s)));
  const decoded = await Promise.all(encoded.map((f) => native.decode(erase(f, [0, 1, 2, 3]))));
  for (let i = 0; i < segments.length; i++) {
    const oracle = await reference.encode(segments[i]);
    t.true(encoded[i].every((f, j) => f.equals(oracle[j])));
    t.true(decoded[i].subarray(0, segments[i].length).equals(segments[i]));
  }
});

test('an empty segment encodes to empty fragments without calling the addon', async (t) => {
  for (const impl of IMPLS) {
    const codec: ErasureCodec = createCodec(8, 4, impl);
    const fragments = await codec.encode(Buffer.alloc(0));
    t.is(fragments.length, 12);
    t.true(fragments.every((f) => f.length === 0));
    t.is((await codec.decode(erase(fragments, [0, 5]))).length, 0);
    const rebuilt = await codec.reconstruct(erase(fragments, [0, 5]), [0, 5]);
    t.deepEqual(
      rebuilt.map((f) => f.length),
      [0, 0],
    );
  }
});

test('a segment padded by allocSegment encodes like the bare one, and natively without a copy', async (t) => {
  for (const [k, m] of POLICIES) {
    const bare = bytes(MiB + 3, k);
    const segment = allocSegment(bare.length, k);
    t.is(segment.length, k * fragmentSize(bare.length, k));
    bare.copy(segment);
    for (const impl of IMPLS) {
      const codec = createCodec(k, m, impl);
      const [fromPadded, fromBare] = [await codec.encode(segment), await codec.encode(bare)];
      t.true(fromPadded.every((f, i) => f.equals(fromBare[i])), `${k}+${m} ${impl}`);
      if (impl === 'native') {
        t.is(fromPadded[0].buffer, segment.buffer, 'data fragments are views of the segment');
        t.is((await codec.decode(fromPadded)).buffer, segment.buffer, 'an intact decode copies nothing');
      }
    }
  }
});
