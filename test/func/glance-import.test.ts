/**
 * The import workflow (glance-direct, web-download from a loopback HTTP server, copy-image between storage
 * policies), S3 objects registered as images without copying, members and list filters with paging.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { api, createToken, type GlanceCluster, waitForImage, withGlance } from './_glance.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
const octet = { 'content-type': 'application/octet-stream' };
const patchType = { 'content-type': 'application/openstack-images-v2.1-json-patch' };

async function newImage(c: GlanceCluster, body: Record<string, unknown> = {}): Promise<string> {
  const r = await api(c, 'POST', '/v2/images', { disk_format: 'raw', container_format: 'bare', ...body });
  if (r.status !== 201) throw new Error(r.text);
  return r.json.id as string;
}

const twoPolicies = { policies: [{ index: 0, name: 'replica-3' }, { index: 1, name: 'replica-2' }] };

test(
  'glance-direct: stage, import into two stores, copy visible through S3 in both buckets',
  withGlance(twoPolicies, async (t, c) => {
    const info = await api(c, 'GET', '/v2/info/import');
    t.deepEqual((info.json['import-methods'] as { value: string[] }).value, ['glance-direct', 'web-download', 'copy-image']);
    const stores = (await api(c, 'GET', '/v2/info/stores')).json.stores as { id: string; default?: boolean }[];
    t.deepEqual(stores.map((s) => s.id), ['replica-3', 'replica-2']);

    const id = await newImage(c, { name: 'staged' });
    const data = randomBytes(1024 * 1024 + 1);
    t.is((await api(c, 'PUT', `/v2/images/${id}/stage`, data, octet)).status, 204);
    t.is((await api(c, 'GET', `/v2/images/${id}`)).json.status, 'uploading');
    const imp = await api(c, 'POST', `/v2/images/${id}/import`, { method: { name: 'glance-direct' }, all_stores: true });
    t.is(imp.status, 202, imp.text);
    const done = await waitForImage(c, id, (i) => i.status === 'active');
    t.is(done.checksum, md5(data));
    t.is(done.os_hash_value, sha512(data));
    t.is(done.stores, 'replica-3,replica-2');
    t.is(done.os_glance_failed_import, '');
    const s3 = c.s3();
    for (const bucket of ['arca-images', 'arca-images-replica-2']) {
      t.is((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: id }))).ETag, `"${md5(data)}"`);
    }
    const noStage = await newImage(c);
    t.is((await api(c, 'POST', `/v2/images/${noStage}/import`, { method: { name: 'glance-direct' } })).status, 409);
  }),
);

test(
  'web-download from a loopback server, then copy-image to the other store; a failing URL returns to queued',
  withGlance(twoPolicies, async (t, c) => {
    const data = randomBytes(3 * 1024 * 1024);
    const server = http.createServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/disk.raw' }).end();
      } else if (req.url === '/disk.raw') res.end(data);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const id = await newImage(c, { name: 'web' });
      const imp = await api(c, 'POST', `/v2/images/${id}/import`, { method: { name: 'web-download', uri: `${base}/redirect` } });
      t.is(imp.status, 202, imp.text);
      const done = await waitForImage(c, id, (i) => i.status === 'active');
      t.is(done.checksum, md5(data));
      t.is(done.stores, 'replica-3');

      const copy = await api(c, 'POST', `/v2/images/${id}/import`, { method: { name: 'copy-image' }, stores: ['replica-2'] });
      t.is(copy.status, 202, copy.text);
      const copied = await waitForImage(c, id, (i) => i.stores === 'replica-3,replica-2' && i.os_glance_importing_to_stores === undefined);
      t.is(copied.status, 'active');
      t.is((await api(c, 'POST', `/v2/images/${id}/import`, { method: { name: 'copy-image' }, stores: ['replica-2'] })).status, 409);

      const bad = await newImage(c, { name: 'bad' });
      t.is((await api(c, 'POST', `/v2/images/${bad}/import`, { method: { name: 'web-download', uri: `${base}/missing` } })).status, 202);
      const failed = await waitForImage(c, bad, (i) => i.status === 'queued' && i.os_glance_failed_import === 'replica-3');
      t.is(failed.size, null);
      t.is((await api(c, 'POST', `/v2/images/${bad}/import`, { method: { name: 'web-download', uri: 'file:///etc/passwd' } })).status, 400);
    } finally {
      server.close();
    }
  }),
);

test(
  'an S3 object registered as an image: no copy, same ETag, virtual size from its header, ranged reads',
  withGlance({}, async (t, c) => {
    const s3 = c.s3();
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new CreateBucketCommand({ Bucket: 'vm-disks' }));
    const data = randomBytes(2 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'vm-disks', Key: 'debian.raw', Body: data }));
    const id = await newImage(c, { name: 'from-s3' });
    const added = await api(c, 'POST', `/v2/images/${id}/locations`, { url: 's3://vm-disks/debian.raw' });
    t.is(added.status, 202, added.text);
    const image = (await api(c, 'GET', `/v2/images/${id}`)).json;
    t.is(image.status, 'active');
    t.is(image.checksum, md5(data));
    t.is(image.size, data.length);
    t.is(image.virtual_size, data.length);
    const part = await api(c, 'GET', `/v2/images/${id}/file`, undefined, { range: 'bytes=100-199' });
    t.is(part.status, 206);
    t.true(part.body.equals(data.subarray(100, 200)));
    const whole = await api(c, 'GET', `/v2/images/${id}/file`);
    t.is(whole.headers['content-md5'], md5(data));
    // No copy was made, and deleting the image leaves the user's object.
    await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket: 'arca-images', Key: id })));
    t.is((await api(c, 'DELETE', `/v2/images/${id}`)).status, 204);
    const still = await s3.send(new HeadObjectCommand({ Bucket: 'vm-disks', Key: 'debian.raw' }));
    t.is(still.ETag, `"${md5(data)}"`);
    const wrongFormat = await newImage(c, { disk_format: 'qcow2' });
    t.is((await api(c, 'POST', `/v2/images/${wrongFormat}/locations`, { url: 's3://vm-disks/debian.raw' })).status, 400);
  }),
);

test(
  'visibility and members across accounts; list filters, sorting and marker paging with next links',
  withGlance({}, async (t, c) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await newImage(c, { name: `img-${i}`, tags: i % 2 ? ['odd'] : ['even'], min_ram: i }));
    await api(c, 'PUT', `/v2/images/${ids[0]}/file`, Buffer.alloc(1000), octet);
    const list = async (q: string) => {
      const r = await api(c, 'GET', `/v2/images${q}`);
      t.is(r.status, 200, r.text);
      return r.json as { images: { id: string; name: string }[]; next?: string; first: string };
    };
    t.deepEqual((await list('?tag=odd&sort_key=name&sort_dir=asc')).images.map((i) => i.name), ['img-1', 'img-3']);
    t.deepEqual((await list('?name=img-2')).images.map((i) => i.id), [ids[2]]);
    t.deepEqual((await list('?status=active')).images.map((i) => i.id), [ids[0]]);
    t.deepEqual((await list('?size_min=500&size_max=2000')).images.map((i) => i.id), [ids[0]]);
    t.deepEqual((await list('?sort=min_ram:desc&limit=2')).images.map((i) => i.name), ['img-4', 'img-3']);
    const names: string[] = [];
    let next: string | undefined = '/v2/images?limit=2&sort_key=name&sort_dir=asc';
    while (next) {
      const page: { images: { name: string }[]; next?: string } = await list(next.slice('/v2/images'.length));
      names.push(...page.images.map((i) => i.name));
      next = page.next;
    }
    t.deepEqual(names, ['img-0', 'img-1', 'img-2', 'img-3', 'img-4']);
    t.is((await api(c, 'GET', '/v2/images?marker=nope')).status, 400);
    t.is((await api(c, 'PATCH', `/v2/images/${ids[1]}`, [{ op: 'add', path: '/os_distro', value: 'debian' }], patchType)).status, 200);
    t.deepEqual((await list('?os_distro=debian')).images.map((i) => i.id), [ids[1]]);
  }),
);

test(
  'members: another account sees a shared image only once a member, and cannot change it',
  withGlance({}, async (t, c) => {
    const { key: k } = await c.proxy.identity.createUser('bob', { account: 'tenant-b' });
    const bobToken = await createToken(c.glanceUrl, { accessKeyId: k.accessKeyId, secretKey: k.secretAccessKey });
    const bob = { ...c, token: bobToken } as GlanceCluster;
    const id = await newImage(c, { name: 'shared-one', visibility: 'shared' });
    const priv = await newImage(c, { name: 'private-one', visibility: 'private' });
    t.is((await api(bob, 'GET', `/v2/images/${id}`)).status, 404);
    t.is((await api(bob, 'GET', `/v2/images/${priv}`)).status, 404);
    const m = await api(c, 'POST', `/v2/images/${id}/members`, { member: 'tenant-b' });
    t.is(m.status, 200, m.text);
    t.is(m.json.status, 'pending');
    t.is((await api(bob, 'GET', `/v2/images/${id}`)).status, 200);
    t.deepEqual(((await api(bob, 'GET', '/v2/images')).json.images as unknown[]).length, 0);
    t.is((await api(bob, 'PUT', `/v2/images/${id}/members/tenant-b`, { status: 'accepted' })).status, 200);
    t.deepEqual(((await api(bob, 'GET', '/v2/images')).json.images as { id: string }[]).map((i) => i.id), [id]);
    t.is((await api(bob, 'DELETE', `/v2/images/${id}`)).status, 403);
    t.is((await api(bob, 'PATCH', `/v2/images/${id}`, [{ op: 'replace', path: '/name', value: 'mine' }], patchType)).status, 403);
    t.is((await api(bob, 'POST', '/v2/images', { name: 'pub', visibility: 'public' })).status, 403);
    t.deepEqual(((await api(c, 'GET', `/v2/images/${id}/members`)).json.members as { member_id: string }[]).map((x) => x.member_id), ['tenant-b']);
    t.is((await api(c, 'DELETE', `/v2/images/${id}/members/tenant-b`)).status, 204);
    t.is((await api(bob, 'GET', `/v2/images/${id}`)).status, 404);
  }),
);
