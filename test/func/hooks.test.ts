/**
 * WebAssembly hooks through the S3 API with the AWS SDK: every example hook on PUT, GET (bound and named by
 * the request) and events, Range GETs through a block-wise hook, and broken hooks (looping, memory-hungry,
 * trapping) answered with clear errors while plain requests go on.
 */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import test from 'ava';
import { withCluster } from '../helpers/cluster.js';
import { admin, bindHook, deployHook, withHeaders } from '../helpers/hooks.js';

const text = async (body: { transformToString(): Promise<string> } | undefined) => (body ? body.transformToString() : '');
const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

function qcow2Header(virtualSize: bigint): Buffer {
  const h = Buffer.alloc(512);
  h.writeUInt32BE(0x514649fb, 0);
  h.writeUInt32BE(3, 4);
  h.writeUInt32BE(16, 20);
  h.writeBigUInt64BE(virtualSize, 24);
  return h;
}

async function s3Error(p: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return { code: err.name, status: err.$metadata.httpStatusCode ?? 0, message: err.message };
    throw err;
  }
  throw new Error('expected an S3 error');
}

test(
  'example hooks on PUT, GET and events through the SDK',
  withCluster({}, async (t, cluster) => {
    const s3 = cluster.s3();
    for (const name of ['redact-email', 'csv-columns', 'jsonl-filter', 'qcow2-meta', 'content-type-check', 'upper-case']) await deployHook(cluster, name);
    const hooks = (await admin(cluster, 'GET', 'hooks')) as { hooks: Array<{ name: string }> };
    t.is(hooks.hooks.length, 6);
    await s3.send(new CreateBucketCommand({ Bucket: 'docs' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'derived' }));

    // PUT transform: what is stored is the hook's output, with its own ETag and size.
    await bindHook(cluster, 'docs', { hook: 'redact-email', on: 'put', prefix: 'mail/' });
    const letter = 'Write to alice@example.com or (bob.smith+x@mail.example.org), not to @nobody.\n'.repeat(3000);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'mail/letter.txt', Body: letter, ContentType: 'text/plain' }));
    const redacted = letter.replaceAll('alice@example.com', '[redacted]').replaceAll('bob.smith+x@mail.example.org', '[redacted]');
    t.is(put.ETag, `"${md5(redacted)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'mail/letter.txt' }));
    t.is(await text(got.Body), redacted);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'docs', Prefix: 'mail/' }));
    t.is(listed.Contents?.[0].Size, Buffer.byteLength(redacted));
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'plain.txt', Body: 'carol@example.com' }));
    t.is(await text((await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'plain.txt' }))).Body), 'carol@example.com', 'outside the prefix: untouched');

    // GET binding with parameters, and a hook named by the request (which overrides the binding).
    const csv = 'id,name,email,city\n1,Ann,"ann@x.org",Oslo\n2,"Lee, Jr.",lee@y.org,Rome\n';
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'people.csv', Body: csv }));
    await bindHook(cluster, 'docs', { hook: 'csv-columns', on: 'get', suffix: '.csv', params: { columns: 'name,city' } });
    t.is(await text((await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'people.csv' }))).Body), 'name,city\nAnn,Oslo\n"Lee, Jr.",Rome\n');
    const byIndex = withHeaders(cluster.s3(), { 'x-arca-hook': 'csv-columns', 'x-arca-hook-params': 'columns=0,2' });
    t.is(await text((await byIndex.send(new GetObjectCommand({ Bucket: 'docs', Key: 'people.csv' }))).Body), 'id,email\n1,"ann@x.org"\n2,lee@y.org\n');
    const jsonl = ['{"level":"info","msg":"a"}', '{"level": "error","msg":"b"}', '{"msg":"c","level":"error"}', '{"level":"errors"}'].join('\n');
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'log.jsonl', Body: jsonl }));
    const filter = withHeaders(cluster.s3(), { 'x-arca-hook': 'jsonl-filter', 'x-arca-hook-params': 'field=level&equals=error' });
    t.is(await text((await filter.send(new GetObjectCommand({ Bucket: 'docs', Key: 'log.jsonl' }))).Body), '{"level": "error","msg":"b"}\n{"msg":"c","level":"error"}\n');
    const unknown = withHeaders(cluster.s3(), { 'x-arca-hook': 'no-such-hook' });
    const e = await s3Error(unknown.send(new GetObjectCommand({ Bucket: 'docs', Key: 'log.jsonl' })));
    t.is(e.code, 'HookRejected');

    // Block-wise GET hook: ranges read and transform only their blocks.
    const long = Array.from({ length: 5000 }, (_, i) => `line ${i} of the text\n`).join('');
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'up/long.txt', Body: long }));
    await bindHook(cluster, 'docs', { hook: 'upper-case', on: 'get', prefix: 'up/' });
    const ranged = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'up/long.txt', Range: 'bytes=5000-13999' }));
    t.is(ranged.ContentRange, `bytes 5000-13999/${long.length}`);
    t.is(await text(ranged.Body), long.slice(5000, 14000).toUpperCase());
    t.is(await text((await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'up/long.txt', Range: 'bytes=-10' }))).Body), long.slice(-10).toUpperCase());

    // PUT validation: qcow2 header into metadata, Content-Type check rejecting a lie.
    await bindHook(cluster, 'docs', { hook: 'qcow2-meta', on: 'put', suffix: '.qcow2' });
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'disk.qcow2', Body: qcow2Header(10n * 1024n ** 3n) }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'disk.qcow2' }));
    t.is(head.Metadata?.['qcow2-virtual-size'], String(10 * 1024 ** 3));
    t.is(head.Metadata?.['qcow2-cluster-size'], '65536');
    t.is(head.ETag, `"${md5(qcow2Header(10n * 1024n ** 3n))}"`, 'a validating hook stores the bytes as sent');
    await bindHook(cluster, 'docs', { hook: 'content-type-check', on: 'put', prefix: 'img/' });
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100)]);
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'img/ok.png', Body: png, ContentType: 'image/png' }));
    const lie = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'img/bad.png', Body: 'not a picture', ContentType: 'image/png' })));
    t.is(lie.code, 'HookRejected');
    t.is(lie.status, 400);
    t.regex(lie.message, /not image\/png/);
    t.is((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'img/bad.png' })))).status, 404, 'nothing stored');

    // Event hook: derived objects in another bucket, never run on its own output.
    await bindHook(cluster, 'docs', { hook: 'qcow2-meta', on: 'event', suffix: '.qcow2', targetBucket: 'derived' });
    // A hook writing its output over its input, in the bucket it watches, does not run on its own output.
    await bindHook(cluster, 'derived', { hook: 'redact-email', on: 'event', suffix: '.txt' });
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'images/vm.qcow2', Body: qcow2Header(2n * 1024n ** 3n) }));
    await s3.send(new PutObjectCommand({ Bucket: 'derived', Key: 'notes.txt', Body: 'mail dave@example.net today' }));
    for (let i = 0; i < 20; i++) await cluster.proxy.compute.dispatcher.runOnce();
    t.is(await text((await s3.send(new GetObjectCommand({ Bucket: 'derived', Key: 'notes.txt' }))).Body), 'mail [redacted] today');
    const derived = await s3.send(new GetObjectCommand({ Bucket: 'derived', Key: 'images/vm.qcow2.qcow2.json' }));
    t.like(JSON.parse(await text(derived.Body)), { format: 'qcow2', version: 3, virtualSize: 2 * 1024 ** 3, clusterSize: 65536 });
    t.is(derived.ContentType, 'application/json');
    const status = (await admin(cluster, 'GET', 'events')) as { events: Array<{ bucket: string; consumers: Array<{ id: string; delivered: number }> }> };
    const docs = status.events.find((b) => b.bucket === 'docs')!;
    t.true(docs.consumers.some((c) => c.id.startsWith('hook:') && c.delivered >= 1));
    const loop = status.events.find((b) => b.bucket === 'derived')!.consumers[0];
    t.is(loop.delivered, 1, 'the redacted notes.txt (its own output) did not trigger it again');
  }),
);

test(
  'a looping, a memory-hungry and a trapping hook each get a clear error; plain requests keep going',
  withCluster({}, async (t, cluster) => {
    const s3 = cluster.s3();
    for (const name of ['loop-forever', 'memory-hog', 'trap']) await deployHook(cluster, `test/${name}`);
    await s3.send(new CreateBucketCommand({ Bucket: 'bad' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'good' }));
    for (const name of ['loop-forever', 'memory-hog', 'trap']) await bindHook(cluster, 'bad', { hook: name, on: 'put', prefix: `${name}/` });
    await s3.send(new PutObjectCommand({ Bucket: 'good', Key: 'x', Body: 'x' }));
    // How slow plain requests are on this machine right now, without broken hooks running.
    let baseline = 0;
    for (let i = 0; i < 10; i++) {
      const start = Date.now();
      await s3.send(new PutObjectCommand({ Bucket: 'good', Key: 'base', Body: `b${i}` }));
      await text((await s3.send(new GetObjectCommand({ Bucket: 'good', Key: 'base' }))).Body);
      baseline = Math.max(baseline, Date.now() - start);
    }

    let plainDone = 0;
    let slowest = 0;
    let stop = false;
    const plain = (async () => {
      for (let i = 0; !stop; i++) {
        const start = Date.now();
        await s3.send(new PutObjectCommand({ Bucket: 'good', Key: `k${i % 5}`, Body: `v${i}` }));
        t.is(await text((await s3.send(new GetObjectCommand({ Bucket: 'good', Key: `k${i % 5}` }))).Body), `v${i}`);
        slowest = Math.max(slowest, Date.now() - start);
        plainDone++;
      }
    })();
    const bad = await Promise.all(
      ['loop-forever', 'memory-hog', 'trap', 'loop-forever', 'trap'].map((name) => s3Error(s3.send(new PutObjectCommand({ Bucket: 'bad', Key: `${name}/obj`, Body: 'data' })))),
    );
    stop = true;
    await plain;
    for (const e of bad) {
      t.is(e.code, 'HookFailed');
      t.is(e.status, 500);
    }
    t.regex(bad[0].message, /loop-forever exceeded its CPU time limit/);
    t.regex(bad[1].message, /memory-hog .*out of memory at its limit of 8 MiB/);
    t.regex(bad[2].message, /trap trapped: .*unreachable/);
    t.true(plainDone > 0, 'plain requests ran meanwhile');
    // Never waiting on a hook's time limit (1 s per step, and killed workers replaced): as fast as without.
    t.true(slowest < Math.max(2000, 4 * baseline), `the slowest plain PUT+GET took ${slowest} ms (${baseline} ms before)`);
    const stats = ((await admin(cluster, 'GET', 'events')) as { hooks: { killed: number; failures: number } }).hooks;
    t.true(stats.killed >= 2, 'looping workers were killed');
    t.true(stats.failures >= 5);
    // And the sandbox still works afterwards.
    await deployHook(cluster, 'passthrough');
    await bindHook(cluster, 'good', { hook: 'passthrough', on: 'put', prefix: 'p/' });
    await s3.send(new PutObjectCommand({ Bucket: 'good', Key: 'p/1', Body: 'still fine' }));
    t.is(await text((await s3.send(new GetObjectCommand({ Bucket: 'good', Key: 'p/1' }))).Body), 'still fine');
  }),
);
