/**
 * aws-chunked decoding: AWS's signed streaming examples (with and without trailer), bodies the AWS SDK
 * really sends, every way a body can be cut or mangled, and throughput.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import fc from 'fast-check';
import { computeChecksum } from '../../../src/common/checksums.js';
import { ChunkSignatureVerifier, EMPTY_SHA256, authenticate, deriveSigningKey } from '../../../src/s3/auth/index.js';
import { type AwsChunkedOptions, awsChunkedOptions, createAwsChunkedDecoder } from '../../../src/s3/aws-chunked.js';
import { S3Error, type S3ErrorCode } from '../../../src/s3/errors.js';
import { lookup, sdkClient, startCaptureServer } from './_capture.js';

/** Feeds `body` in the given pieces through a decoder; resolves with the output and the decoder. */
async function decode(body: Buffer, opts: AwsChunkedOptions, pieceSizes: number[] = [body.length]) {
  const pieces: Buffer[] = [];
  for (let off = 0, i = 0; off < body.length; i++) {
    const n = Math.max(1, pieceSizes[i % pieceSizes.length]);
    pieces.push(body.subarray(off, off + n));
    off += n;
  }
  const decoder = createAwsChunkedDecoder(opts);
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces, { objectMode: false }),
    decoder,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return { data: Buffer.concat(out), decoder };
}

async function decodeError(t: import('ava').ExecutionContext, body: Buffer, opts: AwsChunkedOptions, code: S3ErrorCode, pieces?: number[]) {
  const err = await t.throwsAsync(decode(body, opts, pieces), { instanceOf: S3Error });
  t.is(err.code, code, err.message);
  return err;
}

// --- AWS's documented signed examples -------------------------------------------------------------------

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const KEY = deriveSigningKey(SECRET, '20130524', 'us-east-1', 's3');
const DOC_DATA = Buffer.alloc(66560, 'a');

