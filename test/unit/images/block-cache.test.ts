/** The hot-block cache: which reads it serves, one storage read per block across concurrent readers, LRU bound. */
import test from 'ava';
import { BLOCK_SIZE, BlockCache } from '../../../src/images/block-cache.js';

const size = 10 * BLOCK_SIZE + 100;
const image = Buffer.alloc(size);
for (let i = 0; i < size; i++) image[i] = (i * 7) % 251;

function reader() {
  const calls: Array<[number, number]> = [];
  const read = async (s: number, e: number) => {
    calls.push([s, e]);
    await new Promise((r) => setTimeout(r, 5));
    return image.subarray(s, e + 1);
  };
  return { calls, read };
}

test('serves heads and small reads, assembles ranges across blocks, reads each block once', async (t) => {
  const cache = new BlockCache({ maxBytes: 1 << 30, headBytes: 4 * BLOCK_SIZE, smallReadBytes: 2 * BLOCK_SIZE });
  t.true(cache.serves(0, 4 * BLOCK_SIZE - 1));
  t.true(cache.serves(8 * BLOCK_SIZE, 8 * BLOCK_SIZE + 100));
  t.false(cache.serves(5 * BLOCK_SIZE, 8 * BLOCK_SIZE));
  const r = reader();
  const [a, b] = await Promise.all([cache.read('k', size, 10, BLOCK_SIZE + 20, r.read), cache.read('k', size, 100, 200, r.read)]);
  t.true(a.equals(image.subarray(10, BLOCK_SIZE + 21)));
  t.true(b.equals(image.subarray(100, 201)));
  t.deepEqual(r.calls, [[0, BLOCK_SIZE - 1], [BLOCK_SIZE, 2 * BLOCK_SIZE - 1]]);
  const tail = await cache.read('k', size, size - 50, size - 1, r.read);
  t.true(tail.equals(image.subarray(size - 50)));
  t.deepEqual(r.calls.at(-1), [10 * BLOCK_SIZE, size - 1]);
  await cache.read('k', size, 0, 5, r.read);
  t.is(r.calls.length, 3);
});

test('keeps at most maxBytes, dropping the least recently used; a failed read is not cached', async (t) => {
  const cache = new BlockCache({ maxBytes: 2 * BLOCK_SIZE, headBytes: size, smallReadBytes: 0 });
  const r = reader();
  await cache.read('k', size, 0, 1, r.read);
  await cache.read('k', size, BLOCK_SIZE, BLOCK_SIZE + 1, r.read);
  await cache.read('k', size, 0, 1, r.read); // block 0 is now the most recent
  await cache.read('k', size, 2 * BLOCK_SIZE, 2 * BLOCK_SIZE + 1, r.read); // evicts block 1
  t.is(cache.size, 2 * BLOCK_SIZE);
  await cache.read('k', size, 0, 1, r.read);
  t.is(r.calls.length, 3);
  await cache.read('k', size, BLOCK_SIZE, BLOCK_SIZE + 1, r.read);
  t.is(r.calls.length, 4);
  await t.throwsAsync(cache.read('other', size, 0, 1, async () => Promise.reject(new Error('down'))));
  const again = reader();
  await cache.read('other', size, 0, 1, again.read);
  t.is(again.calls.length, 1);
});
