/**
 * KVM hosts reading disks straight from the ring (CLIENTS.md §2): qemu-img and qemu-io through a signed URL
 * (QEMU's curl driver cannot send headers), nbdkit's curl plugin with a token header, byte-for-byte against
 * the source; and the images that must never be stored: a qcow2 with a backing file, a disk_format that does
 * not match the bytes, an upload cut off half way.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { runCommand } from '../helpers/clients.js';
import { api, type GlanceCluster, request, signedUrl, waitForImage, withGlance } from './_glance.js';

const env = { PATH: '/usr/bin:/bin' };
const run = (cmd: string, args: string[]) => runCommand(cmd, args, env, { timeoutMs: 120_000 });

/** A 64 MiB-virtual qcow2 with two written areas, and its raw form. */
async function makeQcow2(dir: string): Promise<{ qcow2: string; raw: string }> {
  const qcow2 = join(dir, 'src.qcow2');
  const raw = join(dir, 'ref.raw');
  for (const [cmd, args] of [
    ['/usr/bin/qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '64M']],
    ['/usr/bin/qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 3M', '-c', 'write -P 0x5c 40M 2M', '-c', 'write -P 0x11 63M 1M', qcow2]],
    ['/usr/bin/qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow2, raw]],
  ] as const) {
    const r = await run(cmd, [...args]);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  }
  return { qcow2, raw };
}

async function uploadImage(c: GlanceCluster, file: string, diskFormat: string): Promise<{ id: string; status: number; text: string }> {
  const id = (await api(c, 'POST', '/v2/images', { name: 'disk', disk_format: diskFormat, container_format: 'bare' })).json.id as string;
  const up = await api(c, 'PUT', `/v2/images/${id}/file`, readFileSync(file), { 'content-type': 'application/octet-stream' });
  return { id, status: up.status, text: up.text };
}

async function s3Status(c: GlanceCluster, key: string): Promise<number> {
  try {
    await c.s3().send(new HeadObjectCommand({ Bucket: 'arca-images', Key: key }));
    return 200;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  }
}

test(
  'qemu-img info and convert -m 1 from a signed URL, nbdkit with a token header, a qcow2 overlay over HTTP',
  withGlance({}, async (t, c) => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-qemu-'));
    const { qcow2, raw } = await makeQcow2(dir);
    const { id, status, text } = await uploadImage(c, qcow2, 'qcow2');
    t.is(status, 204, text);
    const image = (await api(c, 'GET', `/v2/images/${id}`)).json;
    t.is(image.virtual_size, 64 * 1024 * 1024);

    const url = signedUrl(c, id);
    const info = await run('/usr/bin/qemu-img', ['info', '--output', 'json', '-f', 'qcow2', url]);
    t.is(info.code, 0, info.stderr);
    t.is(JSON.parse(info.stdout)['virtual-size'], 64 * 1024 * 1024);

    const out = join(dir, 'out.raw');
    const conv = await run('/usr/bin/qemu-img', ['convert', '-m', '1', '-f', 'qcow2', '-O', 'raw', url, out]);
    t.is(conv.code, 0, conv.stderr);
    t.true(readFileSync(out).equals(readFileSync(raw)));

    const nbdOut = join(dir, 'nbd.raw');
    const nbd = await runCommand('/usr/bin/nbdkit', [
      '-U', '-', 'curl', `${c.glanceUrl}/v2/images/${id}/file`, `header=X-Auth-Token: ${c.token}`,
      '--run', `qemu-img convert -f qcow2 -O raw $nbd ${nbdOut}`,
    ], env, { timeoutMs: 120_000 });
    t.is(nbd.code, 0, nbd.stderr);
    t.true(readFileSync(nbdOut).equals(readFileSync(raw)));

    const overlay = join(dir, 'overlay.qcow2');
    const mk = await run('/usr/bin/qemu-img', ['create', '-q', '-f', 'qcow2', '-b', `json:{"file.driver":"http","file.url":"${url}"}`, '-F', 'qcow2', overlay]);
    t.is(mk.code, 0, mk.stderr);
    const io = await run('/usr/bin/qemu-io', ['-f', 'qcow2', '-c', 'read -P 0xab 0 3M', '-c', 'write -P 0x77 1M 64k', '-c', 'read -P 0x77 1M 64k', '-c', 'read -P 0x5c 40M 2M', overlay]);
    t.is(io.code, 0, io.stderr);
    t.notRegex(io.stdout, /Pattern verification failed/);
  }),
);

