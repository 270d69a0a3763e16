/** Hashes on the hash worker (hash-thread.ts) and the off-thread Digester: the same digests as node:crypto here. */
import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { CHECKSUM_ALGORITHMS, Digester } from '../../../src/common/checksums.js';
import { closeHashThread, maxQueuedBytes, ThreadHashes } from '../../../src/common/hash-thread.js';

const hex = (b: Buffer) => b.toString('hex');

test('a stream hashed on the worker gets the digests node:crypto gives, whatever its chunks', async (t) => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const h = new ThreadHashes(['md5', 'sha256', 'sha512', 'sha1']);
  // Chunks of odd sizes, some of them views into a larger buffer (only the view's bytes count).
  for (let at = 0; at < data.length; ) {
    const n = Math.min(data.length - at, 1 + ((at * 7919) % 200_000));
    const padded = Buffer.concat([Buffer.alloc(5, 0xee), data.subarray(at, at + n), Buffer.alloc(9, 0xee)]);
    await h.update(padded.subarray(5, 5 + n));
    at += n;
  }
  t.is(h.bytes, data.length);
  const [md5, sha256, sha512, sha1] = await h.digest();
  t.is(hex(md5), createHash('md5').update(data).digest('hex'));
  t.is(hex(sha256), createHash('sha256').update(data).digest('hex'));
  t.is(hex(sha512), createHash('sha512').update(data).digest('hex'));
  t.is(hex(sha1), createHash('sha1').update(data).digest('hex'));
  await t.throwsAsync(() => h.digest(), { message: /twice/ });
  t.throws(() => h.update(Buffer.from('late')), { message: /after digest/ });
});

test('streams hashed at once stay apart; an empty stream has the empty digest', async (t) => {
  const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(i * 300_001));
  const hashes = bodies.map(() => new ThreadHashes(['md5']));
  // Interleave their chunks.
  for (let at = 0; at < 2_000_000; at += 65_536) {
    for (const [i, body] of bodies.entries()) if (at < body.length) hashes[i].update(body.subarray(at, at + 65_536));
  }
  const digests = await Promise.all(hashes.map((h) => h.digest()));
  for (const [i, body] of bodies.entries()) t.is(hex(digests[i][0]), createHash('md5').update(body).digest('hex'));
  t.is(hex(digests[0][0]), 'd41d8cd98f00b204e9800998ecf8427e');
});

test('update asks its caller to wait once the worker is behind by more than the cap, and lets it go on later', async (t) => {
  const chunk = randomBytes(1024 * 1024);
  const h = new ThreadHashes(['sha512']);
  let behind: Promise<void> | undefined;
  let given = 0;
  while (!behind && given <= maxQueuedBytes + chunk.length) {
    behind = h.update(chunk);
    given += chunk.length;
  }
  t.truthy(behind, 'the worker cannot hash 33 MiB in the time it takes to copy them');
  await behind;
  const expected = createHash('sha512');
  for (let i = 0; i < given / chunk.length; i++) expected.update(chunk);
  t.is(hex((await h.digest())[0]), expected.digest('hex'));
});

test('an off-thread Digester settles to the same result as one on this thread, CRCs included', async (t) => {
  const data = randomBytes(2 * 1024 * 1024 + 3);
  const opts = { md5: true, sha256Hex: true, sha512: true, checksums: CHECKSUM_ALGORITHMS };
  const here = new Digester(opts);
  const there = new Digester({ ...opts, offThread: true });
  for (let at = 0; at < data.length; at += 100_000) {
    here.update(data.subarray(at, at + 100_000));
    await there.update(data.subarray(at, at + 100_000));
  }
  const expected = here.digest();
  t.deepEqual(await there.settle(), expected);
  t.deepEqual(await there.settle(), expected, 'settles once, then gives the same result');
  t.throws(() => new Digester({ ...opts, offThread: true }).digest(), { message: /settles/ });
  t.deepEqual(await new Digester({ md5: true }).settle(), new Digester({ md5: true }).digest(), 'settle works on this thread too');
});

test.serial('a stream whose worker stopped in its middle fails its digest instead of giving the hash of a part', async (t) => {
  const h = new ThreadHashes(['md5']);
  h.update(randomBytes(1000));
  await closeHashThread();
  h.update(randomBytes(1000));
  await t.throwsAsync(() => h.digest(), { message: /hashed 1000 of the stream's 2000 bytes|stopped/ });
  // The next stream gets a new worker.
  const next = new ThreadHashes(['md5']);
  next.update(Buffer.from('abc'));
  t.is(hex((await next.digest())[0]), createHash('md5').update('abc').digest('hex'));
});