function docBody(sigs: string[], trailer = ''): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    DOC_DATA.subarray(0, 65536),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    DOC_DATA.subarray(65536),
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n${trailer}\r\n`),
  ]);
}

const SIGNED = {
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
};
const TRAILER = {
  seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
  chunks: [
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  ],
  trailer: 'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n',
};

const signedOpts = (seed: string, extra: Partial<AwsChunkedOptions> = {}): AwsChunkedOptions => ({
  decodedContentLength: 66560,
  signer: new ChunkSignatureVerifier(KEY, DATE, SCOPE, seed),
  ...extra,
});

test('AWS example: signed chunks decode, in any split', async (t) => {
  const body = docBody(SIGNED.chunks);
  t.is(body.length, 66824, 'the documented Content-Length');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 70000 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
      const { data, decoder } = await decode(body, signedOpts(SIGNED.seed), sizes);
      t.true(data.equals(DOC_DATA));
      t.is(decoder.decodedBytes, 66560);
    }),
    { numRuns: 60 },
  );
  await decode(body, signedOpts(SIGNED.seed), [1]); // byte by byte
});

test('AWS example: signed chunks with a signed CRC32C trailer decode', async (t) => {
  const body = docBody(TRAILER.chunks, TRAILER.trailer);
  const opts = signedOpts(TRAILER.seed, { trailers: ['x-amz-checksum-crc32c'], signedTrailer: true });
  const { data, decoder } = await decode(body, opts, [4096]);
  t.true(data.equals(DOC_DATA));
  t.deepEqual(decoder.trailers, { 'x-amz-checksum-crc32c': 'sOO8/Q==' });
  t.is(computeChecksum('CRC32C', data), 'sOO8/Q==');
  // Without the final blank line (some clients end right after the signature line) it still decodes.
  await decode(body.subarray(0, body.length - 2), signedOpts(TRAILER.seed, { trailers: ['x-amz-checksum-crc32c'], signedTrailer: true }));
});

test('AWS example: any tampering is SignatureDoesNotMatch', async (t) => {
  const body = docBody(SIGNED.chunks);
  const flipped = Buffer.from(body);
  flipped[100] = 0x62; // one data byte of chunk 1
  await decodeError(t, flipped, signedOpts(SIGNED.seed), 'SignatureDoesNotMatch');
  await decodeError(t, docBody([SIGNED.chunks[0], SIGNED.chunks[2], SIGNED.chunks[1]]), signedOpts(SIGNED.seed), 'SignatureDoesNotMatch');
  await decodeError(t, body, signedOpts(TRAILER.seed), 'SignatureDoesNotMatch');
  const unsignedChunk = Buffer.from(body.toString('latin1').replace(`;chunk-signature=${SIGNED.chunks[1]}`, ''), 'latin1');
  await decodeError(t, unsignedChunk, signedOpts(SIGNED.seed), 'SignatureDoesNotMatch');
  const badTrailer = docBody(TRAILER.chunks, TRAILER.trailer.replace('sOO8/Q==', 'AAAAAA=='));
  await decodeError(t, badTrailer, signedOpts(TRAILER.seed, { trailers: ['x-amz-checksum-crc32c'], signedTrailer: true }), 'SignatureDoesNotMatch');
  const noTrailerSig = docBody(TRAILER.chunks, 'x-amz-checksum-crc32c:sOO8/Q==\r\n');
  await decodeError(t, noTrailerSig, signedOpts(TRAILER.seed, { trailers: ['x-amz-checksum-crc32c'], signedTrailer: true }), 'SignatureDoesNotMatch');
});

// --- signed streams made here, signatures computed independently of the decoder ----------------------

function signStream(chunks: Buffer[], seed: string, trailers?: Record<string, string>): Buffer {
  let prev = seed;
  const parts: Buffer[] = [];
  const sign = (sts: string) => createHmac('sha256', KEY).update(sts).digest('hex');
  for (const c of [...chunks, Buffer.alloc(0)]) {
    const hash = createHash('sha256').update(c).digest('hex');
    prev = sign(`AWS4-HMAC-SHA256-PAYLOAD\n${DATE}\n${SCOPE}\n${prev}\n${EMPTY_SHA256}\n${hash}`);
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`), c, Buffer.from(c.length ? '\r\n' : ''));
  }
  if (trailers) {
    const canonical = Object.entries(trailers).map(([k, v]) => `${k}:${v}\n`).join('');
    const hash = createHash('sha256').update(canonical).digest('hex');
    const sig = sign(`AWS4-HMAC-SHA256-TRAILER\n${DATE}\n${SCOPE}\n${prev}\n${hash}`);
    parts.push(Buffer.from(`${canonical.replace(/\n/g, '\r\n')}x-amz-trailer-signature:${sig}\r\n`));
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

test('signed streams: random chunkings of random data, with trailers', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 8192, max: 40000 }), { maxLength: 4 }), fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1, max: 5000 }), async (sizes, last, split) => {
      const chunks = [...sizes, last].map((n) => randomBytes(n));
      const data = Buffer.concat(chunks);
      const crc = computeChecksum('CRC32', data);
      const body = signStream(chunks, SIGNED.seed, { 'x-amz-checksum-crc32': crc });
      const opts = { decodedContentLength: data.length, signer: new ChunkSignatureVerifier(KEY, DATE, SCOPE, SIGNED.seed), trailers: ['x-amz-checksum-crc32'], signedTrailer: true };
      const out = await decode(body, opts, [split]);
      t.true(out.data.equals(data));
      t.is(out.decoder.trailers['x-amz-checksum-crc32'], crc);
    }),
    { numRuns: 40 },
  );
});

test('signed streams: a chunk under 8 KiB before the last one → InvalidChunkSizeError', async (t) => {
  const body = signStream([randomBytes(8192), randomBytes(100), randomBytes(9000)], SIGNED.seed);
  const err = await decodeError(t, body, { signer: new ChunkSignatureVerifier(KEY, DATE, SCOPE, SIGNED.seed) }, 'InvalidChunkSizeError');
  t.deepEqual(err.extra, { Chunk: '2', BadChunkSize: '100' });
  // A small last chunk is fine, and so is one small chunk alone.
  await decode(signStream([randomBytes(8192), randomBytes(1)], SIGNED.seed), { signer: new ChunkSignatureVerifier(KEY, DATE, SCOPE, SIGNED.seed) });
  await decode(signStream([randomBytes(5)], SIGNED.seed), { signer: new ChunkSignatureVerifier(KEY, DATE, SCOPE, SIGNED.seed) });
});

