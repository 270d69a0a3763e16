/**
 * VHD (QEMU's `vpc`): a dynamic disk starts with a copy of its 512-byte footer (`conectix`, big-endian); the
 * virtual size is its current-size field. A differencing disk names a parent file and is refused. (A fixed
 * VHD has its footer only at the end and reads as raw, as in Glance's inspector.)
 * Layout: Microsoft "Virtual Hard Disk Image Format Specification" 1.0.
 */
import { type FormatParser, lost } from './types.js';

export const VHD_MAGIC = Buffer.from('conectix', 'latin1');
const DISK_TYPE_DIFFERENCING = 4;

export const parseVhd: FormatParser = (cap) => {
  const footer = cap.need(0, 512);
  if (footer === 'wait') return undefined;
  if (footer === 'lost') return lost('vhd footer');
  if (!footer.subarray(0, 8).equals(VHD_MAGIC)) return { invalid: 'not a vhd image' };
  const virtualSize = Number(footer.readBigUInt64BE(48));
  if (footer.readUInt32BE(60) === DISK_TYPE_DIFFERENCING) return { virtualSize, unsafe: 'vhd image is a differencing disk (it has a parent)' };
  return { virtualSize };
};
