import test from 'ava';
import { ArcaError } from '../../../src/common/errors.js';
import { type CodecImpl, createCodec, MAX_SEGMENT_SIZE } from '../../../src/erasure/index.js';
import { bytes, erase } from './helpers.js';

const IMPLS: CodecImpl[] = ['native', 'reference'];

/** Asserts an ArcaError with `code` and, for codec errors, `detail.reason`. */
function isArca(t: { true(v: boolean, m?: string): void }, err: unknown, code: string, reason?: string): void {
  t.true(err instanceof ArcaError, `expected an ArcaError, got ${String(err)}`);
  const e = err as ArcaError;
  t.true(e.code === code, `code ${e.code} !== ${code}`);
  if (reason) t.true(e.detail.reason === reason, `reason ${String(e.detail.reason)} !== ${reason}`);
}

for (const impl of IMPLS) {
  test(`${impl}: fewer than k fragments is a clear error`, async (t) => {
    const codec = createCodec(4, 2, impl);
    const fragments = await codec.encode(bytes(1000, 1));
    const err = await t.throwsAsync(codec.decode(erase(fragments, [0, 1, 2])));
    isArca(t, err, 'Internal', 'too-few-fragments');
    t.regex(err?.message ?? '', /need 4 fragments/);
    isArca(t, await t.throwsAsync(codec.reconstruct(erase(fragments, [0, 1, 2]), [0, 1])), 'Internal', 'too-few-fragments');
    isArca(t, await t.throwsAsync(codec.decode(erase(fragments, [0, 1, 2, 3, 4, 5]))), 'Internal', 'too-few-fragments');
  });

  test(`${impl}: malformed fragment sets are rejected, never aborting`, async (t) => {
    const codec = createCodec(4, 2, impl);
    const fragments = await codec.encode(bytes(1000, 2));
    const short = [...fragments];
    short[2] = fragments[2].subarray(0, 248);
    isArca(t, await t.throwsAsync(codec.decode(erase(short, [0]))), 'Internal', 'fragment-size-mismatch');
    const odd = fragments.map((f) => f.subarray(0, 250));
    isArca(t, await t.throwsAsync(codec.decode(erase(odd, [0]))), 'Internal', 'fragment-size');
    isArca(t, await t.throwsAsync(codec.decode(fragments.slice(0, 5))), 'Internal', 'fragment-count');
    isArca(t, await t.throwsAsync(codec.decode([...fragments, fragments[0]])), 'Internal', 'fragment-count');
    const mixed = [...fragments] as Array<Buffer | undefined>;
    mixed[0] = Buffer.alloc(0);
    isArca(t, await t.throwsAsync(codec.decode(mixed)), 'Internal', 'fragment-size-mismatch');
    const junk = [...fragments] as unknown[];
    junk[1] = 'not a buffer';
    isArca(t, await t.throwsAsync(codec.decode(junk as Buffer[])), 'Internal', 'not-a-buffer');
    isArca(t, await t.throwsAsync(codec.decode(undefined as unknown as Buffer[])), 'Internal', 'fragment-count');
  });

  test(`${impl}: bad want lists are rejected`, async (t) => {
    const codec = createCodec(4, 2, impl);
    const fragments = await codec.encode(bytes(100, 3));
    for (const want of [[6], [-1], [1, 1], [0, 1, 2], [0.5]]) {
      isArca(t, await t.throwsAsync(codec.reconstruct(fragments, want)), 'Internal', 'want');
    }
  });

  test(`${impl}: bad segments are rejected`, async (t) => {
    const codec = createCodec(8, 4, impl);
    isArca(t, await t.throwsAsync(codec.encode('abc' as unknown as Buffer)), 'Internal', 'not-a-buffer');
    const huge = Buffer.alloc(MAX_SEGMENT_SIZE + 1);
    isArca(t, await t.throwsAsync(codec.encode(huge)), 'Internal', 'segment-too-large');
  });

  test(`${impl}: unsupported k+m is an InvalidConfig`, (t) => {
    for (const [k, m] of [
      [0, 1],
      [25, 1],
      [4, 0],
      [4, 7],
      [1.5, 2],
      [Number.NaN, 2],
    ]) {
      isArca(t, t.throws(() => createCodec(k, m, impl)), 'InvalidConfig');
    }
    t.notThrows(() => createCodec(24, 6, impl));
  });

  test(`${impl}: all-empty fragments decode to an empty segment`, async (t) => {
    const codec = createCodec(2, 1, impl);
    t.is((await codec.decode([Buffer.alloc(0), undefined, Buffer.alloc(0)])).length, 0);
  });
}

test('an unknown implementation name is refused', (t) => {
  t.throws(() => createCodec(4, 2, 'wasm' as CodecImpl), { instanceOf: TypeError });
});