// --- what the SDK really sends -------------------------------------------------------------------------

test.serial('SDK stream PutObject (STREAMING-UNSIGNED-PAYLOAD-TRAILER, 64 KiB chunks) decodes end to end', async (t) => {
  const server = await startCaptureServer();
  const client = sdkClient(server.endpoint);
  try {
    for (const size of [0, 25, 65536, 200_000]) {
      const data = randomBytes(size);
      await client.send(new PutObjectCommand({ Bucket: 'sdkb', Key: `stream-${size}`, Body: Readable.from([data]), ContentLength: size })).catch(() => undefined);
      const c = server.requests.at(-1)!;
      t.is(c.headers['content-encoding'], 'aws-chunked');
      const auth = await authenticate({ method: c.method, rawUrl: c.rawUrl, headers: c.headers, now: new Date() }, lookup, { region: 'us-east-1' });
      if (auth.kind !== 'signed') return t.fail();
      const opts = awsChunkedOptions(c.headers, auth.payload, auth.chunkSigner);
      t.deepEqual(opts.trailers, ['x-amz-checksum-crc32']);
      const { data: out, decoder } = await decode(c.body, opts, [1000, 70000]);
      t.true(out.equals(data), `size ${size}`);
      t.is(decoder.trailers['x-amz-checksum-crc32'], computeChecksum('CRC32', data));
    }
  } finally {
    client.destroy();
    await server.close();
  }
});

test('CLIENTS.md recorded bodies decode (SDK and botocore)', async (t) => {
  const sdk = await decode(Buffer.from('19\r\nhello from a file stream\n\r\n0\r\nx-amz-checksum-crc32:jdtiYA==\r\n\r\n'), { decodedContentLength: 25, trailers: ['x-amz-checksum-crc32'] });
  t.is(sdk.data.toString(), 'hello from a file stream\n');
  t.is(sdk.decoder.trailers['x-amz-checksum-crc32'], computeChecksum('CRC32', sdk.data));
  const boto = await decode(Buffer.from('a\r\nhello tls\n\r\n0\r\nx-amz-checksum-crc32:hSgvUw==\r\n\r\n'), { decodedContentLength: 10, trailers: ['x-amz-checksum-crc32'] });
  t.is(boto.data.toString(), 'hello tls\n');
  t.is(computeChecksum('CRC32', boto.data), 'hSgvUw==');
});

// --- malformed bodies -----------------------------------------------------------------------------------

