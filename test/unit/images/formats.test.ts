/**
 * Format inspection against images qemu-img makes: the detected format, the virtual size QEMU reports, and
 * the refusals (backing files, parents, external extents, mismatched declarations), fed in small chunks as a
 * stream would bring them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { FormatInspector } from '../../../src/images/formats/inspector.js';
import { descriptorProblem } from '../../../src/images/formats/vmdk.js';

const dir = mkdtempSync(join(tmpdir(), 'arca-formats-'));

function qemuImg(args: string[]): void {
  execFileSync('/usr/bin/qemu-img', args, { stdio: 'pipe' });
}

function make(name: string, format: string, size: string, opts: string[] = []): Buffer {
  const file = join(dir, name);
  qemuImg(['create', '-q', '-f', format, ...opts, file, size]);
  return readFileSync(file);
}

/** Feeds `bytes` in `chunk`-byte pieces; the result, or the refusal message. */
function inspect(bytes: Buffer, declared: string | null, chunk = 4093, bare = true): { format: string; virtualSize: number | null } | string {
  const inspector = new FormatInspector(declared, bare);
  try {
    for (let i = 0; i < bytes.length; i += chunk) inspector.update(bytes.subarray(i, i + chunk));
    return inspector.finish();
  } catch (err) {
    return (err as Error).message;
  }
}

const MiB = 1024 * 1024;

test('virtual sizes of every inspected format match what qemu-img made', (t) => {
  t.deepEqual(inspect(make('a.qcow2', 'qcow2', '64M'), 'qcow2'), { format: 'qcow2', virtualSize: 64 * MiB });
  t.deepEqual(inspect(make('v2.qcow2', 'qcow2', '8M', ['-o', 'compat=0.10']), 'qcow2'), { format: 'qcow2', virtualSize: 8 * MiB });
  t.deepEqual(inspect(make('a.vmdk', 'vmdk', '32M'), 'vmdk'), { format: 'vmdk', virtualSize: 32 * MiB });
  t.deepEqual(inspect(make('s.vmdk', 'vmdk', '16M', ['-o', 'subformat=streamOptimized']), 'vmdk'), { format: 'vmdk', virtualSize: 16 * MiB });
  const vhd = inspect(make('a.vhd', 'vpc', '40M', ['-o', 'force_size=on']), 'vhd');
  t.deepEqual(vhd, { format: 'vhd', virtualSize: 40 * MiB });
  t.deepEqual(inspect(make('a.vhdx', 'vhdx', '48M'), 'vhdx', 65536), { format: 'vhdx', virtualSize: 48 * MiB });
  t.deepEqual(inspect(make('a.vdi', 'vdi', '24M'), 'vdi'), { format: 'vdi', virtualSize: 24 * MiB });
  const raw = Buffer.alloc(70_000, 3);
  t.deepEqual(inspect(raw, 'raw'), { format: 'raw', virtualSize: 70_000 });
  const iso = Buffer.alloc(40_000);
  iso.write('CD001', 0x8001, 'latin1');
  t.deepEqual(inspect(iso, 'iso'), { format: 'iso', virtualSize: 40_000 });
  t.deepEqual(inspect(Buffer.alloc(0), 'qcow2'), { format: 'raw', virtualSize: null });
});

test('images naming other host files are refused in any container', (t) => {
  const backing = join(dir, 'base.raw');
  writeFileSync(backing, Buffer.alloc(MiB));
  t.regex(String(inspect(make('b.qcow2', 'qcow2', '1M', ['-b', backing, '-F', 'raw']), 'qcow2')), /backing file/);
  t.regex(String(inspect(make('b2.qcow2', 'qcow2', '1M', ['-b', backing, '-F', 'raw']), 'raw', 4093, false)), /backing file/);
  t.regex(String(inspect(make('d.qcow2', 'qcow2', '1M', ['-o', `data_file=${join(dir, 'ext.raw')}`]), 'qcow2')), /data file/);
  const parent = join(dir, 'parent.vmdk');
  qemuImg(['create', '-q', '-f', 'vmdk', parent, '1M']);
  t.regex(String(inspect(make('child.vmdk', 'vmdk', '1M', ['-b', parent, '-F', 'vmdk']), 'vmdk')), /parent/);
  t.regex(String(inspect(make('flat.vmdk', 'vmdk', '1M', ['-o', 'subformat=monolithicFlat']), 'vmdk')), /descriptor/);
  const vhdx = make('p.vhdx', 'vhdx', '4M');
  // A parent locator entry in the metadata table makes a differencing disk: patch the VirtualDiskSize item's id.
  const at = vhdx.indexOf(Buffer.from([0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48]));
  t.true(at > 0);
  Buffer.from([0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c]).copy(vhdx, at);
  t.regex(String(inspect(vhdx, 'vhdx')), /parent locator/);
});

test('a declared format the bytes are not is refused early', (t) => {
  const qcow2 = make('m.qcow2', 'qcow2', '1M');
  t.regex(String(inspect(qcow2, 'raw')), /does not match disk_format raw \(the bytes are a qcow2 image\)/);
  t.regex(String(inspect(qcow2, 'vmdk')), /does not match disk_format vmdk/);
  t.regex(String(inspect(Buffer.alloc(4096, 1), 'qcow2')), /not a known disk format/);
  t.regex(String(inspect(make('m.vhdx', 'vhdx', '4M'), 'ami')), /vhdx/);
  // Another container: the declared disk format is not checked, but nothing unsafe passes.
  t.deepEqual(inspect(qcow2, 'raw', 4093, false), { format: 'qcow2', virtualSize: MiB });
  // The refusal comes from update(), as soon as the header is in: nothing more is streamed.
  const inspector = new FormatInspector('raw', true);
  t.throws(() => inspector.update(qcow2.subarray(0, 512)), { message: /qcow2/ });
});

test('vmdk descriptors: only self-contained single sparse extents without a parent', (t) => {
  const ok = '# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\nRW 2048 SPARSE "a.vmdk"\n';
  t.is(descriptorProblem(ok), undefined);
  t.regex(descriptorProblem(ok.replace('monolithicSparse', 'monolithicFlat'))!, /createType/);
  t.regex(descriptorProblem(`${ok}RW 2048 SPARSE "b.vmdk"\n`)!, /2 extents/);
  t.regex(descriptorProblem(ok.replace('parentCID=ffffffff', 'parentCID=1234abcd'))!, /parent/);
  t.regex(descriptorProblem(ok.replace('SPARSE', 'FLAT'))!, /not SPARSE/);
});
