import { Readable } from 'node:stream';
import test from 'ava';
import { HeldBody, readBounded } from '../../../src/common/read-stream.js';

test('readBounded reads a stream whole up to its limit, and returns a held body as it is', async (t) => {
  t.is((await readBounded(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4)).toString(), 'abcd');
  await t.throwsAsync(readBounded(Readable.from([Buffer.from('abcde')]), 4), { message: 'more than 4 bytes' });
  const bytes = Buffer.from('held');
  t.is(await readBounded(new HeldBody(bytes), 4), bytes, 'the same buffer, not a copy');
  await t.throwsAsync(readBounded(new HeldBody(bytes), 3), { message: 'more than 3 bytes' });
});

test('a held body streams its bytes once; untouched until read or destroyed', async (t) => {
  const body = new HeldBody(Buffer.from('bytes'));
  t.true(body.untouched);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  t.is(Buffer.concat(chunks).toString(), 'bytes');
  t.false(body.untouched);
  const empty = new HeldBody(Buffer.alloc(0));
  const got: Buffer[] = [];
  for await (const c of empty) got.push(c as Buffer);
  t.deepEqual(got, []);
  const dropped = new HeldBody(Buffer.from('x'));
  dropped.destroy();
  t.false(dropped.untouched);
});
