import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { RingBuilder, type RingData } from '../../../ring/index.js';
import { ringFileName } from '../../../src/common/config.js';
import { ArcaError } from '../../../src/common/errors.js';
import { RingSet, readBuilderFile, readRingData, readRingFile, writeBuilderFile, writeRingFile } from '../../../src/common/ring-files.js';

function ringData(devices: number, seed = 1): RingData {
  const b = RingBuilder.create({ partPower: 6, replicas: Math.min(3, devices), minPartHours: 1, seed });
  for (let i = 0; i < devices; i++) b.addDevice({ region: 1, zone: i + 1, ip: '127.0.0.1', port: 6001 + i, device: `d${i + 1}`, weight: 1 });
  b.rebalance({ nowHours: 100 });
  return b.ringData();
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'arca-ring-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const invalidRing = (t: { throws: (fn: () => unknown, exp: object) => unknown }, fn: () => unknown) =>
  (t.throws(fn, { instanceOf: ArcaError }) as ArcaError).message;

test('writeRingFile writes atomically (no temporary left behind) and readRingFile reads it back', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'object.ring.json.gz');
  const data = ringData(4);
  writeRingFile(path, data);
  t.deepEqual(readdirSync(dir), ['object.ring.json.gz']);
  const ring = readRingFile(path);
  t.is(ring.partitionCount, 64);
  t.deepEqual(readRingData(path), data);
  writeRingFile(path, ringData(5));
  t.is(readRingFile(path).devices.length, 5);
  t.deepEqual(readdirSync(dir), ['object.ring.json.gz']);
});

test('unreadable, corrupt or mismatched ring files are InvalidRing errors naming the file and the field', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'object.ring.json.gz');
  t.regex(invalidRing(t, () => readRingFile(path)), /object\.ring\.json\.gz: no such file$/);
  writeFileSync(path, 'garbage');
  t.regex(invalidRing(t, () => readRingFile(path)), /object\.ring\.json\.gz: file: not a gzip stream/);
  writeRingFile(path, ringData(3));
  const whole = readFileSync(path);
  writeFileSync(path, whole.subarray(0, whole.length - 10));
  t.regex(invalidRing(t, () => readRingFile(path)), /object\.ring\.json\.gz: file: /);
  const err = t.throws(() => writeRingFile(path, { ...ringData(3), replicas: 2 }), { instanceOf: ArcaError }) as ArcaError;
  t.is(err.code, 'InvalidRing');
  t.regex(err.message, /object\.ring\.json\.gz: assignments: has 3 rows, replicas is 2/);
  t.is(err.detail.field, 'assignments');
});

test('builder files round-trip as plain JSON; a corrupt one names the file and the field', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'object.builder.json');
  const b = RingBuilder.create({ partPower: 4, replicas: 2, minPartHours: 1, seed: 5 });
  b.addDevice({ region: 1, zone: 1, ip: '127.0.0.1', port: 6001, device: 'd1', weight: 1 });
  writeBuilderFile(path, b);
  t.is(JSON.parse(readFileSync(path, 'utf8')).format, 'arca-ring-builder');
  t.deepEqual(readBuilderFile(path).toJSON(), b.toJSON());
  writeFileSync(path, '{"format": "arca-ring-builder", ');
  t.regex(invalidRing(t, () => readBuilderFile(path)), /object\.builder\.json: not valid JSON/);
  writeFileSync(path, JSON.stringify({ ...b.toJSON(), minPartHours: 'soon' }));
  t.regex(invalidRing(t, () => readBuilderFile(path)), /object\.builder\.json: minPartHours: /);
});

function writeCluster(dir: string, policies: number[], devices = 3): void {
  writeRingFile(join(dir, ringFileName('account')), ringData(devices, 1));
  writeRingFile(join(dir, ringFileName('container')), ringData(devices, 2));
  for (const i of policies) writeRingFile(join(dir, ringFileName({ policyIndex: i })), ringData(devices, 10 + i));
}

test('RingSet serves the account, container and per-policy object rings of a directory', (t) => {
  const dir = tempDir(t);
  writeCluster(dir, [0, 2]);
  const rings = new RingSet(dir, [0, 2]);
  t.is(rings.account.devices.length, 3);
  t.is(rings.container.replicaCount, 3);
  t.is(rings.object(0).partitionCount, 64);
  t.is(rings.object(2).seed, 12);
  t.is((t.throws(() => rings.object(1), { instanceOf: ArcaError }) as ArcaError).code, 'InvalidConfig');
  t.false(rings.reloadIfChanged());
});

test('RingSet refuses a directory with a missing or bad ring', (t) => {
  const dir = tempDir(t);
  writeCluster(dir, [0]);
  t.regex(invalidRing(t, () => new RingSet(dir, [0, 1])), /object-1\.ring\.json\.gz: no such file/);
  writeFileSync(join(dir, ringFileName('container')), 'x');
  t.regex(invalidRing(t, () => new RingSet(dir, [0])), /container\.ring\.json\.gz: file: /);
});

test('reloadIfChanged picks up a rewritten ring; a bad rewrite keeps the old ring and is reported once', (t) => {
  const dir = tempDir(t);
  writeCluster(dir, [0]);
  const rings = new RingSet(dir, [0]);
  const before = rings.object(0);
  writeRingFile(join(dir, ringFileName({ policyIndex: 0 })), ringData(5, 99));
  t.true(rings.reloadIfChanged());
  t.not(rings.object(0), before);
  t.is(rings.object(0).devices.length, 5);
  t.false(rings.reloadIfChanged());

  const path = join(dir, ringFileName('account'));
  const good = rings.account;
  writeFileSync(path, 'torn');
  const past = new Date(Date.now() + 5000);
  utimesSync(path, past, past);
  t.regex(invalidRing(t, () => rings.reloadIfChanged()), /account\.ring\.json\.gz: file: /);
  t.is(rings.account, good, 'the previous ring stays in service');
  t.false(rings.reloadIfChanged(), 'reported once per change of the file');
  writeRingFile(path, ringData(4, 7));
  t.true(rings.reloadIfChanged());
  t.is(rings.account.devices.length, 4);
});
