/** The image status table, attribute and JSON-patch rules, list queries, and error rendering. */
import test from 'ava';
import type { Principal } from '../../../src/common/identity.js';
import { applyCreate, applyPatch, parsePatch } from '../../../src/images/attributes.js';
import { GlanceError, renderGlanceError, toGlanceError } from '../../../src/images/errors.js';
import { listed, page, pageLinks, parseListQuery } from '../../../src/images/listing.js';
import { type ImageRecord, imageView, newImageRecord } from '../../../src/images/record.js';
import { canMove, IMAGE_STATUSES, moveStatus, STATUS_MOVES } from '../../../src/images/status.js';
import { ArcaError } from '../../../src/common/errors.js';

const root: Principal = { accessKeyId: 'AK', user: 'root', account: 'root', isRoot: true };
const alice: Principal = { accessKeyId: 'AK2', user: 'alice', account: 'a', isRoot: false };
const image = (over: Partial<ImageRecord> = {}): ImageRecord => ({ ...newImageRecord('11111111-1111-1111-1111-111111111111', 'a'), ...over });

test('status table: Glance moves allowed, every other refused with 409', (t) => {
  t.true(canMove('queued', 'saving'));
  t.true(canMove('saving', 'queued'));
  t.true(canMove('importing', 'queued'));
  t.true(canMove('active', 'deactivated'));
  t.false(canMove('active', 'saving'));
  t.false(canMove('deleted', 'active'));
  for (const from of IMAGE_STATUSES) t.false(STATUS_MOVES[from].includes(from), `${from} lists itself`);
  const r = { status: 'active' as const } as { status: (typeof IMAGE_STATUSES)[number] };
  const err = t.throws(() => moveStatus(r, 'queued'), { instanceOf: GlanceError });
  t.is(err?.status, 409);
  t.is(r.status, 'active');
  moveStatus(r, 'deactivated');
  t.is(r.status, 'deactivated');
});

