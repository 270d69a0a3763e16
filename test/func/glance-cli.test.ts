/**
 * The `arca token` and `arca image` commands against a cluster serving the image API: a token that glance
 * accepts, an S3 object registered as an image, and a signed URL that qemu-img opens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { runCommand } from '../helpers/clients.js';
import { type GlanceCluster, glance, withGlance } from './_glance.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const arca = (c: GlanceCluster, args: string[]) =>
  runCommand(process.execPath, [main, ...args, '--endpoint', c.glanceUrl], { ARCA_ACCESS_KEY: c.accessKey, ARCA_SECRET_KEY: c.secretKey });

test(
  'arca token create, arca image import s3://…, arca image url opened by qemu-img',
  withGlance({}, async (t, c) => {
    const tok = await arca(c, ['token', 'create', '--expires', '600']);
    t.is(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim();
    t.regex(token, /^arca_/);
    const list = await glance({ ...c, token }, ['image-list']);
    t.is(list.code, 0, list.stderr);

    const s3 = c.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'disks' }));
    const data = randomBytes(1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'disks', Key: 'a/disk.raw', Body: data }));
    const imp = await arca(c, ['image', 'import', 's3://disks/a/disk.raw', '--name', 'from-s3']);
    t.is(imp.code, 0, imp.stderr);
    const image = JSON.parse(imp.stdout);
    t.is(image.status, 'active');
    t.is(image.checksum, createHash('md5').update(data).digest('hex'));

    const url = await arca(c, ['image', 'url', image.id, '--expires', '120']);
    t.is(url.code, 0, url.stderr);
    const info = await runCommand('/usr/bin/qemu-img', ['info', '--output', 'json', '-f', 'raw', url.stdout.trim()], {});
    t.is(info.code, 0, info.stderr);
    t.is(JSON.parse(info.stdout)['virtual-size'], data.length);

    const missing = await arca(c, ['image', 'import', 's3://disks/nope', '--name', 'x']);
    t.not(missing.code, 0);
    t.regex(missing.stderr, /No such object/);
  }),
);