const GOOD = Buffer.from('5\r\nhello\r\n3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
const goodOpts = { decodedContentLength: 8, trailers: ['x-amz-checksum-crc32'] };

test('every truncation of a body fails with IncompleteBody or MalformedTrailerError, never silently', async (t) => {
  await decode(GOOD, goodOpts);
  for (let n = 0; n < GOOD.length - 2; n++) {
    const err = await t.throwsAsync(decode(GOOD.subarray(0, n), goodOpts), { instanceOf: S3Error }, `cut at ${n}`);
    t.true(['IncompleteBody', 'MalformedTrailerError'].includes(err.code), `${n}: ${err.code}`);
  }
});

test('framing errors', async (t) => {
  await decodeError(t, Buffer.from('zz\r\nhello\r\n0\r\n\r\n'), {}, 'IncompleteBody');
  await decodeError(t, Buffer.from('5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n'), {}, 'IncompleteBody');
  await decodeError(t, Buffer.from('5\r\nhello\r\n0\r\n\r\ntrailing garbage'), {}, 'IncompleteBody');
  await decodeError(t, Buffer.concat([Buffer.alloc(10000, '1')]), {}, 'IncompleteBody'); // endless size line
  await decodeError(t, Buffer.from('ffffffffffffffff\r\n'), {}, 'IncompleteBody');
  await decode(Buffer.from('5\r\nhello\r\n0\r\n\r\n\r\n'), {}); // stray CRLF after the end is tolerated
  await decode(Buffer.from('5;ext=1\r\nhello\r\n0\r\n\r\n'), {}); // unknown extensions ignored
});

test('an error destroys the decoder with the S3Error', async (t) => {
  const decoder = createAwsChunkedDecoder({});
  const failed = new Promise<Error>((resolve) => decoder.on('error', resolve));
  decoder.resume();
  decoder.write(Buffer.from('5\r\nhello\r\nnot-hex\r\n'));
  const err = await failed;
  t.true(err instanceof S3Error);
  t.true(decoder.destroyed);
});

test('decoded length must match x-amz-decoded-content-length', async (t) => {
  const short = await decodeError(t, GOOD, { ...goodOpts, decodedContentLength: 9 }, 'IncompleteBody');
  t.is(short.extra.ReceivedLength, '8');
  await decodeError(t, GOOD, { ...goodOpts, decodedContentLength: 7 }, 'InvalidRequest');
});

test('trailers must be announced, present, well-formed and unique', async (t) => {
  await decodeError(t, GOOD, { decodedContentLength: 8 }, 'MalformedTrailerError');
  await decodeError(t, Buffer.from('0\r\n\r\n'), { trailers: ['x-amz-checksum-crc32'] }, 'MalformedTrailerError');
  await decodeError(t, Buffer.from('0\r\nno colon here\r\n\r\n'), { trailers: ['x-amz-checksum-crc32'] }, 'MalformedTrailerError');
  await decodeError(t, Buffer.from('0\r\nx-amz-checksum-crc32:a\r\nx-amz-checksum-crc32:b\r\n\r\n'), { trailers: ['x-amz-checksum-crc32'] }, 'MalformedTrailerError');
  const lf = await decode(Buffer.from('0\nX-Amz-Checksum-CRC32: AAAAAA== \n\n'), { trailers: ['x-amz-checksum-crc32'] });
  t.deepEqual(lf.decoder.trailers, { 'x-amz-checksum-crc32': 'AAAAAA==' }, 'bare LF lines and case are tolerated');
});

test('options from request headers', (t) => {
  const payload = { kind: 'streaming-unsigned-trailer' } as const;
  t.deepEqual(awsChunkedOptions({ 'x-amz-decoded-content-length': '25', 'x-amz-trailer': 'x-amz-checksum-CRC32' }, payload), {
    decodedContentLength: 25,
    signer: undefined,
    trailers: ['x-amz-checksum-crc32'],
    signedTrailer: false,
  });
  t.is(t.throws(() => awsChunkedOptions({}, payload), { instanceOf: S3Error }).code, 'MissingContentLength');
  t.is(t.throws(() => awsChunkedOptions({ 'x-amz-decoded-content-length': '-1' }, payload), { instanceOf: S3Error }).code, 'InvalidArgument');
});

test('throughput: 256 MiB of 64 KiB unsigned chunks', async (t) => {
  const chunk = randomBytes(65536);
  const framed = Buffer.concat([Buffer.from('10000\r\n'), chunk, Buffer.from('\r\n')]);
  const count = 4096;
  const reads = function* () {
    // Socket-like reads of 64 KiB that do not line up with the framing.
    const all = Buffer.concat(Array.from({ length: 16 }, () => framed));
    for (let i = 0; i < count / 16; i++) for (let off = 0; off < all.length; off += 65536) yield all.subarray(off, off + 65536);
    yield Buffer.from('0\r\n\r\n');
  };
  let seen = 0;
  const start = process.hrtime.bigint();
  await pipeline(
    Readable.from(reads(), { objectMode: false }),
    createAwsChunkedDecoder({ decodedContentLength: count * 65536 }),
    new Writable({
      write(c: Buffer, _e, cb) {
        seen += c.length;
        cb();
      },
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const mibps = (count * 65536) / 2 ** 20 / seconds;
  t.log(`${mibps.toFixed(0)} MiB/s`);
  t.is(seen, count * 65536);
  t.true(mibps > 300, `${mibps} MiB/s`);
});
