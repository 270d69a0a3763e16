import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 as zlibCrc32 } from 'node:zlib';
import test from 'ava';
import fc from 'fast-check';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumAlgorithmFromHeader,
  checksumHeaderName,
  checksumXmlName,
  combineCrcChecksums,
  compositeChecksum,
  computeChecksum,
  createDigestStream,
  type CrcAlgorithm,
  Digester,
  isValidChecksum,
  multipartEtag,
  parseChecksumAlgorithm,
} from '../../../src/common/checksums.js';

const hexToB64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const CHECK = Buffer.from('123456789');

test('catalogue check values of each algorithm ("123456789")', (t) => {
  t.is(computeChecksum('CRC32', CHECK), hexToB64('cbf43926'));
  t.is(computeChecksum('CRC32C', CHECK), hexToB64('e3069283'));
  t.is(computeChecksum('CRC64NVME', CHECK), hexToB64('ae8b14860a799888'));
  t.is(computeChecksum('SHA1', CHECK), createHash('sha1').update(CHECK).digest('base64'));
  t.is(computeChecksum('SHA256', CHECK), createHash('sha256').update(CHECK).digest('base64'));
});

test('values the real clients sent (CLIENTS.md)', (t) => {
  t.is(computeChecksum('CRC32', Buffer.from('hello from a file stream\n')), 'jdtiYA==');
  t.is(computeChecksum('CRC32', Buffer.from('hello tls\n')), 'hSgvUw==');
  t.is(computeChecksum('CRC64NVME', Buffer.from('crc64 body')), '1RoKisXqtfQ=');
  t.is(computeChecksum('CRC32', Buffer.alloc(0)), 'AAAAAA==');
  t.is(computeChecksum('CRC64NVME', Buffer.alloc(0)), 'AAAAAAAAAAA=');
});

test('streaming in any split equals one-shot, for every digest at once', async (t) => {
  await fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }), (bytes, sizes) => {
      const data = Buffer.from(bytes);
      const d = new Digester({ md5: true, sha256Hex: true, sha512: true, checksums: CHECKSUM_ALGORITHMS });
      for (let off = 0, i = 0; off < data.length; i++) {
        const n = sizes[i % sizes.length];
        d.update(data.subarray(off, off + n));
        off += n;
      }
      const r = d.digest();
      t.is(r.bytes, data.length);
      t.is(r.md5Hex, createHash('md5').update(data).digest('hex'));
      t.is(r.md5Base64, createHash('md5').update(data).digest('base64'));
      t.is(r.sha256Hex, createHash('sha256').update(data).digest('hex'));
      t.is(r.sha512Hex, createHash('sha512').update(data).digest('hex'));
      for (const algo of CHECKSUM_ALGORITHMS) t.is(r.checksums[algo], computeChecksum(algo, data), algo);
    }),
    { numRuns: 100 },
  );
});

test('digesters computing CRC64NVME interleave without sharing state', (t) => {
  const a = new Digester({ checksums: ['CRC64NVME'] });
  const b = new Digester({ checksums: ['CRC64NVME'] });
  a.update(Buffer.from('1234'));
  b.update(Buffer.from('crc64 '));
  a.update(Buffer.from('56789'));
  b.update(Buffer.from('body'));
  t.is(a.digest().checksums.CRC64NVME, hexToB64('ae8b14860a799888'));
  t.is(b.digest().checksums.CRC64NVME, '1RoKisXqtfQ=');
});

test('only requested digests are computed; digest() is idempotent; update after digest throws', (t) => {
  const d = new Digester({ sha256Hex: true });
  d.update(CHECK);
  const r = d.digest();
  t.deepEqual(r, { bytes: 9, sha256Hex: createHash('sha256').update(CHECK).digest('hex'), checksums: {} });
  t.is(d.digest(), r);
  t.throws(() => d.update(CHECK));
  const sha = new Digester({ checksums: ['SHA256'] });
  sha.update(CHECK);
  t.deepEqual(Object.keys(sha.digest()), ['bytes', 'checksums'], 'the SHA256 checksum alone does not produce sha256Hex');
});

test('DigestStream passes data through and digests it', async (t) => {
  const stream = createDigestStream({ md5: true, checksums: ['CRC32'] });
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([Buffer.from('hello '), Buffer.from('world')]),
    stream,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  t.is(Buffer.concat(out).toString(), 'hello world');
  t.is(stream.digest().md5Hex, createHash('md5').update('hello world').digest('hex'));
  t.is(stream.digest().checksums.CRC32, computeChecksum('CRC32', Buffer.from('hello world')));
});