test(
  'signed URLs: HEAD as qemu needs it; an expired or tampered signature is refused',
  withGlance({}, async (t, c) => {
    const { id } = await uploadImage(c, '/etc/hostname', 'raw');
    const url = signedUrl(c, id);
    const head = await request(url, { method: 'HEAD' });
    t.is(head.status, 200);
    t.truthy(head.headers['content-length']);
    t.is(head.headers['accept-ranges'], 'bytes');
    t.is((await request(signedUrl(c, id, -10))).status, 401);
    // The first hex digit of the signature changed (to '0' unless it was '0' already: then the URL was unchanged).
    const tampered = url.replace(/temp_url_sig=(.)/, (_m, first: string) => `temp_url_sig=${first === '0' ? '1' : '0'}`);
    t.not(tampered, url);
    t.is((await request(tampered)).status, 401);
    t.is((await request(url.replace(`/images/${id}/file`, `/images/${id}`))).status, 401);
  }),
);

test(
  'refused images leave nothing: a qcow2 with a backing file, mismatched disk_format both ways',
  withGlance({}, async (t, c) => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-qemu-'));
    const evil = join(dir, 'evil.qcow2');
    t.is((await run('/usr/bin/qemu-img', ['create', '-q', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', evil, '1M'])).code, 0);
    const backing = await uploadImage(c, evil, 'qcow2');
    t.is(backing.status, 400);
    t.regex(backing.text, /backing file/);
    t.is((await api(c, 'GET', `/v2/images/${backing.id}`)).json.status, 'queued');
    t.is(await s3Status(c, backing.id), 404);

    const dataFile = join(dir, 'datafile.qcow2');
    t.is((await run('/usr/bin/qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${join(dir, 'ext.raw')}`, dataFile, '1M'])).code, 0);
    const external = await uploadImage(c, dataFile, 'qcow2');
    t.is(external.status, 400);
    t.regex(external.text, /data file/);

    const { qcow2 } = await makeQcow2(dir);
    const asRaw = await uploadImage(c, qcow2, 'raw');
    t.is(asRaw.status, 400);
    t.regex(asRaw.text, /does not match disk_format raw/);
    t.is(await s3Status(c, asRaw.id), 404);
    const rawAsQcow2 = await uploadImage(c, '/etc/os-release', 'qcow2');
    t.is(rawAsQcow2.status, 400);
    t.is((await api(c, 'GET', `/v2/images/${rawAsQcow2.id}`)).json.status, 'queued');
  }),
);

test(
  'an upload cut off half way returns the image to queued with no data; a new upload then works',
  withGlance({}, async (t, c) => {
    const id = (await api(c, 'POST', '/v2/images', { name: 'cut', disk_format: 'raw', container_format: 'bare' })).json.id as string;
    const url = new URL(`${c.glanceUrl}/v2/images/${id}/file`);
    const req = http.request(url, { method: 'PUT', headers: { 'x-auth-token': c.token, 'content-type': 'application/octet-stream', 'content-length': String(8 * 1024 * 1024) } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1024 * 1024, 7));
    // Cut it off only once the upload has begun (queued → saving): on a loaded machine the proxy may not have
    // read the request yet, and "queued" would then be the state before the upload, not after it.
    await waitForImage(c, id, (i) => i.status === 'saving');
    req.destroy();
    const after = await waitForImage(c, id, (i) => i.status === 'queued');
    t.is(after.size, null);
    t.is(await s3Status(c, id), 404);
    t.is((await api(c, 'GET', `/v2/images/${id}/file`)).status, 204);
    const ok = await api(c, 'PUT', `/v2/images/${id}/file`, Buffer.alloc(4096, 1), { 'content-type': 'application/octet-stream' });
    t.is(ok.status, 204, ok.text);
    t.is((await api(c, 'GET', `/v2/images/${id}`)).json.status, 'active');
  }),
);