test('create and patch: read-only, reserved, admin-only, queued-only, types, properties', (t) => {
  const r = image();
  applyCreate(r, { name: 'n', disk_format: 'qcow2', container_format: 'bare', os_distro: 'debian', min_ram: 5 }, alice);
  t.is(r.properties.os_distro, 'debian');
  t.is(r.min_ram, 5);
  const status = (body: unknown, p = alice, rec = image()) => {
    try {
      applyCreate(rec, body, p);
      return 0;
    } catch (err) {
      return (err as GlanceError).status;
    }
  };
  t.is(status({ status: 'active' }), 403);
  t.is(status({ deleted: true }), 403);
  t.is(status({ os_glance_import_task: 'x' }), 403);
  t.is(status({ visibility: 'public' }), 403);
  t.is(status({ visibility: 'public' }, root), 0);
  t.is(status({ owner: 'other' }), 403);
  t.is(status({ min_ram: -1 }), 400);
  t.is(status({ disk_format: 'floppy' }), 400);
  t.is(status({ custom: 3 }), 400);
  t.is(status({ id: 'not-a-uuid' }), 400);

  const ops = parsePatch([
    { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
    { op: 'replace', path: '/min_ram', value: 128 },
    { op: 'replace', path: '/name~1x', value: 'slash' },
  ]);
  t.deepEqual(ops[2], { op: 'replace', path: 'name/x', value: 'slash' });
  const active = image({ status: 'active', disk_format: 'raw' });
  t.throws(() => applyPatch(active, ops, alice), { message: /does not exist/ });
  applyPatch(active, ops.slice(0, 2), alice);
  t.is(active.properties.hw_disk_bus, 'virtio');
  t.is(active.min_ram, 128);
  t.throws(() => applyPatch(active, parsePatch([{ op: 'replace', path: '/disk_format', value: 'qcow2' }]), alice), { message: /queued image/ });
  t.throws(() => applyPatch(active, parsePatch([{ op: 'remove', path: '/name' }]), alice), { message: /can't be removed/ });
  applyPatch(active, parsePatch([{ op: 'remove', path: '/hw_disk_bus' }]), alice);
  t.false('hw_disk_bus' in active.properties);
  t.throws(() => parsePatch([{ op: 'move', path: '/a', from: '/b' }]), { message: /Invalid operation/ });
  t.throws(() => parsePatch({ op: 'add' }), { instanceOf: GlanceError });
});

test('list queries: visibility per caller, filters, sort, marker and links', (t) => {
  const mine = image({ id: 'a1', name: 'b', visibility: 'private', created_at: '2024-01-02T00:00:00Z' });
  const pub = image({ id: 'a2', owner: 'z', name: 'a', visibility: 'public', created_at: '2024-01-03T00:00:00Z' });
  const comm = image({ id: 'a3', owner: 'z', name: 'c', visibility: 'community' });
  const shared = image({ id: 'a4', owner: 'z', name: 'd', visibility: 'shared' });
  const q = parseListQuery(new URLSearchParams(''));
  t.true(listed(alice, mine, undefined, q));
  t.true(listed(alice, pub, undefined, q));
  t.false(listed(alice, comm, undefined, q));
  t.false(listed(alice, shared, 'pending', q));
  t.true(listed(alice, shared, 'accepted', q));
  t.true(listed(alice, comm, undefined, parseListQuery(new URLSearchParams('visibility=community'))));
  t.true(listed(alice, shared, 'pending', parseListQuery(new URLSearchParams('member_status=pending'))));
  const byName = parseListQuery(new URLSearchParams('sort_key=name&sort_dir=asc&limit=1'));
  const all = new Map([mine, pub].map((r) => [r.id, r]));
  const p1 = page([mine, pub], byName, all);
  t.deepEqual(p1.images.map((r) => r.id), ['a2']);
  t.true(p1.more);
  const p2 = page([mine, pub], parseListQuery(new URLSearchParams('sort_key=name&sort_dir=asc&limit=1&marker=a2')), all);
  t.deepEqual(p2.images.map((r) => r.id), ['a1']);
  t.false(p2.more);
  t.deepEqual(page([mine, pub], q, all).images.map((r) => r.id), ['a2', 'a1']);
  t.deepEqual(pageLinks(new URLSearchParams('limit=1&marker=x'), 'a2'), { first: '/v2/images?limit=1', next: '/v2/images?limit=1&marker=a2' });
  t.throws(() => parseListQuery(new URLSearchParams('sort_key=bogus')), { message: /Invalid sort key/ });
  t.throws(() => parseListQuery(new URLSearchParams('size_min=x')), { instanceOf: GlanceError });
  const inQ = parseListQuery(new URLSearchParams('name=in:a,c'));
  t.deepEqual([mine, pub, comm].filter((r) => inQ.predicates.every((f) => f(r))).map((r) => r.id), ['a2', 'a3']);
  const time = parseListQuery(new URLSearchParams('created_at=gt:2024-01-02T12:00:00Z'));
  t.deepEqual([mine, pub].filter((r) => time.predicates.every((f) => f(r))).map((r) => r.id), ['a2']);
});

test('views and errors as clients read them', (t) => {
  const v = imageView(image({ properties: { os_distro: 'x' } }));
  t.is(v.os_distro, 'x');
  t.is(v.file, '/v2/images/11111111-1111-1111-1111-111111111111/file');
  t.false('locations' in v);
  const html = renderGlanceError(new GlanceError('NotFound', 'No image found with ID <x>'), '*/*');
  t.regex(html.contentType, /text\/html/);
  t.regex(html.body, /<title>404 Not Found<\/title>/);
  t.regex(html.body, /No image found with ID &lt;x&gt;/);
  const json = JSON.parse(renderGlanceError(new GlanceError('Conflict', 'busy'), 'application/json').body);
  t.deepEqual(json, { message: 'busy', code: '409 Conflict', title: 'Conflict' });
  const unauth = JSON.parse(renderGlanceError(new GlanceError('Unauthorized', 'no'), undefined).body);
  t.deepEqual(unauth, { error: { code: 401, title: 'Unauthorized', message: 'no' } });
  t.is(toGlanceError(new Error('secret detail')).status, 500);
  t.notRegex(toGlanceError(new Error('secret detail')).message, /secret/);
  t.is(toGlanceError(new ArcaError('InsufficientReplicas', 'x')).status, 503);
});
