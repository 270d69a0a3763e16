/**
 * Bad input, part 3: request framing, sizes, names, ranges, multipart and authentication. Each answers AWS's
 * exact code and status, stores nothing (HEAD, listing, and no replica on any device), releases the
 * connection (the next request on the same one-socket keep-alive agent is answered) and leaves the proxy
 * serving. The proxy here gives a stalled client 1 s (clientIdleTimeoutMs) instead of 20.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test, { type ExecutionContext } from 'ava';
import aws4 from 'aws4';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { devicesHolding } from '../helpers/placement.js';
import { type RawResponse, rawRequest, sendRequest, signedOptions } from '../helpers/raw.js';

let cluster: TestCluster;
const Bucket = 'body-bad';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const MiB = 1024 * 1024;

test.before(async () => {
  cluster = await startCluster({ nodes: 4, proxy: { clientIdleTimeoutMs: 1000 } });
  const r = await rawRequest(cluster, 'PUT', `/${Bucket}`);
  if (r.status !== 200) throw new Error(`create bucket: ${r.status} ${r.body}`);
  await rawRequest(cluster, 'PUT', `/${Bucket}/ten`, {}, '0123456789');
  await rawRequest(cluster, 'PUT', `/${Bucket}/empty`, {}, '');
});
test.after.always(async () => {
  agent.destroy();
  await cluster?.close();
});

/** A signed request on the shared keep-alive agent. */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
  return sendRequest({ ...signedOptions(cluster, method, path, headers), agent }, body);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** The exact error, then a following request on the same agent is answered. */
async function expectError(t: ExecutionContext, r: RawResponse, status: number, code: string | undefined, what: string): Promise<void> {
  t.is(r.status, status, `${what}: ${r.body}`);
  if (code) t.true(r.body.includes(`<Code>${code}</Code>`), `${what}: ${r.body}`);
  t.is((await withTimeout(send('GET', `/${Bucket}?list-type=2&max-keys=1`), 5000, `${what}: the next request`)).status, 200, `${what}: the next request`);
}

/** Not visible, not listed, not on any device. */
async function nothingStored(t: ExecutionContext, key: string): Promise<void> {
  t.is((await send('HEAD', `/${Bucket}/${encodeURIComponent(key)}`)).status, 404, `${key}: HEAD`);
  const list = await send('GET', `/${Bucket}?list-type=2&prefix=${encodeURIComponent(key)}`);
  t.regex(list.body, /<KeyCount>0<\/KeyCount>/, `${key}: listing`);
  t.deepEqual(devicesHolding(cluster, `/root/${Bucket}/${key}`), [], `${key}: devices`);
}

/** Writes raw bytes on a fresh socket and collects whatever comes back until the server closes or `ms` pass. */
function rawSocket(bytes: Buffer | string, opts: { ms?: number; end?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(cluster.proxy.port, '127.0.0.1');
    let out = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, opts.ms ?? 5000);
    socket.on('data', (d) => (out += d));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(bytes);
    if (opts.end) socket.end();
  });
}

