/**
 * VMDK: a sparse extent header (`KDMV`, little-endian) with an embedded text descriptor. Only the
 * self-contained kinds are accepted — `monolithicSparse` and `streamOptimized` with exactly one extent and no
 * parent — because any other descriptor names files that QEMU would open on the host. A descriptor-only file
 * (text starting `# Disk DescriptorFile`) is a VMDK to QEMU too, and is refused for the same reason.
 * Layout: VMware "Virtual Disk Format 5.0"; QEMU block/vmdk.c.
 */
import { type FormatParser, lost } from './types.js';

export const VMDK_MAGIC = Buffer.from('KDMV', 'latin1');
const SECTOR = 512;
const MAX_DESCRIPTOR_BYTES = 1024 * 1024;
const ALLOWED_CREATE_TYPES = new Set(['monolithicSparse', 'streamOptimized']);

/** True when `head` starts as a VMDK text descriptor does. */
export function isVmdkDescriptorText(head: Buffer): boolean {
  const text = head.subarray(0, 32).toString('latin1');
  return /^# ?Disk ?Descriptor ?File/i.test(text);
}

/** Checks a descriptor's text; undefined when it is acceptable. */
export function descriptorProblem(text: string): string | undefined {
  const createType = /^\s*createType\s*=\s*"?([^"\s]*)"?/m.exec(text)?.[1];
  if (!createType || !ALLOWED_CREATE_TYPES.has(createType)) return `vmdk createType ${createType ?? '(none)'} is not allowed (it names other files)`;
  const extents = text.split('\n').filter((line) => /^\s*(RW|RDONLY|NOACCESS)\s+\d+/.test(line));
  if (extents.length !== 1) return `vmdk has ${extents.length} extents; only single-extent images are accepted`;
  if (!/^\s*\S+\s+\d+\s+SPARSE\b/.test(extents[0])) return 'vmdk extent is not SPARSE';
  const parentCid = /^\s*parentCID\s*=\s*([0-9a-fA-F]+)/m.exec(text)?.[1];
  if ((parentCid && parentCid.toLowerCase() !== 'ffffffff') || /parentFileNameHint/.test(text)) return 'vmdk image has a parent (backing file)';
  return undefined;
}

export const parseVmdk: FormatParser = (cap) => {
  const start = cap.need(0, Math.min(32, Math.max(cap.seen, 1)));
  if (start !== 'wait' && start !== 'lost' && isVmdkDescriptorText(start)) return { unsafe: 'a vmdk descriptor file names its data in other files' };
  const header = cap.need(0, 512);
  if (header === 'wait') return undefined;
  if (header === 'lost') return lost('vmdk header');
  if (!header.subarray(0, 4).equals(VMDK_MAGIC)) return { invalid: 'not a vmdk image' };
  const capacity = header.readBigUInt64LE(12);
  const virtualSize = Number(capacity) * SECTOR;
  const descriptorOffset = Number(header.readBigUInt64LE(28)) * SECTOR;
  const descriptorSize = Math.min(Number(header.readBigUInt64LE(36)) * SECTOR, MAX_DESCRIPTOR_BYTES);
  if (descriptorOffset === 0 || descriptorSize === 0) return { virtualSize, invalid: 'vmdk image has no embedded descriptor' };
  const descriptor = cap.need(descriptorOffset, descriptorSize);
  if (descriptor === 'wait') return undefined;
  if (descriptor === 'lost') return lost('vmdk descriptor');
  const end = descriptor.indexOf(0);
  const problem = descriptorProblem(descriptor.subarray(0, end < 0 ? descriptor.length : end).toString('latin1'));
  return problem ? { virtualSize, unsafe: problem } : { virtualSize };
};
