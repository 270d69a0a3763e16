/**
 * The node's recon endpoint and the workers behind it: devices with df, partitions held and out of place,
 * async pendings and quarantined files; passes recorded and kept across a restart; `/recon/run` only when the
 * config allows it; the device monitor making a wiped device usable again (and leaving a missing one alone).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import type { ReconPass, ReconStatus } from '../../../src/common/wire.js';
import { tsAgo, withRepairCluster } from '../../probe/repair-cluster.js';
import { request } from './node-fixture.js';

const name = (key: string) => `/AUTH_a/b/${key}`;

test(
  'status: devices, df, partitions held and out of place, async pendings and quarantined files',
  withRepairCluster({ nodes: 4 }, async (t, c) => {
    const obj = name('handed-off');
    const { primaries, handoffs } = c.placement(obj);
    const ts = tsAgo(5);
    for (const dev of [...primaries.slice(0, 2), handoffs[0]]) t.is((await c.put(dev, obj, Buffer.from('x'), ts)).status, 201);
    const parked = c.nodeOf(handoffs[0]);
    const device = parked.config.devices[0];
    await mkdir(join(parked.config.devicesDir, device, 'async_pending'), { recursive: true });
    await writeFile(join(parked.config.devicesDir, device, 'async_pending', 'x'), '{}');
    await mkdir(join(parked.config.devicesDir, device, 'quarantined', 'objects', 'abc'), { recursive: true });
    await writeFile(join(parked.config.devicesDir, device, 'quarantined', 'objects', 'abc', '1.data'), 'bad');

    const reply = await request(parked.config.port, 'GET', '/recon/status');
    t.is(reply.status, 200);
    const status = JSON.parse(reply.body.toString()) as ReconStatus;
    t.is(status.port, parked.config.port);
    t.is(status.devices.length, 1);
    const d = status.devices[0];
    t.like(d, { device, mounted: true, asyncPending: 1, quarantined: 1 });
    t.true(d.size! > 0 && d.avail! > 0 && d.used! > 0 && d.used! <= d.size!);
    t.deepEqual(d.partitions.find((p) => p.ring === 'object-0'), { ring: 'object-0', held: 1, outOfPlace: 1 });
    t.deepEqual(
      status.workers.map((w) => w.name),
      ['updater', 'replicator', 'reconstructor', 'listingReplicator', 'auditor', 'deviceMonitor', 'expirer'],
    );
    t.deepEqual(status.awaiting, { objects: 0, listingRows: 0, failedRequests: 0 });

    const primary = await c.nodeOf(primaries[0]).node!.recon.status();
    t.deepEqual(primary.devices[0].partitions.find((p) => p.ring === 'object-0'), { ring: 'object-0', held: 1, outOfPlace: 0 });
    t.is((await request(parked.config.port, 'POST', '/recon/run?worker=replicator')).status, 404, 'runs are off by default');
  }),
);

test(
  'passes are recorded, counted as awaiting repair, run on demand when allowed, and kept across a restart',
  withRepairCluster({ nodes: 4 }, async (t, c) => {
    const obj = name('missing-on-one');
    const { primaries } = c.placement(obj);
    const ts = tsAgo(5);
    for (const dev of primaries.slice(0, 2)) await c.put(dev, obj, Buffer.from('x'), ts);
    const n = c.nodeOf(primaries[0]);
    await c.stopNode(n.index);
    n.config.reconRun = true;
    await c.startNode(n.index);
    const run = await request(n.config.port, 'POST', '/recon/run?worker=replicator');
    t.is(run.status, 200);
    const pass = JSON.parse(run.body.toString()) as ReconPass;
    t.is(pass.stats?.dataPushed, 1);
    t.true(pass.durationMs >= 0 && !Number.isNaN(Date.parse(pass.start)));
    t.is((await request(n.config.port, 'POST', '/recon/run?worker=nope')).status, 400);
    let status = await n.node!.recon.status();
    t.deepEqual(status.workers.find((w) => w.name === 'replicator')?.last, pass);
    t.is(status.awaiting.objects, 1, 'the pass found one object to push');

    await c.stopNode(n.index);
    const saved = JSON.parse(await readFile(join(n.config.devicesDir, n.config.devices[0], 'recon.json'), 'utf8'));
    t.deepEqual(saved.workers.replicator, pass);
    await c.startNode(n.index);
    status = await n.node!.recon.status();
    t.deepEqual(status.workers.find((w) => w.name === 'replicator')?.last, pass, 'kept across the restart');

    const again = JSON.parse((await request(n.config.port, 'POST', '/recon/run?worker=replicator')).body.toString()) as ReconPass;
    t.is(again.stats?.dataPushed, 0);
    t.is((await n.node!.recon.status()).awaiting.objects, 0, 'in sync: nothing awaits');
  }),
);

test(
  'the device monitor makes a wiped device usable again (tmp/ and listing database); a missing device stays away',
  withRepairCluster({ nodes: 3 }, async (t, c) => {
    const n = c.nodes[0];
    const dev = c.ring('object').devices.find((d) => d.port === n.config.port)!;
    const devPath = join(n.config.devicesDir, dev.device);
    t.is((await c.listing(dev, 'PUT', 'AUTH_a', 'b', { body: { ts: tsAgo(9) } })).status, 201);
    t.is((await c.put(dev, name('k'), Buffer.from('before'), tsAgo(8))).status, 201);

    await rm(devPath, { recursive: true, force: true });
    await mkdir(devPath);
    t.is((await c.put(dev, name('k2'), Buffer.from('x'), tsAgo(7))).status, 507, 'no tmp/: unavailable');
    const stats = await n.node!.workers.deviceMonitor.runOnce();
    t.deepEqual(stats, { checked: 1, unavailable: 0, recreated: 1 });
    t.is((await c.put(dev, name('k2'), Buffer.from('x'), tsAgo(7))).status, 201);
    t.is((await c.listing(dev, 'PUT', 'AUTH_a', 'b', { body: { ts: tsAgo(6) } })).status, 201, 'a new, empty listing database');
    t.deepEqual(await c.rowNames(dev, 'AUTH_a', 'b'), []);
    t.deepEqual(await n.node!.workers.deviceMonitor.runOnce(), { checked: 1, unavailable: 0, recreated: 0 });

    await rm(devPath, { recursive: true, force: true });
    t.deepEqual(await n.node!.workers.deviceMonitor.runOnce(), { checked: 1, unavailable: 1, recreated: 0 });
    t.false((await n.node!.recon.status()).devices[0].mounted);
    t.is((await c.put(dev, name('k3'), Buffer.from('x'), tsAgo(5))).status, 507);
  }),
);
