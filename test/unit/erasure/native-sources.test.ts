/**
 * The native codec hands the addon scratch buffers from Buffer.allocUnsafe and flags parity fragments it
 * never copied as "sources" (native.ts, #rebuild). This file poisons every allocUnsafe buffer, so a read of
 * an uncopied slot or an unwritten byte would show up as a wrong result. It runs in its own ava worker,
 * so the patch stays in this file.
 */
import test from 'ava';
import { createCodec } from '../../../src/erasure/index.js';
import { bytes, erase, padded, subsets } from './helpers.js';

const allocUnsafe = Buffer.allocUnsafe;
Buffer.allocUnsafe = (size: number) => allocUnsafe(size).fill(0xa5);

const CODES: Array<[number, number]> = [
  [1, 3],
  [2, 1],
  [3, 3],
  [4, 2],
  [5, 6],
  [6, 3],
  [8, 4],
  [10, 4],
  [12, 4],
];

for (const [k, m] of CODES) {
  test(`${k}+${m}: every erasure pattern and every wanted subset, poisoned scratch`, async (t) => {
    const native = createCodec(k, m);
    const segment = bytes(3001, k * 7 + m);
    const fragments = await createCodec(k, m, 'reference').encode(segment);
    const whole = padded(segment, k * fragments[0].length);
    let checked = 0;
    for (const erased of subsets(k + m, m)) {
      const damaged = erase(fragments, erased);
      if (!(await native.decode(damaged)).equals(whole)) t.fail(`decode without ${erased}`);
      for (const pick of subsets(erased.length, erased.length)) {
        const want = pick.map((i) => erased[i]);
        const rebuilt = await native.reconstruct(damaged, want);
        if (!want.every((w, i) => rebuilt[i].equals(fragments[w]))) t.fail(`reconstruct ${want} without ${erased}`);
        checked++;
      }
    }
    t.true(checked > 0);
  });
}
