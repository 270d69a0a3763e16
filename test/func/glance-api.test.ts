/**
 * The image API over raw HTTP: versions and schemas, the create → upload → download cycle with the digests
 * and headers clients check, ranges as QEMU and nbdkit ask for them, status moves, errors as Glance renders
 * them, and one namespace with S3.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { api, request, withGlance } from './_glance.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

test(
  'versions, schemas, and the 401 without a token',
  withGlance({}, async (t, c) => {
    const v = await request(`${c.glanceUrl}/versions`);
    t.is(v.status, 300);
    const versions = JSON.parse(v.body.toString()).versions;
    t.is(versions[0].status, 'CURRENT');
    t.regex(versions[0].links[0].href, /\/v2\/$/);
    const s = await request(`${c.glanceUrl}/v2/schemas/image`);
    t.is(s.status, 200);
    t.is(JSON.parse(s.body.toString()).properties.os_hash_value.maxLength, 128);
    t.is((await request(`${c.glanceUrl}/v2/schemas/metadefs/namespace`)).status, 404);
    const noToken = await request(`${c.glanceUrl}/v2/images`);
    t.is(noToken.status, 401);
    t.truthy(JSON.parse(noToken.body.toString()).error.message);
    const badToken = await request(`${c.glanceUrl}/v2/images`, { headers: { 'x-auth-token': 'arca_nope' } });
    t.is(badToken.status, 401);
  }),
);

test(
  'create, upload with Content-Length, show, download whole and ranged, S3 sees the same object',
  withGlance({}, async (t, c) => {
    const created = await api(c, 'POST', '/v2/images', { name: 'blob', disk_format: 'raw', container_format: 'bare', visibility: 'private' });
    t.is(created.status, 201);
    const id = created.json.id as string;
    t.is(created.json.status, 'queued');
    t.is(created.headers.location, `${c.glanceUrl}/v2/images/${id}`);
    t.is(created.json.checksum, null);

    const data = randomBytes(3 * 1024 * 1024 + 17);
    const up = await api(c, 'PUT', `/v2/images/${id}/file`, data, { 'content-type': 'application/octet-stream' });
    t.is(up.status, 204, up.text);
    const shown = (await api(c, 'GET', `/v2/images/${id}`)).json;
    t.is(shown.status, 'active');
    t.is(shown.size, data.length);
    t.is(shown.virtual_size, data.length);
    t.is(shown.checksum, md5(data));
    t.is(shown.os_hash_algo, 'sha512');
    t.is(shown.os_hash_value, sha512(data));

    const whole = await api(c, 'GET', `/v2/images/${id}/file`);
    t.is(whole.status, 200);
    t.is(whole.headers['content-md5'], md5(data));
    t.is(whole.headers['content-length'], String(data.length));
    t.is(whole.headers['accept-ranges'], 'bytes');
    t.true(whole.body.equals(data));

    const head = await api(c, 'HEAD', `/v2/images/${id}/file`);
    t.is(head.status, 200);
    t.is(head.headers['content-length'], String(data.length));
    t.is(head.headers['accept-ranges'], 'bytes');

    // qemu-img convert: 2 MiB + 256 KiB, overlapping; nbdkit: one byte past the end, clamped.
    const r1 = await api(c, 'GET', `/v2/images/${id}/file`, undefined, { range: 'bytes=0-2359295' });
    t.is(r1.status, 206);
    t.is(r1.headers['content-range'], `bytes 0-2359295/${data.length}`);
    t.true(r1.body.equals(data.subarray(0, 2359296)));
    const last = await api(c, 'GET', `/v2/images/${id}/file`, undefined, { range: `bytes=${data.length - 100}-${data.length}` });
    t.is(last.status, 206);
    t.is(last.headers['content-range'], `bytes ${data.length - 100}-${data.length - 1}/${data.length}`);
    t.true(last.body.equals(data.subarray(data.length - 100)));
    const past = await api(c, 'GET', `/v2/images/${id}/file`, undefined, { range: `bytes=${data.length}-` });
    t.is(past.status, 416);
    t.is(past.headers['content-range'], `bytes */${data.length}`);

    const s3 = c.s3();
    const obj = await s3.send(new HeadObjectCommand({ Bucket: 'arca-images', Key: id }));
    t.is(obj.ETag, `"${md5(data)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'arca-images', Key: id, Range: 'bytes=0-9' }));
    t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(data.subarray(0, 10)));
  }),
);