/** The head of a signed PUT as raw HTTP/1.1 text, for bodies that do not match their headers. */
function rawHead(method: string, path: string, headers: Record<string, string>): string {
  const o = signedOptions(cluster, method, path, headers);
  const lines = Object.entries(o.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

test('a body shorter than Content-Length from a client that then stalls: RequestTimeout, nothing stored', async (t) => {
  const reply = await rawSocket(rawHead('PUT', `/${Bucket}/stalled`, { 'content-length': '100' }) + 'only 16 bytes...', { ms: 8000 });
  t.regex(reply, /^HTTP\/1\.1 400 /);
  t.regex(reply, /<Code>RequestTimeout<\/Code>/);
  t.regex(reply, /connection: close/i);
  await nothingStored(t, 'stalled');
  // A multipart part and an aws-chunked body stall the same way.
  const part = await rawSocket(rawHead('PUT', `/${Bucket}/stalled-chunked`, {
    'content-length': '200',
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'x-amz-decoded-content-length': '100',
  }) + '64\r\nhalf', { ms: 8000 });
  t.regex(part, /<Code>RequestTimeout<\/Code>/);
  await nothingStored(t, 'stalled-chunked');
});

test('a body shorter than Content-Length from a client that closes: refused, nothing stored', async (t) => {
  const reply = await rawSocket(rawHead('PUT', `/${Bucket}/short`, { 'content-length': '100' }) + 'only a few bytes', { end: true });
  t.regex(reply, /^HTTP\/1\.1 400 /, 'Node answers the truncated request');
  await nothingStored(t, 'short');
});

test('Content-Length over the limits: EntityTooLarge before any byte is read; no length at all: MissingContentLength', async (t) => {
  // The request claims 5 GiB + 1 and sends 1 MiB: the answer comes at once and the connection closes.
  const res = await new Promise<RawResponse>((resolve, reject) => {
    const req = http.request(signedOptions(cluster, 'PUT', `/${Bucket}/huge`, { 'content-length': String(5 * 1024 ** 3 + 1) }), (r) => {
      let body = '';
      r.on('data', (c) => (body += c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
    });
    req.on('error', reject);
    req.write(Buffer.alloc(MiB));
  });
  t.is(res.status, 400);
  t.regex(res.body, /<Code>EntityTooLarge<\/Code>.*<ProposedSize>5368709121<\/ProposedSize>/);
  t.is(res.headers.connection, 'close');
  await nothingStored(t, 'huge');
  const up = await send('POST', `/${Bucket}/huge-part?uploads`);
  const uploadId = /<UploadId>([^<]+)/.exec(up.body)![1];
  const part = await new Promise<RawResponse>((resolve, reject) => {
    const req = http.request(signedOptions(cluster, 'PUT', `/${Bucket}/huge-part?partNumber=1&uploadId=${uploadId}`, { 'content-length': String(5 * 1024 ** 3 + 1) }), (r) => {
      let body = '';
      r.on('data', (c) => (body += c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
    });
    req.on('error', reject);
    req.write('x');
  });
  t.is(part.status, 400);
  t.regex(part.body, /<Code>EntityTooLarge<\/Code>/);
  t.notRegex((await send('GET', `/${Bucket}/huge-part?uploadId=${uploadId}`)).body, /<Part>/, 'no part stored');

  // Neither Content-Length nor Transfer-Encoding: AWS wants the length.
  const noLength = await rawSocket(rawHead('PUT', `/${Bucket}/no-length`, {}));
  t.regex(noLength, /^HTTP\/1\.1 411 /);
  t.regex(noLength, /<Code>MissingContentLength<\/Code>/);
  await nothingStored(t, 'no-length');
});

/** An unsigned-trailer aws-chunked PUT with the given (possibly broken) framing. */
function chunkedPut(key: string, framing: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(
    'PUT',
    `/${Bucket}/${key}`,
    {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': '11',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'content-length': String(Buffer.byteLength(framing)),
      ...headers,
    },
    framing,
  );
}

test('aws-chunked: truncated or broken framing is IncompleteBody, a wrong trailer MalformedTrailerError or BadDigest', async (t) => {
  const crc = 'DUoRhQ=='; // CRC32 of "hello world"
  const good = `b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`;
  t.is((await chunkedPut('chunked-good', good)).status, 200, 'the well-formed body is accepted');
  const cases: Array<[string, string, number, string, Record<string, string>?]> = [
    ['truncated in the data', 'b\r\nhello', 400, 'IncompleteBody'],
    ['no final chunk', 'b\r\nhello world\r\n', 400, 'IncompleteBody'],
    ['a size that is not hex', 'zz\r\nhello world\r\n0\r\n\r\n', 400, 'IncompleteBody'],
    ['data not followed by CRLF', 'b\r\nhello worldXX0\r\n\r\n', 400, 'IncompleteBody'],
    ['longer than declared', `c\r\nhello world!\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`, 400, 'InvalidRequest'],
    ['shorter than declared', `a\r\nhello worl\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`, 400, 'IncompleteBody'],
    ['the announced trailer missing', 'b\r\nhello world\r\n0\r\n\r\n', 400, 'MalformedTrailerError'],
    ['a trailer not announced', `b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:${crc}\r\nx-amz-meta-x:y\r\n\r\n`, 400, 'MalformedTrailerError'],
    ['a trailer that does not match', 'b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n', 400, 'BadDigest'],
    ['no x-amz-decoded-content-length', good, 411, 'MissingContentLength', { 'x-amz-decoded-content-length': '' }],
  ];
  for (const [what, framing, status, code, headers] of cases) {
    const key = `chunked-${what.replaceAll(' ', '-')}`;
    const h = { ...headers };
    if (h['x-amz-decoded-content-length'] === '') delete h['x-amz-decoded-content-length'];
    const r = headers ? await send('PUT', `/${Bucket}/${key}`, {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'content-length': String(framing.length),
    }, framing) : await chunkedPut(key, framing);
    await expectError(t, r, status, code, what);
    await nothingStored(t, key);
  }
});

test('oversized header section: 431 from Node, connection closed, proxy alive; metadata over 2 KB: MetadataTooLarge', async (t) => {
  const reply = await rawSocket(`GET /${Bucket}/ten HTTP/1.1\r\nHost: x\r\nx-amz-meta-big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
  t.regex(reply, /^HTTP\/1\.1 431 /);
  t.is((await send('GET', `/${Bucket}/ten`)).body, '0123456789');

  const meta = (bytes: number) => ({ 'x-amz-meta-k': 'v'.repeat(bytes - 1) }); // name "k" + value
  t.is((await send('PUT', `/${Bucket}/meta-ok`, meta(2048), 'x')).status, 200, 'exactly 2 KB is allowed');
  await expectError(t, await send('PUT', `/${Bucket}/meta-big`, meta(2049), 'x'), 400, 'MetadataTooLarge', 'PutObject');
  await nothingStored(t, 'meta-big');
  await expectError(t, await send('POST', `/${Bucket}/meta-big?uploads`, meta(2049)), 400, 'MetadataTooLarge', 'CreateMultipartUpload');
  t.notRegex((await send('GET', `/${Bucket}?uploads`)).body, /meta-big/);
  const copy = await send('PUT', `/${Bucket}/meta-big`, { ...meta(2049), 'x-amz-copy-source': `/${Bucket}/ten`, 'x-amz-metadata-directive': 'REPLACE' });
  await expectError(t, copy, 400, 'MetadataTooLarge', 'CopyObject REPLACE');
  await nothingStored(t, 'meta-big');
});

test('invalid bucket names are InvalidBucketName and create nothing', async (t) => {
  const names = ['ab', 'a'.repeat(64), 'Upper-case', 'under_score', '-leading', 'trailing-', 'dot..dot', 'dash.-dot', '192.168.10.1', 'xn--punycode', 'name-s3alias', 'has space', 'sthree-x'];
  for (const name of names) {
    const r = await send('PUT', `/${encodeURIComponent(name)}`);
    await expectError(t, r, 400, 'InvalidBucketName', name);
    t.true(r.body.includes(`<BucketName>${name}</BucketName>`), r.body);
  }
  const list = await send('GET', '/');
  for (const name of names) t.false(list.body.includes(`<Name>${name}</Name>`), name);
});

test('keys over 1,024 bytes are KeyTooLongError on every write; 1,024 is fine', async (t) => {
  const long = 'k'.repeat(1025);
  const multibyte = 'é'.repeat(513); // 1,026 bytes in 513 characters
  t.is((await send('PUT', `/${Bucket}/${'k'.repeat(1024)}`, {}, 'x')).status, 200);
  for (const key of [long, multibyte]) {
    const path = `/${Bucket}/${encodeURIComponent(key)}`;
    await expectError(t, await send('PUT', path, {}, 'x'), 400, 'KeyTooLongError', `PutObject ${key.length}`);
    await expectError(t, await send('POST', `${path}?uploads`), 400, 'KeyTooLongError', 'CreateMultipartUpload');
    await expectError(t, await send('PUT', path, { 'x-amz-copy-source': `/${Bucket}/ten` }), 400, 'KeyTooLongError', 'CopyObject');
  }
  const list = await send('GET', `/${Bucket}?list-type=2&prefix=kkkkkkkkkk`);
  t.regex(list.body, /<KeyCount>1<\/KeyCount>/, 'only the 1,024-byte key');
  t.notRegex((await send('GET', `/${Bucket}?uploads`)).body, /<Key>(k{1025}|é)/);
});

test('ranges past the end are 416 InvalidRange with the size; an empty object has no satisfiable range', async (t) => {
  for (const range of ['bytes=10-', 'bytes=10-20', 'bytes=100-200', 'bytes=-0']) {
    const r = await send('GET', `/${Bucket}/ten`, { range });
    await expectError(t, r, 416, 'InvalidRange', range);
    t.is(r.headers['content-range'], 'bytes */10', range);
    t.regex(r.body, /<ActualObjectSize>10<\/ActualObjectSize>|<RangeRequested>/);
    const head = await send('HEAD', `/${Bucket}/ten`, { range });
    t.is(head.status, 416, `HEAD ${range}`);
    t.is(head.body, '');
  }
  const empty = await send('GET', `/${Bucket}/empty`, { range: 'bytes=0-' });
  await expectError(t, empty, 416, 'InvalidRange', 'empty object');
  // The end is clamped, not refused (nbdkit asks one byte past the end, CLIENTS.md §2).
  const clamped = await send('GET', `/${Bucket}/ten`, { range: 'bytes=5-10' });
  t.is(clamped.status, 206);
  t.is(clamped.headers['content-range'], 'bytes 5-9/10');
  t.is(clamped.body, '56789');
});

test('multipart: a part too small on Complete is EntityTooSmall, a bogus upload id NoSuchUpload; nothing is stored', async (t) => {
  const created = await send('POST', `/${Bucket}/mp-small?uploads`);
  const uploadId = /<UploadId>([^<]+)/.exec(created.body)![1];
  const etags: string[] = [];
  for (const n of [1, 2]) {
    const r = await send('PUT', `/${Bucket}/mp-small?partNumber=${n}&uploadId=${uploadId}`, {}, `part ${n}`);
    etags.push(r.headers.etag as string);
  }
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  const r = await send('POST', `/${Bucket}/mp-small?uploadId=${uploadId}`, { 'content-length': String(xml.length) }, xml);
  await expectError(t, r, 400, 'EntityTooSmall', 'Complete with a 6-byte first part');
  t.regex(r.body, /<ProposedSize>6<\/ProposedSize>|<PartNumber>1<\/PartNumber>|EntityTooSmall/);
  await nothingStored(t, 'mp-small');
  t.regex((await send('GET', `/${Bucket}/mp-small?uploadId=${uploadId}`)).body, /<PartNumber>2<\/PartNumber>/, 'the upload stands');

  const bogus = ['bogus', '0123456789abcdef0123456789abcdef', uploadId.replace(/.$/, (c) => (c === '0' ? '1' : '0'))];
  for (const id of bogus) {
    const q = `uploadId=${encodeURIComponent(id)}`;
    await expectError(t, await send('PUT', `/${Bucket}/mp-small?partNumber=1&${q}`, {}, 'data'), 404, 'NoSuchUpload', `UploadPart ${id}`);
    await expectError(t, await send('GET', `/${Bucket}/mp-small?${q}`), 404, 'NoSuchUpload', `ListParts ${id}`);
    await expectError(t, await send('POST', `/${Bucket}/mp-small?${q}`, { 'content-length': String(xml.length) }, xml), 404, 'NoSuchUpload', `Complete ${id}`);
    await expectError(t, await send('DELETE', `/${Bucket}/mp-small?${q}`), 404, 'NoSuchUpload', `Abort ${id}`);
  }
  await nothingStored(t, 'mp-small');
});

test('authentication: clock skew, expired presigned URL, unknown key, wrong signature; nothing stored', async (t) => {
  const creds = { accessKeyId: cluster.accessKey, secretAccessKey: cluster.secretKey };
  const port = cluster.proxy.port;
  const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  for (const [what, skewMs] of [['20 minutes late', -20 * 60_000], ['16 minutes early', 16 * 60_000]] as const) {
    const signed = aws4.sign(
      { host: `127.0.0.1:${port}`, method: 'PUT', path: `/${Bucket}/skewed`, service: 's3', region: 'us-east-1', body: 'x', headers: { 'X-Amz-Date': amzDate(new Date(Date.now() + skewMs)) } },
      creds,
    );
    const r = await sendRequest({ ...(signed as http.RequestOptions), host: '127.0.0.1', port, agent }, 'x');
    await expectError(t, r, 403, 'RequestTimeTooSkewed', what);
    t.regex(r.body, /<MaxAllowedSkewMilliseconds>900000<\/MaxAllowedSkewMilliseconds>/);
  }
  await nothingStored(t, 'skewed');

  const old = new URL(await getSignedUrl(cluster.s3(), new GetObjectCommand({ Bucket, Key: 'ten' }), { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) }));
  const expired = await sendRequest({ host: '127.0.0.1', port, path: old.pathname + old.search, agent });
  await expectError(t, expired, 403, 'AccessDenied', 'expired presigned URL');
  t.regex(expired.body, /<Message>Request has expired<\/Message>/);

  const unknown = aws4.sign({ host: `127.0.0.1:${port}`, method: 'PUT', path: `/${Bucket}/unknown-key`, service: 's3', region: 'us-east-1', body: 'x' }, { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' });
  await expectError(t, await sendRequest({ ...(unknown as http.RequestOptions), host: '127.0.0.1', port, agent }, 'x'), 403, 'InvalidAccessKeyId', 'unknown access key');
  await nothingStored(t, 'unknown-key');

  const wrong = aws4.sign({ host: `127.0.0.1:${port}`, method: 'PUT', path: `/${Bucket}/wrong-sig`, service: 's3', region: 'us-east-1', body: 'x' }, { ...creds, secretAccessKey: 'not the secret' });
  const body = Buffer.alloc(3 * MiB, 1);
  const r = await sendRequest({ ...(wrong as http.RequestOptions), host: '127.0.0.1', port, agent, headers: { ...wrong.headers, 'content-length': String(body.length) } }, body).catch(
    (e: NodeJS.ErrnoException) => ({ status: 0, headers: {}, body: e.code ?? '' }) as RawResponse,
  );
  // The reply may come before the 3 MiB are sent; then the client sees the connection end.
  if (r.status !== 0) await expectError(t, r, 403, 'SignatureDoesNotMatch', 'wrong secret');
  else t.regex(r.body, /EPIPE|ECONNRESET/);
  await nothingStored(t, 'wrong-sig');
  // A payload hash that does not match the body.
  const lying = await send('PUT', `/${Bucket}/lying-hash`, { 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') }, 'actual body');
  await expectError(t, lying, 400, 'XAmzContentSHA256Mismatch', 'x-amz-content-sha256 mismatch');
  await nothingStored(t, 'lying-hash');
});
