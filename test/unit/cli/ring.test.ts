import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { buildClusterRings, defaultRingPath } from '../../../src/cli/ring.js';
import { ringFileName } from '../../../src/common/config.js';
import { RingSet, readBuilderFile } from '../../../src/common/ring-files.js';

// This file runs from dist/test/unit/cli; the CLI is dist/src/cli/main.js.
const main = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/cli/main.js');

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'arca-ring-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `arca ring ...args` in `cwd`. */
function arca(cwd: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, 'ring', ...args], { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function cluster(cwd: string, devices = 4): void {
  arca(cwd, 'create', 'object.builder.json', '--part-power', '8', '--replicas', '3', '--seed', '42');
  for (let i = 1; i <= devices; i++) {
    const r = arca(cwd, 'add', 'object.builder.json', '--region', '1', '--zone', String(i), '--ip', `10.0.0.${i}`, '--port', '6000', '--device', 'sdb', '--weight', '1');
    if (r.code !== 0) throw new Error(r.err);
  }
}

test('create, add, rebalance, show: a ring file next to the builder', (t) => {
  const dir = tempDir(t);
  const created = arca(dir, 'create', 'object.builder.json', '--part-power', '8', '--replicas', '3', '--seed', '42');
  t.is(created.code, 0, created.err);
  t.regex(created.out, /256 partitions, 3 replicas, min part hours 1, seed 42/);
  const ids = [1, 2, 3, 4].map(
    (i) => arca(dir, 'add', 'object.builder.json', '--region', '1', '--zone', String(i), '--ip', `10.0.0.${i}`, '--port', '6000', '--device', 'sdb', '--weight', '1').out.trim(),
  );
  t.deepEqual(ids, ['0', '1', '2', '3']);
  const rebalanced = arca(dir, 'rebalance', 'object.builder.json');
  t.is(rebalanced.code, 0, rebalanced.err);
  t.regex(rebalanced.out, /moved 0 partition-replicas \(minimum 0\), placed 768; balance 0\.00%, dispersion 0\.00%/);
  t.regex(rebalanced.out, /wrote object\.ring\.json\.gz/);
  t.true(existsSync(join(dir, 'object.ring.json.gz')));

  const shown = arca(dir, 'show', 'object.builder.json');
  t.is(shown.code, 0, shown.err);
  t.regex(shown.out, /partition power 8 \(256 partitions\), 3 replicas/);
  t.regex(shown.out, /4 devices in 1 region, 4 zones; balance 0\.00%, dispersion 0\.00%/);
  t.regex(shown.out, /10\.0\.0\.3:6000\s+sdb\s+1\.00\s+192\s+192\.00\s+0\.00/);
  const ring = JSON.parse(arca(dir, 'show', 'object.ring.json.gz', '--json').out);
  t.is(ring.kind, 'ring');
  t.is(ring.replicas, 3);
  t.deepEqual(
    ring.devices.map((d: { parts: number }) => d.parts),
    [192, 192, 192, 192],
  );
});

test('rebalance --dry-run writes nothing; --json reports moves; --output picks the ring file', (t) => {
  const dir = tempDir(t);
  cluster(dir);
  arca(dir, 'rebalance', 'object.builder.json', '--now-hours', '1000');
  const builderBefore = readFileSync(join(dir, 'object.builder.json'), 'utf8');
  const ringBefore = readFileSync(join(dir, 'object.ring.json.gz'));
  t.is(arca(dir, 'add', 'object.builder.json', '--region', '1', '--zone', '5', '--ip', '10.0.0.5', '--port', '6000', '--device', 'sdb', '--weight', '1').out.trim(), '4');
  const builderAdded = readFileSync(join(dir, 'object.builder.json'), 'utf8');
  t.not(builderAdded, builderBefore);

  const dry = arca(dir, 'rebalance', 'object.builder.json', '--dry-run', '--now-hours', '1002');
  t.is(dry.code, 0, dry.err);
  t.regex(dry.out, /would move 153 partition-replicas \(minimum 153\)/);
  t.is(readFileSync(join(dir, 'object.builder.json'), 'utf8'), builderAdded);
  t.deepEqual(readFileSync(join(dir, 'object.ring.json.gz')), ringBefore);

  const locked = JSON.parse(arca(dir, 'rebalance', 'object.builder.json', '--dry-run', '--json', '--now-hours', '1000').out);
  t.is(locked.moved, 0, 'everything moved within min part hours');

  const real = arca(dir, 'rebalance', 'object.builder.json', '--json', '--now-hours', '1002', '--output', 'elsewhere.ring.json.gz');
  const result = JSON.parse(real.out);
  t.is(result.moved, 153);
  t.is(result.minimumMoves, 153);
  t.is(result.output, 'elsewhere.ring.json.gz');
  t.true(existsSync(join(dir, 'elsewhere.ring.json.gz')));
  t.deepEqual(readFileSync(join(dir, 'object.ring.json.gz')), ringBefore);
});

test('remove and set-weight', (t) => {
  const dir = tempDir(t);
  cluster(dir, 5);
  arca(dir, 'rebalance', 'object.builder.json', '--now-hours', '1000');
  t.is(arca(dir, 'set-weight', 'object.builder.json', '1', '2.5').code, 0);
  t.is(arca(dir, 'remove', 'object.builder.json', '4').code, 0);
  t.regex(arca(dir, 'show', 'object.builder.json').out, /\(removing\)/);
  const r = JSON.parse(arca(dir, 'rebalance', 'object.builder.json', '--json', '--now-hours', '1001').out);
  t.true(r.moved >= 153, 'device 4 gave up its partitions within min part hours');
  const b = readBuilderFile(join(dir, 'object.builder.json'));
  t.is(b.devices[4], null);
  t.is(b.devices[1]?.weight, 2.5);
});

test('bad input: one line naming the file or field, non-zero exit', (t) => {
  const dir = tempDir(t);
  cluster(dir);
  const oneLine = (r: { code: number; err: string }, pattern: RegExp) => {
    t.not(r.code, 0);
    t.regex(r.err, pattern);
  };
  oneLine(arca(dir, 'remove', 'object.builder.json', '9'), /^arca ring: object\.builder\.json: devices\[9\]: no such device\n$/);
  oneLine(arca(dir, 'set-weight', 'object.builder.json', '1', 'heavy'), /^arca ring: WEIGHT: expected a number >= 0, got "heavy"\n$/);
  oneLine(arca(dir, 'set-weight', 'object.builder.json', '1', '-3'), /^arca ring: expected a number >= 0, got "-3"\n$/);
  oneLine(arca(dir, 'add', 'object.builder.json', '--region', '1', '--zone', '1', '--ip', '10.0.0.1', '--port', '6000', '--device', 'sdb', '--weight', '1'), /object\.builder\.json: device: 10\.0\.0\.1:6000\/sdb is already in the ring\n$/);
  oneLine(arca(dir, 'add', 'object.builder.json', '--region', '1', '--zone', '1', '--ip', '10.0.0.9', '--port', '99999', '--device', 'sdb', '--weight', '1'), /--port: expected a whole number 0-65535/);
  oneLine(arca(dir, 'create', 'object.builder.json', '--part-power', '8', '--replicas', '3'), /object\.builder\.json: already exists/);
  oneLine(arca(dir, 'create', 'x.builder.json', '--part-power', '30', '--replicas', '3'), /x\.builder\.json: partPower: must be an integer 0-24/);
  oneLine(arca(dir, 'show', 'missing.builder.json'), /missing\.builder\.json: no such file/);
  writeFileSync(join(dir, 'torn.ring.json.gz'), 'not gzip');
  oneLine(arca(dir, 'show', 'torn.ring.json.gz'), /^arca ring: torn\.ring\.json\.gz: file: not a gzip stream/);
  const builder = JSON.parse(readFileSync(join(dir, 'object.builder.json'), 'utf8'));
  builder.devices[2].weight = 'heavy';
  writeFileSync(join(dir, 'bad.builder.json'), JSON.stringify(builder));
  oneLine(arca(dir, 'rebalance', 'bad.builder.json'), /^arca ring: bad\.builder\.json: devices\[2\]\.weight: must be a finite number >= 0\n$/);
  writeFileSync(join(dir, 'empty.builder.json'), '');
  oneLine(arca(dir, 'show', 'empty.builder.json'), /empty\.builder\.json: not valid JSON/);
  const usage = arca(dir, 'frobnicate');
  t.is(usage.code, 2);
  t.regex(usage.err, /unknown command "frobnicate"[\s\S]*usage: arca ring/);
  t.is(arca(dir, 'rebalance').code, 2);
  t.is(arca(dir, 'rebalance', 'object.builder.json', '--bogus').code, 2);
});

test('defaultRingPath swaps .builder.json for .ring.json.gz', (t) => {
  t.is(defaultRingPath('/etc/arca/object-1.builder.json'), '/etc/arca/object-1.ring.json.gz');
  t.is(defaultRingPath('rings/odd'), 'rings/odd.ring.json.gz');
});

test('buildClusterRings: builders and rings for account, container and every policy', (t) => {
  const dir = tempDir(t);
  const nodes = [1, 2, 3, 4].map((i) => ({ ip: '127.0.0.1', port: 6000 + i, device: `d${i}`, zone: i }));
  buildClusterRings({ ringDir: dir, nodes, policies: [{ index: 0, replicas: 3 }, { index: 1, replicas: 6 }], partPower: 8, seed: 7 });
  for (const name of ['account', 'container', 'object', 'object-1']) t.true(existsSync(join(dir, `${name}.builder.json`)), name);
  const rings = new RingSet(dir, [0, 1]);
  t.is(rings.account.replicaCount, 3);
  t.is(rings.object(0).seed, 7);
  // EC 4+2 on four devices: six fragments per partition, each device holding one or two.
  const ec = rings.object(1);
  t.is(ec.replicaCount, 6);
  for (let p = 0; p < ec.partitionCount; p++) {
    const counts = new Map<number, number>();
    for (const d of ec.primaries(p)) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
    t.is(counts.size, 4);
    t.true(Math.max(...counts.values()) <= 2);
  }
  t.true(existsSync(join(dir, ringFileName({ policyIndex: 1 }))));
});

test('buildClusterRings with fewer nodes than replicas', (t) => {
  const dir = tempDir(t);
  buildClusterRings({ ringDir: dir, nodes: [{ ip: '127.0.0.1', port: 6001, device: 'd1', zone: 1 }], policies: [{ index: 0, replicas: 3 }], seed: 1 });
  const rings = new RingSet(dir, [0]);
  t.is(rings.account.replicaCount, 1);
  t.is(rings.object(0).replicaCount, 3);
  t.is(rings.object(0).partitionCount, 1024);
  t.deepEqual(
    rings.object(0).primaries(0).map((d) => d.device),
    ['d1', 'd1', 'd1'],
  );
});