test(
  'status table: a second upload is refused, deactivate blocks downloads, protected blocks delete',
  withGlance({}, async (t, c) => {
    const id = (await api(c, 'POST', '/v2/images', { name: 'x', disk_format: 'raw', container_format: 'bare' })).json.id as string;
    t.is((await api(c, 'PUT', `/v2/images/${id}/file`, Buffer.from('hello'), { 'content-type': 'application/octet-stream' })).status, 204);
    const again = await api(c, 'PUT', `/v2/images/${id}/file`, Buffer.from('again'), { 'content-type': 'application/octet-stream' });
    t.is(again.status, 409);
    t.regex(again.text, /active to saving is not allowed/);
    t.is((await api(c, 'POST', `/v2/images/${id}/actions/deactivate`)).status, 204);
    t.is((await api(c, 'GET', `/v2/images/${id}`)).json.status, 'deactivated');
    t.is((await api(c, 'POST', `/v2/images/${id}/actions/reactivate`)).status, 204);
    t.is((await api(c, 'GET', `/v2/images/${id}`)).json.status, 'active');
    const patch = (ops: unknown) => api(c, 'PATCH', `/v2/images/${id}`, ops, { 'content-type': 'application/openstack-images-v2.1-json-patch' });
    t.is((await patch([{ op: 'replace', path: '/protected', value: true }])).status, 200);
    const refused = await api(c, 'DELETE', `/v2/images/${id}`);
    t.is(refused.status, 403);
    t.regex(refused.text, /protected/);
    t.is((await patch([{ op: 'replace', path: '/protected', value: false }])).status, 200);
    t.is((await api(c, 'DELETE', `/v2/images/${id}`)).status, 204);
    const gone = await api(c, 'GET', `/v2/images/${id}`);
    t.is(gone.status, 404);
    t.regex(gone.headers['content-type'] ?? '', /text\/html/);
    t.regex(gone.text, /No image found with ID/);
    const json404 = await api(c, 'GET', `/v2/images/${id}`, undefined, { accept: 'application/json' });
    t.is(json404.json.title, 'Not Found');
  }),
);

test(
  'with an ec-4+2 policy configured the image data is erasure-coded by default, and ranges still work',
  withGlance({ nodes: 6, policies: [{ index: 0, name: 'replica-3' }, { index: 1, name: 'ec-4+2' }] }, async (t, c) => {
    const stores = (await api(c, 'GET', '/v2/info/stores')).json.stores as { id: string; default?: boolean }[];
    t.deepEqual(stores[0], { id: 'ec-4+2', description: 'Arca storage policy ec-4+2', default: true });
    const id = (await api(c, 'POST', '/v2/images', { name: 'ec', disk_format: 'raw', container_format: 'bare' })).json.id as string;
    const data = randomBytes(5 * 1024 * 1024 + 123);
    t.is((await api(c, 'PUT', `/v2/images/${id}/file`, data, { 'content-type': 'application/octet-stream' })).status, 204);
    const image = (await api(c, 'GET', `/v2/images/${id}`)).json;
    t.is(image.stores, 'ec-4+2');
    t.is(image.checksum, md5(data));
    const r = await api(c, 'GET', `/v2/images/${id}/file`, undefined, { range: 'bytes=1048000-3407295' });
    t.is(r.status, 206);
    t.true(r.body.equals(data.subarray(1048000, 3407296)));
    const whole = await api(c, 'GET', `/v2/images/${id}/file`);
    t.true(whole.body.equals(data));
    const obj = await c.s3().send(new HeadObjectCommand({ Bucket: 'arca-images', Key: id }));
    t.is(obj.ETag, `"${md5(data)}"`);
  }),
);
