/**
 * bench/load: `runLoad` against the in-memory stand-in (which checks every signature with aws4), and the CLI
 * end to end. Each test gets its own stand-in.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import anyTest, { type TestFn } from 'ava';
import { BODY_SLICE, type LoadOptions, parseArgs, parseMix, runLoad } from '../../../bench/load/s3-load.js';
import { ACCESS_KEY, REGION, SECRET_KEY, type StandIn, startStandIn } from './_standin.js';

const test = anyTest as TestFn<{ s3: StandIn }>;

test.beforeEach(async (t) => {
  t.context.s3 = await startStandIn();
});
test.afterEach.always(async (t) => {
  await t.context.s3.close();
});

function opts(s3: StandIn, more: Partial<LoadOptions>): LoadOptions {
  return {
    endpoint: s3.endpoint,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
    bucket: 'bench',
    createBucket: true,
    workload: 'put',
    size: 4096,
    concurrency: 4,
    count: 20,
    ...more,
  };
}

const objectRequests = (s3: StandIn, method: string) => s3.requests.filter((r) => r.method === method && r.key !== '');

test('put, get, head, list, delete: every request signed, counted and verified', async (t) => {
  const { s3 } = t.context;
  const put = await runLoad(opts(s3, { workload: 'put', count: 50, concurrency: 8 }));
  t.is(put.ops, 50);
  t.deepEqual(put.errors, {});
  t.is(put.size, '4KiB');
  t.true(put.opsPerSec > 0 && put.mibPerSec > 0);
  t.true(put.latencyMs.p50! <= put.latencyMs.p90! && put.latencyMs.p90! <= put.latencyMs.p99! && put.latencyMs.p99! <= put.latencyMs.max!);
  t.is(put.clientCpuMsPerOp !== null && put.clientCpuMsPerOp > 0, true);
  t.is(put.serverCpuMsPerOp, undefined);
  const puts = objectRequests(s3, 'PUT');
  t.is(puts.length, 50);
  t.deepEqual(puts.map((r) => r.key).sort(), Array.from({ length: 50 }, (_, i) => `obj-${i}`).sort());
  for (const r of puts) {
    t.is(r.contentLength, 4096);
    t.is(r.received, 4096);
    t.is(r.payloadHash, 'UNSIGNED-PAYLOAD');
  }
  t.true(
    s3.requests.every((r) => r.signatureOk),
    'aws4 accepts every signature',
  );

  const get = await runLoad(opts(s3, { workload: 'get', count: 50, createBucket: false }));
  t.is(get.ops, 50);
  t.deepEqual(get.errors, {});
  t.is(objectRequests(s3, 'GET').length, 50);
  t.true(get.mibPerSec > 0);

  const head = await runLoad(opts(s3, { workload: 'head', count: 30, keys: 50 }));
  t.is(head.ops, 30);
  t.is(head.mibPerSec, 0);
  t.is(objectRequests(s3, 'HEAD').length, 30);

  const list = await runLoad(opts(s3, { workload: 'list', count: 5, prefix: '' }));
  t.is(list.ops, 5);
  const lists = s3.requests.filter((r) => r.method === 'GET' && r.key === '');
  t.is(lists.length, 5);
  t.true(lists.every((r) => r.url === '/bench?list-type=2&max-keys=1000'));

  const del = await runLoad(opts(s3, { workload: 'delete', count: 50, concurrency: 16 }));
  t.is(del.ops, 50);
  t.is(objectRequests(s3, 'DELETE').length, 50);
  t.is(s3.objects.size, 0);
  t.true(s3.requests.every((r) => r.signatureOk));
});

test('errors are counted by status, never thrown', async (t) => {
  const { s3 } = t.context;
  await runLoad(opts(s3, { count: 10 }));
  // Keys 10..19 do not exist: 404. Every 7th request answers 503, every 11th drops the connection.
  s3.fault = (_method, _key, n) => (n % 11 === 5 ? 'reset' : n % 7 === 3 ? 503 : undefined);
  const r = await runLoad(opts(s3, { workload: 'get', count: 40, keys: 20, createBucket: false }));
  const failed = Object.values(r.errors).reduce((a, b) => a + b, 0);
  t.is(r.ops + failed, 40);
  t.true(r.errors['404'] > 0, JSON.stringify(r.errors));
  t.true(r.errors['503'] > 0, JSON.stringify(r.errors));
  t.true(r.errors.ECONNRESET > 0, JSON.stringify(r.errors));
  t.true(r.ops > 0);
  t.regex(r.firstError ?? '', /^get obj-\d+: /);
});

test('a signature the server rejects is a counted 403', async (t) => {
  const { s3 } = t.context;
  await runLoad(opts(s3, { count: 1 }));
  const r = await runLoad(opts(s3, { workload: 'get', count: 5, keys: 1, secretKey: 'wrong', createBucket: false }));
  t.is(r.ops, 0);
  t.deepEqual(r.errors, { '403': 5 });
  t.regex(r.firstError ?? '', /SignatureDoesNotMatch/);
  t.deepEqual(r.latencyMs, { p50: null, p90: null, p99: null, max: null });
  t.is(r.opsPerSec, 0);
});

test('count bounds the run exactly, whatever the concurrency', async (t) => {
  const { s3 } = t.context;
  const r = await runLoad(opts(s3, { count: 37, concurrency: 8 }));
  t.is(r.ops, 37);
  t.is(objectRequests(s3, 'PUT').length, 37);
  const few = await runLoad(opts(s3, { count: 3, concurrency: 16, prefix: 'few/' }));
  t.is(few.ops, 3);
  t.is(objectRequests(s3, 'PUT').length, 40);
});

test('duration bounds a run without count; whichever bound comes first wins', async (t) => {
  const { s3 } = t.context;
  const r = await runLoad(opts(s3, { count: undefined, durationSec: 0.3, concurrency: 2 }));
  t.true(r.seconds >= 0.3 && r.seconds < 2, `seconds ${r.seconds}`);
  t.true(r.ops > 0);
  t.is(objectRequests(s3, 'PUT').length, r.ops);
  const capped = await runLoad(opts(s3, { count: 5, durationSec: 30 }));
  t.is(capped.ops, 5);
  t.true(capped.seconds < 5);
});

test('a body larger than one slice is streamed whole, with the right length and content', async (t) => {
  const { s3 } = t.context;
  const size = 2 * BODY_SLICE + 12345;
  const r = await runLoad(opts(s3, { size, count: 3, concurrency: 3 }));
  t.is(r.ops, 3);
  for (const [, body] of s3.objects) {
    t.is(body.length, size);
    t.true(body.subarray(0, 12345).equals(body.subarray(2 * BODY_SLICE)), 'slices of one buffer');
  }
  const get = await runLoad(opts(s3, { workload: 'get', size, count: 3 }));
  t.is(get.ops, 3);
  t.is(get.mibPerSec > 0, true);
  // A GET of the wrong length is an error, not a success.
  const wrong = await runLoad(opts(s3, { workload: 'get', size: 4096, count: 2, keys: 3 }));
  t.deepEqual(wrong.errors, { 'bad-length': 2 });
});

test('payload sha256 sends the body hash the server can verify', async (t) => {
  const { s3 } = t.context;
  const size = BODY_SLICE + 7;
  const r = await runLoad(opts(s3, { size, count: 2, payload: 'sha256' }));
  t.deepEqual(r.errors, {});
  for (const p of objectRequests(s3, 'PUT')) {
    t.is(p.payloadHash, createHash('sha256').update(s3.objects.get(p.key)!).digest('hex'));
  }
});

test('mixed picks ops by weight from the key space, deterministically per seed', async (t) => {
  const { s3 } = t.context;
  await runLoad(opts(s3, { count: 20 }));
  const before = s3.requests.length;
  const r = await runLoad(opts(s3, { workload: 'mixed', mix: { get: 3, head: 1, put: 1 }, count: 200, keys: 20, seed: 7 }));
  t.is(r.ops, 200);
  t.deepEqual(r.errors, {});
  const by = r.opsByKind!;
  t.is((by.get ?? 0) + (by.head ?? 0) + (by.put ?? 0), 200);
  t.true(by.get! > by.head! && by.get! > by.put!, JSON.stringify(by));
  const mixed = s3.requests.slice(before);
  t.true(mixed.every((q) => q.key === '' || /^obj-(1?\d)$/.test(q.key)), 'keys within the key space');
  const again = await runLoad(opts(s3, { workload: 'mixed', mix: { get: 3, head: 1, put: 1 }, count: 200, keys: 20, seed: 7 }));
  t.deepEqual(again.opsByKind, by);
});

test('server pids add server CPU per op and peak RSS', async (t) => {
  const { s3 } = t.context;
  const r = await runLoad(opts(s3, { count: 100, serverPids: [process.pid] }));
  t.is(typeof r.serverCpuMsPerOp, 'number');
  t.true(r.serverPeakRssMiB! > 10);
  // Other test files' children come and go under the same root, so only the sign of VmHWM is checked.
  t.true(r.serverHwmMiB! > 0);
  t.true(r.serverPssMiB! > 0);
});

test('bad options are refused before any request', async (t) => {
  const { s3 } = t.context;
  await t.throwsAsync(runLoad(opts(s3, { count: undefined })), { message: /never unbounded/ });
  await t.throwsAsync(runLoad(opts(s3, { workload: 'get', count: undefined, durationSec: 1 })), { message: /needs keys/ });
  await t.throwsAsync(runLoad(opts(s3, { workload: 'mixed', mix: { get: 0 } })), { message: /no positive weight/ });
  await t.throwsAsync(runLoad(opts(s3, { concurrency: 0 })), { message: /concurrency/ });
  t.is(s3.requests.length, 0);
});

test('parseArgs reads the documented flags', (t) => {
  const o = parseArgs(
    '--endpoint http://127.0.0.1:1 --access-key AK --secret-key SK --bucket B --create-bucket --workload mixed --size 64MiB --concurrency 8 --duration 2.5 --mix get=70,put=30 --keys 100 --prefix p/ --server-pids 1,2 --region eu-west-1'.split(
      ' ',
    ),
  );
  t.like(o, {
    endpoint: 'http://127.0.0.1:1',
    bucket: 'B',
    createBucket: true,
    workload: 'mixed',
    size: 64 * 1048576,
    concurrency: 8,
    durationSec: 2.5,
    count: undefined,
    mix: { get: 70, put: 30 },
    keys: 100,
    prefix: 'p/',
    serverPids: [1, 2],
    region: 'eu-west-1',
    payload: 'unsigned',
  });
  t.throws(() => parseArgs(['--endpoint', 'x', '--access-key', 'a', '--secret-key', 's', '--bucket', 'b', '--workload', 'put']), {
    message: /--count N or --duration S/,
  });
  t.throws(() => parseArgs(['--nope', '1']), { message: /unknown option/ });
  t.throws(() => parseMix('get=70,copy=30'), { message: /bad --mix/ });
});

test('the CLI prints exactly one JSON line', async (t) => {
  const { s3 } = t.context;
  const cli = fileURLToPath(new URL('../../../bench/load/s3-load.js', import.meta.url));
  const args = ['--endpoint', s3.endpoint, '--access-key', ACCESS_KEY, '--secret-key', SECRET_KEY, '--bucket', 'cli', '--create-bucket'];
  const run = promisify(execFile);
  const put = await run(process.execPath, [cli, ...args, '--workload', 'put', '--size', '1KiB', '--concurrency', '4', '--count', '12']);
  const lines = put.stdout.split('\n').filter(Boolean);
  t.is(lines.length, 1);
  const result = JSON.parse(lines[0]);
  t.like(result, { workload: 'put', size: '1KiB', concurrency: 4, ops: 12, errors: {} });
  const bad = await run(process.execPath, [cli, ...args, '--workload', 'put']).catch((e: { code: number; stderr: string }) => e);
  t.is((bad as { code: number }).code, 2);
});
