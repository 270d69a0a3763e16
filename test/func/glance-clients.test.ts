/**
 * The image API through the real clients (python3-glanceclient 4.1, python3-openstackclient 6.0), as
 * CLIENTS.md §3 records them: chunked uploads, JSON-patch updates, tags, downloads verified by sha512
 * (glanceclient) and Content-MD5 (openstacksdk), 404s, name lookups.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { RingSet } from '../../src/common/ring-files.js';
import { devicesHolding, hashDir } from '../helpers/placement.js';
import { api, glance, openstack, withGlance } from './_glance.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function tmpFile(name: string, data: Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'arca-glance-')), name);
  writeFileSync(file, data);
  return file;
}

test(
  'glance: image-create --file (chunked), list, show, update, tag, download (sha512 checked), delete, 404',
  withGlance({}, async (t, c) => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    const file = tmpFile('disk.raw', data);
    const created = await glance(c, ['image-create', '--name', 'cirros', '--disk-format', 'raw', '--container-format', 'bare', '--file', file]);
    t.is(created.code, 0, created.stderr);
    const id = /\|\s+id\s+\|\s+([0-9a-f-]{36})/.exec(created.stdout)?.[1];
    t.truthy(id, created.stdout);
    t.regex(created.stdout, /\|\s+status\s+\|\s+active/);
    t.regex(created.stdout, new RegExp(`\\|\\s+checksum\\s+\\|\\s+${md5(data)}`));

    const list = await glance(c, ['image-list']);
    t.is(list.code, 0, list.stderr);
    t.regex(list.stdout, new RegExp(`${id}\\s+\\|\\s+cirros`));

    const updated = await glance(c, ['image-update', '--property', 'hw_disk_bus=virtio', '--min-ram', '128', id!]);
    t.is(updated.code, 0, updated.stderr);
    t.regex(updated.stdout, /hw_disk_bus\s+\|\s+virtio/);
    t.regex(updated.stdout, /min_ram\s+\|\s+128/);

    const tagged = await glance(c, ['image-tag-update', id!, 'golden']);
    t.is(tagged.code, 0, tagged.stderr);
    const shown = await glance(c, ['image-show', id!]);
    t.regex(shown.stdout, /tags\s+\|.*golden/);

    const out = join(mkdtempSync(join(tmpdir(), 'arca-dl-')), 'out.raw');
    const dl = await glance(c, ['image-download', '--file', out, id!]);
    t.is(dl.code, 0, dl.stderr);
    t.true(readFileSync(out).equals(data));

    t.is((await glance(c, ['image-tag-delete', id!, 'golden'])).code, 0);
    const del = await glance(c, ['image-delete', id!]);
    t.is(del.code, 0, del.stderr);
    const missing = await glance(c, ['image-show', id!]);
    t.not(missing.code, 0);
    t.regex(missing.stderr + missing.stdout, /No image found with ID/);
  }),
);

test(
  'glance: image-create with stdin closed makes a queued image; image-upload fills it',
  withGlance({}, async (t, c) => {
    const created = await glance(c, ['image-create', '--name', 'empty', '--disk-format', 'raw', '--container-format', 'bare']);
    t.is(created.code, 0, created.stderr);
    const id = /\|\s+id\s+\|\s+([0-9a-f-]{36})/.exec(created.stdout)![1];
    t.regex(created.stdout, /status\s+\|\s+queued/);
    const data = randomBytes(100_000);
    const up = await glance(c, ['image-upload', '--file', tmpFile('d.raw', data), id]);
    t.is(up.code, 0, up.stderr);
    const shown = (await api(c, 'GET', `/v2/images/${id}`)).json;
    t.is(shown.status, 'active');
    t.is(shown.checksum, md5(data));
  }),
);

test(
  'glance: bytes corrupted on disk fail the download check',
  withGlance({}, async (t, c) => {
    const data = randomBytes(64 * 1024);
    const created = await glance(c, ['image-create', '--name', 'c', '--disk-format', 'raw', '--container-format', 'bare', '--file', tmpFile('c.raw', data)]);
    const id = /\|\s+id\s+\|\s+([0-9a-f-]{36})/.exec(created.stdout)![1];
    // Flip one byte of the data in every replica's .data file (the bytes come first, metadata after them).
    const name = `/root/arca-images/${id}`;
    const part = new RingSet(join(c.dir, 'rings'), [0]).object(0).partition(name);
    let flipped = 0;
    for (const device of devicesHolding(c, name)) {
      const dir = hashDir(c, device, 0, part, name);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.data'))) {
        const file = join(dir, f);
        const bytes = readFileSync(file);
        bytes[1000] ^= 0xff;
        writeFileSync(file, bytes);
        flipped++;
      }
    }
    t.true(flipped >= 2);
    const out = join(mkdtempSync(join(tmpdir(), 'arca-dl-')), 'out.raw');
    const dl = await glance(c, ['image-download', '--file', out, id]);
    t.not(dl.code, 0);
    t.regex(dl.stderr, /Corrupt image download|Hash was|IncompleteRead|error/i);
  }),
);

test(
  'openstack image create (Content-Length upload), show, list, save (Content-MD5 checked), delete by name',
  withGlance({}, async (t, c) => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const created = await openstack(c, ['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', tmpFile('os.raw', data), 'osimg', '-f', 'json']);
    t.is(created.code, 0, created.stderr);
    // openstacksdk prints the image as the POST returned it (queued); the upload happened before it exits.
    const image = JSON.parse(created.stdout);
    const shown = await openstack(c, ['image', 'show', 'osimg', '-f', 'json']);
    t.is(shown.code, 0, shown.stderr);
    const after = JSON.parse(shown.stdout);
    t.is(after.id, image.id);
    t.is(after.status, 'active');
    t.is(after.checksum, md5(data));

    const list = await openstack(c, ['image', 'list', '-f', 'json']);
    t.is(list.code, 0, list.stderr);
    t.true(JSON.parse(list.stdout).some((i: { ID: string }) => i.ID === image.id));
    const out = join(mkdtempSync(join(tmpdir(), 'arca-os-')), 'saved.raw');
    const saved = await openstack(c, ['image', 'save', '--file', out, 'osimg']);
    t.is(saved.code, 0, saved.stderr);
    t.true(readFileSync(out).equals(data));
    const del = await openstack(c, ['image', 'delete', 'osimg']);
    t.is(del.code, 0, del.stderr);
    const missing = await openstack(c, ['image', 'show', 'osimg']);
    t.not(missing.code, 0);
  }),
);
