/**
 * VDI (VirtualBox): signature 0xbeda107f at 0x40, image type at 0x4c, disk size at 0x170 (little-endian). A
 * differencing image refers to a parent and is refused. Layout: QEMU block/vdi.c.
 */
import { type FormatParser, lost } from './types.js';

export const VDI_SIGNATURE = 0xbeda107f;
const TYPE_DIFF = 4;

/** True when `head` (at least 0x44 bytes) carries the VDI signature. */
export function isVdi(head: Buffer): boolean {
  return head.length >= 0x44 && head.readUInt32LE(0x40) === VDI_SIGNATURE;
}

export const parseVdi: FormatParser = (cap) => {
  const header = cap.need(0, 0x178);
  if (header === 'wait') return undefined;
  if (header === 'lost') return lost('vdi header');
  if (!isVdi(header)) return { invalid: 'not a vdi image' };
  const virtualSize = Number(header.readBigUInt64LE(0x170));
  if (header.readUInt32LE(0x4c) === TYPE_DIFF) return { virtualSize, unsafe: 'vdi image is a differencing image (it has a parent)' };
  return { virtualSize };
};
