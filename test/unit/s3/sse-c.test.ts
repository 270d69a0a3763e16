/** SSE-C: key header checks, and AES-256-CTR decryption of any range of objects made of segments. */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import test from 'ava';
import fc from 'fast-check';
import type { S3Error } from '../../../src/s3/errors.js';
import { customerKey, keyMatches, requireKey, SegmentDecipher, sealFor, sseEtag } from '../../../src/s3/sse-c.js';

const h = 'x-amz-server-side-encryption-customer-';

test('customerKey: none, valid, and each of AWS’s refusals', (t) => {
  t.is(customerKey({}), undefined);
  const key = randomBytes(32);
  const md5 = createHash('md5').update(key).digest('base64');
  const ok = customerKey({ [`${h}algorithm`]: 'AES256', [`${h}key`]: key.toString('base64'), [`${h}key-md5`]: md5 });
  t.true(ok?.key.equals(key));
  const code = (headers: Record<string, string>) => (t.throws(() => customerKey(headers)) as S3Error).code;
  t.is(code({ [`${h}key`]: key.toString('base64'), [`${h}key-md5`]: md5 }), 'InvalidArgument');
  t.is(code({ [`${h}algorithm`]: 'aws:kms', [`${h}key`]: key.toString('base64'), [`${h}key-md5`]: md5 }), 'InvalidEncryptionAlgorithmError');
  t.is(code({ [`${h}algorithm`]: 'AES256', [`${h}key`]: 'short', [`${h}key-md5`]: md5 }), 'InvalidArgument');
  t.is(code({ [`${h}algorithm`]: 'AES256', [`${h}key`]: key.toString('base64') }), 'InvalidArgument');
  t.is(code({ [`${h}algorithm`]: 'AES256', [`${h}key`]: key.toString('base64'), [`${h}key-md5`]: createHash('md5').update('x').digest('base64') }), 'InvalidArgument');
  const copy = customerKey({ 'x-amz-copy-source-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-copy-source-server-side-encryption-customer-key': key.toString('base64'), 'x-amz-copy-source-server-side-encryption-customer-key-md5': md5 }, true);
  t.true(copy?.key.equals(key));
});

test('the seal recognises its key and no other; requireKey answers as AWS', (t) => {
  const a = { key: randomBytes(32), keyMd5: '' };
  const b = { key: randomBytes(32), keyMd5: '' };
  const seal = sealFor(a);
  t.false(JSON.stringify(seal).includes(a.key.toString('base64')));
  t.true(keyMatches(seal, a));
  t.false(keyMatches(seal, b));
  requireKey(seal, a);
  requireKey(undefined, undefined);
  t.is((t.throws(() => requireKey(seal, b)) as S3Error).code, 'AccessDenied');
  t.is((t.throws(() => requireKey(seal, undefined)) as S3Error).code, 'InvalidRequest');
  t.is((t.throws(() => requireKey(undefined, a)) as S3Error).code, 'InvalidRequest');
  t.regex(sseEtag(a.key, 'd41d8cd98f00b204e9800998ecf8427e'), /^[0-9a-f]{32}$/);
  t.not(sseEtag(a.key, 'd41d8cd98f00b204e9800998ecf8427e'), sseEtag(b.key, 'd41d8cd98f00b204e9800998ecf8427e'));
});

test('any range of a multi-segment object decrypts, including IVs whose counter wraps', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 5 }), fc.nat(), fc.nat(), fc.boolean(), async (sizes, x, y, wrap) => {
      const key = randomBytes(32);
      const segments = sizes.map((size) => ({ size, iv: wrap ? Buffer.from('ffffffffffffffffffffffffffffff' + randomBytes(1).toString('hex'), 'hex') : randomBytes(16) }));
      const plain = segments.map((s) => randomBytes(s.size));
      const cipher = Buffer.concat(segments.map((s, i) => createCipheriv('aes-256-ctr', key, s.iv).update(plain[i])));
      const whole = Buffer.concat(plain);
      if (whole.length === 0) return;
      const start = x % whole.length;
      const end = start + (y % (whole.length - start));
      const out: Buffer[] = [];
      const d = Readable.from([cipher.subarray(start, end + 1)]).pipe(new SegmentDecipher(key, segments, start));
      for await (const c of d) out.push(c as Buffer);
      t.true(Buffer.concat(out).equals(whole.subarray(start, end + 1)));
    }),
    { numRuns: 200 },
  );
});