test('header names, XML names and parsing', (t) => {
  t.is(checksumHeaderName('CRC64NVME'), 'x-amz-checksum-crc64nvme');
  t.is(checksumXmlName('CRC32C'), 'ChecksumCRC32C');
  for (const algo of CHECKSUM_ALGORITHMS) t.is(checksumAlgorithmFromHeader(checksumHeaderName(algo)), algo);
  t.is(checksumAlgorithmFromHeader('X-Amz-Checksum-SHA256'), 'SHA256');
  t.is(checksumAlgorithmFromHeader('x-amz-checksum-algorithm'), undefined);
  t.is(checksumAlgorithmFromHeader('x-amz-checksum-mode'), undefined);
  t.is(checksumAlgorithmFromHeader('x-amz-checksum-type'), undefined);
  t.is(checksumAlgorithmFromHeader('content-md5'), undefined);
  t.is(parseChecksumAlgorithm(' crc32 '), 'CRC32');
  t.is(parseChecksumAlgorithm('MD5'), undefined);
});

test('isValidChecksum checks length and canonical base64', (t) => {
  t.true(isValidChecksum('CRC32', 'jdtiYA=='));
  t.false(isValidChecksum('CRC32', 'jdtiYA'));
  t.false(isValidChecksum('CRC64NVME', 'jdtiYA=='));
  t.true(isValidChecksum('CRC64NVME', '1RoKisXqtfQ='));
  t.false(isValidChecksum('SHA256', 'not base64!'));
});

test('COMPOSITE: checksum of the concatenated raw part checksums, then -N', (t) => {
  const parts = [Buffer.from('part one'), Buffer.from('part two'), Buffer.from('3')];
  const crcs = parts.map((p) => computeChecksum('CRC32', p));
  const raw = Buffer.concat(crcs.map((c) => Buffer.from(c, 'base64')));
  const expected = Buffer.alloc(4);
  expected.writeUInt32BE(zlibCrc32(raw));
  t.is(compositeChecksum('CRC32', crcs), `${expected.toString('base64')}-3`);
  const shas = parts.map((p) => computeChecksum('SHA256', p));
  const shaRaw = Buffer.concat(shas.map((c) => Buffer.from(c, 'base64')));
  t.is(compositeChecksum('SHA256', shas), `${createHash('sha256').update(shaRaw).digest('base64')}-3`);
});

test('multipart ETag: md5 of the binary part md5s, then -N', (t) => {
  const md5s = ['a', 'b'].map((s) => createHash('md5').update(s).digest('hex'));
  const expected = createHash('md5')
    .update(Buffer.concat(md5s.map((h) => Buffer.from(h, 'hex'))))
    .digest('hex');
  t.is(multipartEtag(md5s), `${expected}-2`);
});

const CRCS: CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

test('FULL_OBJECT: combined part CRCs equal the CRC of the whole object', async (t) => {
  await fc.assert(
    fc.property(fc.constantFrom(...CRCS), fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 }), (algo, parts) => {
      const whole = Buffer.concat(parts.map((p) => Buffer.from(p)));
      const combined = combineCrcChecksums(
        algo,
        parts.map((p) => ({ checksum: computeChecksum(algo, p), size: p.length })),
      );
      t.is(combined, computeChecksum(algo, whole));
    }),
    { numRuns: 300 },
  );
});

test('FULL_OBJECT combination of 10,000 parts of 5 MiB: lengths past 2^32 combine the same split anywhere (bench/s3 times it)', (t) => {
  for (const algo of CRCS) {
    const parts = Array.from({ length: 10_000 }, (_, i) => ({ checksum: computeChecksum(algo, Buffer.alloc(1000, i % 251)), size: 5 * 1024 * 1024 }));
    const whole = combineCrcChecksums(algo, parts);
    for (const cut of [1, 4_999, 9_999]) {
      const left = { checksum: combineCrcChecksums(algo, parts.slice(0, cut)), size: cut * 5 * 1024 * 1024 };
      const right = { checksum: combineCrcChecksums(algo, parts.slice(cut)), size: (10_000 - cut) * 5 * 1024 * 1024 };
      t.is(combineCrcChecksums(algo, [left, right]), whole, `${algo} cut at ${cut}`);
    }
  }
});

test('all algorithms are covered by the tables', (t) => {
  const algos: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
  t.deepEqual([...CHECKSUM_ALGORITHMS], algos);
});
