/** The streaming multipart/form-data reader: any chunking of any body parses the same; malformed bodies fail. */
import { Readable } from 'node:stream';
import test from 'ava';
import fc from 'fast-check';
import type { S3Error } from '../../../src/s3/errors.js';
import { boundaryOf, readForm } from '../../../src/s3/form-data.js';

function body(boundary: string, fields: [string, string][], file?: { filename: string; data: Buffer }, extra = { preamble: '', epilogue: '' }): Buffer {
  const parts: Buffer[] = [Buffer.from(extra.preamble)];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: application/x-test\r\n\r\n`));
    parts.push(file.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n${extra.epilogue}`));
  return Buffer.concat(parts);
}

/** Splits `b` at the given cut points into a chunk stream. */
function chunked(b: Buffer, cuts: number[]): Readable {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    if (p > last) chunks.push(b.subarray(last, p));
    last = p;
  }
  if (last < b.length) chunks.push(b.subarray(last));
  return Readable.from(chunks);
}

async function all(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

test('boundaryOf: plain and quoted; not multipart; no boundary', (t) => {
  t.is(boundaryOf('multipart/form-data; boundary=----abc'), '----abc');
  t.is(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b"'), 'a b');
  t.is((t.throws(() => boundaryOf('text/plain')) as S3Error).code, 'RequestIsNotMultiPartContent');
  t.is((t.throws(() => boundaryOf('multipart/form-data')) as S3Error).code, 'MalformedPOSTRequest');
});

test('any chunking of a form yields the same fields and file bytes, even when the file holds near-delimiters', async (t) => {
  const boundary = 'XyZ-boundary';
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom('key', 'policy', 'x-amz-meta-a', 'Content-Type'), fc.string({ maxLength: 40 })), { maxLength: 4 }),
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('\r\n--XyZ-bound', '\r\n--', '\r\n--XyZ-boundar', '--XyZ-boundary').map((s) => new TextEncoder().encode(s))), {
        maxLength: 12,
      }),
      fc.array(fc.nat(), { maxLength: 20 }),
      async (fields, pieces, cuts) => {
        const clean = fields.filter(([, v]) => !v.includes('\r') && !v.includes('\n'));
        const data = Buffer.concat(pieces.map((p) => Buffer.from(p)));
        // Pieces can join into the real delimiter ("\r\n--XyZ-boundar" + "y"), which ends the part: not a valid form.
        fc.pre(!data.includes(`\r\n--${boundary}`));
        const b = body(boundary, clean, { filename: 'f.bin', data }, { preamble: 'ignored preamble\r\n', epilogue: 'ignored epilogue' });
        const form = await readForm(chunked(b, cuts), boundary);
        t.deepEqual(form.fields.map((f) => [f.name, f.value]), clean);
        t.is(form.file?.filename, 'f.bin');
        t.is(form.file?.contentType, 'application/x-test');
        t.true((await all(form.file!.body)).equals(data));
        t.false(form.leftover());
      },
    ),
    { numRuns: 300 },
  );
});

test('a form without a file; filename* is decoded', async (t) => {
  const form = await readForm(Readable.from([body('b', [['key', 'k']])]), 'b');
  t.deepEqual(form.fields, [{ name: 'key', value: 'k' }]);
  t.is(form.file, undefined);
  const star = Buffer.from(`--b\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''%C3%BC.txt\r\n\r\nx\r\n--b--`);
  const f = await readForm(Readable.from([star]), 'b');
  t.is(f.file?.filename, 'ü.txt');
  t.is((await all(f.file!.body)).toString(), 'x');
});

test('malformed: truncated file, no delimiter, header without colon, fields too large', async (t) => {
  const truncated = await readForm(Readable.from([Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nno end')]), 'b');
  t.is(((await t.throwsAsync(all(truncated.file!.body))) as S3Error).code, 'MalformedPOSTRequest');
  for (const text of ['no delimiter at all', '--b\r\nbroken header\r\n\r\nv\r\n--b--', '--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--']) {
    const err = (await t.throwsAsync(readForm(Readable.from([Buffer.from(text)]), 'b'))) as S3Error;
    t.is(err.code, 'MalformedPOSTRequest', text);
  }
  const big = body('b', [['a', 'x'.repeat(15_000)], ['b', 'y'.repeat(15_000)]]);
  t.is(((await t.throwsAsync(readForm(Readable.from([big]), 'b'))) as S3Error).code, 'MaxPostPreDataLengthExceededError');
});
