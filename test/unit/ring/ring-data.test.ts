import { gunzipSync, gzipSync } from 'node:zlib';
import test from 'ava';
import { decodeRingFile, encodeRingFile, Ring, RingError } from '../../../ring/index.js';
import { built } from './model.js';

const data = () => built({ partPower: 5, replicas: 3, seed: 21, devices: Array.from({ length: 4 }, (_, i) => ({ region: 1, zone: i, host: i, weight: 1 })) }).ringData();

test('encode/decode round-trips ring data as gzip-compressed versioned JSON', (t) => {
  const d = data();
  const buf = encodeRingFile(d);
  t.deepEqual([buf[0], buf[1]], [0x1f, 0x8b]);
  const json = JSON.parse(gunzipSync(buf).toString('utf8'));
  t.is(json.format, 'arca-ring');
  t.is(json.version, 1);
  t.deepEqual(decodeRingFile(buf), d);
  const a = new Ring(d);
  const b = new Ring(decodeRingFile(buf));
  for (let p = 0; p < a.partitionCount; p++) t.deepEqual(a.primaries(p), b.primaries(p));
});

test('corrupt or mismatched ring files are RingErrors that name the field', (t) => {
  const d = data();
  const field = (buf: Buffer) => t.throws(() => decodeRingFile(buf), { instanceOf: RingError })?.field;
  t.is(field(Buffer.from('not gzip')), 'file');
  t.is(field(encodeRingFile(d).subarray(0, 20)), 'file');
  t.is(field(gzipSync('{"format":')), 'file');
  t.is(field(gzipSync('[]')), 'ring');
  t.is(field(gzipSync(JSON.stringify({ ...d, format: 'swift-ring' }))), 'format');
  t.is(field(gzipSync(JSON.stringify({ ...d, version: 9 }))), 'version');
  t.is(field(gzipSync(JSON.stringify({ ...d, replicas: 2 }))), 'assignments');
  t.is(field(gzipSync(JSON.stringify({ ...d, partPower: 6 }))), 'assignments[0]');
  t.is(field(gzipSync(JSON.stringify({ ...d, assignments: [d.assignments[0], d.assignments[1], ['x', ...d.assignments[2].slice(1)]] }))), 'assignments[2][0]');
});
