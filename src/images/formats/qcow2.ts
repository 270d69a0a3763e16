/**
 * qcow2: the header (big-endian) gives the virtual size. An image with a backing file or an external data
 * file is refused: QEMU would open a file named by the image, on the host (the CVE-2022-47951 class).
 * Layout: https://gitlab.com/qemu-project/qemu/-/blob/master/docs/interop/qcow2.txt
 */
import { type FormatParser, lost } from './types.js';

export const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** Incompatible feature bits QEMU knows: dirty, corrupt, external data file, compression type, extended L2. */
const KNOWN_INCOMPATIBLE = 0b11111n;
const INCOMPAT_DATA_FILE = 1n << 2n;
/** Header extension naming the external data file. */
const EXT_DATA_FILE = 0x44415441;
const EXT_END = 0;

export const parseQcow2: FormatParser = (cap) => {
  const h = cap.need(0, 104);
  if (h === 'wait') return undefined;
  if (h === 'lost' && cap.seen < 72) return lost('qcow2 header');
  const header = h === 'lost' ? (cap.need(0, 72) as Buffer) : h;
  if (!header.subarray(0, 4).equals(QCOW2_MAGIC)) return { invalid: 'not a qcow2 image' };
  const version = header.readUInt32BE(4);
  if (version !== 2 && version !== 3) return { invalid: `qcow2 version ${version} is not supported` };
  const clusterBits = header.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21) return { invalid: `qcow2 cluster_bits ${clusterBits} is out of range` };
  const virtualSize = Number(header.readBigUInt64BE(24));
  if (header.readBigUInt64BE(8) !== 0n) return { virtualSize, unsafe: 'qcow2 image has a backing file' };
  if (version === 2) return { virtualSize };
  if (header.length < 104) return lost('qcow2 v3 header');
  const incompatible = header.readBigUInt64BE(72);
  if (incompatible & INCOMPAT_DATA_FILE) return { virtualSize, unsafe: 'qcow2 image has an external data file' };
  if (incompatible & ~KNOWN_INCOMPATIBLE) return { virtualSize, invalid: 'qcow2 image has unknown incompatible features' };
  // Header extensions follow the header; a data-file extension is refused even without the feature bit.
  const headerLength = header.readUInt32BE(100);
  let offset = headerLength;
  for (let i = 0; i < 64; i++) {
    const ext = cap.need(offset, 8);
    if (ext === 'wait') return undefined;
    if (ext === 'lost') return lost('qcow2 header extension');
    const type = ext.readUInt32BE(0);
    const length = ext.readUInt32BE(4);
    if (type === EXT_END) return { virtualSize };
    if (type === EXT_DATA_FILE) return { virtualSize, unsafe: 'qcow2 image names an external data file' };
    offset += 8 + Math.ceil(length / 8) * 8;
  }
  return { virtualSize, invalid: 'qcow2 header extensions do not end' };
};
