import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { defaultWorkerConfig, type NodeConfig } from '../../../src/common/config.js';
import { isArcaError } from '../../../src/common/errors.js';
import { startStorageNode } from '../../../storage-nodes/server.js';
import { request } from './node-fixture.js';

async function config(dir: string, extra: Partial<NodeConfig> = {}): Promise<NodeConfig> {
  return {
    bindIp: '127.0.0.1',
    port: 0,
    devicesDir: join(dir, 'devices'),
    devices: ['sda'],
    ringDir: join(dir, 'rings'),
    policies: [{ index: 0, name: 'replica-3' }],
    nodeTimeoutMs: 1000,
    listingUpdateTimeoutMs: 1000,
    reclaimAgeSec: 60,
    fsync: false,
    workers: { ...defaultWorkerConfig, updaterIntervalSec: 0 },
    ...extra,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'arca-srv-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a missing device directory stops startup with an error naming its path', async (t) => {
  await withDir(async (dir) => {
    const err = await t.throwsAsync(startStorageNode(await config(dir), { log: () => {} }));
    t.true(isArcaError(err, 'InvalidConfig'));
    t.true(err!.message.includes(join(dir, 'devices', 'sda')), err!.message);
  });
});

test('a device that is a file, or unwritable, stops startup naming its path', async (t) => {
  await withDir(async (dir) => {
    await mkdir(join(dir, 'devices'), { recursive: true });
    await writeFile(join(dir, 'devices', 'sda'), '');
    const err = await t.throwsAsync(startStorageNode(await config(dir), { log: () => {} }));
    t.true(err!.message.includes(join(dir, 'devices', 'sda')), err!.message);
    if (process.getuid?.() === 0) return; // root writes anywhere
    await rm(join(dir, 'devices', 'sda'));
    await mkdir(join(dir, 'devices', 'sda'));
    await chmod(join(dir, 'devices', 'sda'), 0o500);
    const err2 = await t.throwsAsync(startStorageNode(await config(dir), { log: () => {} }));
    t.true(err2!.message.includes(join(dir, 'devices', 'sda')), err2!.message);
  });
});

test('port 0 picks a free port; a port in use is an error naming it; close frees it', async (t) => {
  await withDir(async (dir) => {
    await mkdir(join(dir, 'devices', 'sda'), { recursive: true });
    await mkdir(join(dir, 'other', 'sda'), { recursive: true });
    const node = await startStorageNode(await config(dir), { log: () => {} });
    t.true(node.port > 0);
    t.is((await request(node.port, 'GET', '/healthcheck')).body.toString(), 'OK');
    const err = await t.throwsAsync(startStorageNode(await config(dir, { port: node.port, devicesDir: join(dir, 'other') }), { log: () => {} }));
    t.true(isArcaError(err, 'InvalidConfig'));
    t.true(err!.message.includes(String(node.port)), err!.message);
    await node.close();
    const again = await startStorageNode(await config(dir, { port: node.port }), { log: () => {} });
    t.is(again.port, node.port);
    await again.close();
  });
});
