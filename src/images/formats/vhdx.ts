/**
 * VHDX: the file identifier (`vhdxfile`), a region table at 192 KiB pointing to the metadata region, whose
 * table holds the VirtualDiskSize item (little-endian). A parent locator item means a differencing disk with a
 * parent file: refused. GUIDs are stored in Microsoft's mixed-endian byte order.
 * Layout: Microsoft [MS-VHDX] §2.2–2.6.
 */
import { type FormatParser, lost } from './types.js';

export const VHDX_MAGIC = Buffer.from('vhdxfile', 'latin1');
const REGION_TABLE_OFFSET = 192 * 1024;
const REGION_TABLE_BYTES = 64 * 1024;
const METADATA_TABLE_BYTES = 64 * 1024;

/** A GUID string as the 16 bytes VHDX stores (first three fields little-endian). */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

const METADATA_REGION = guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const VIRTUAL_DISK_SIZE = guidBytes('2FA54224-CD1B-4876-B211-5DBED83BF4B8');
const PARENT_LOCATOR = guidBytes('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C');

export const parseVhdx: FormatParser = (cap) => {
  const ident = cap.need(0, 8);
  if (ident === 'wait') return undefined;
  if (ident === 'lost' || !ident.equals(VHDX_MAGIC)) return { invalid: 'not a vhdx image' };
  const regions = cap.need(REGION_TABLE_OFFSET, REGION_TABLE_BYTES);
  if (regions === 'wait') return undefined;
  if (regions === 'lost') return lost('vhdx region table');
  if (regions.subarray(0, 4).toString('latin1') !== 'regi') return { invalid: 'vhdx region table signature is wrong' };
  const count = Math.min(regions.readUInt32LE(8), 2047);
  let metadataOffset: number | undefined;
  for (let i = 0; i < count; i++) {
    const e = 16 + i * 32;
    if (regions.subarray(e, e + 16).equals(METADATA_REGION)) metadataOffset = Number(regions.readBigUInt64LE(e + 16));
  }
  if (metadataOffset === undefined) return { invalid: 'vhdx has no metadata region' };
  const table = cap.need(metadataOffset, METADATA_TABLE_BYTES);
  if (table === 'wait') return undefined;
  if (table === 'lost') return lost('vhdx metadata table');
  if (table.subarray(0, 8).toString('latin1') !== 'metadata') return { invalid: 'vhdx metadata table signature is wrong' };
  const entries = Math.min(table.readUInt16LE(10), 2047);
  let sizeItem: number | undefined;
  for (let i = 0; i < entries; i++) {
    const e = 32 + i * 32;
    const id = table.subarray(e, e + 16);
    if (id.equals(PARENT_LOCATOR)) return { unsafe: 'vhdx image is a differencing disk (it has a parent locator)' };
    if (id.equals(VIRTUAL_DISK_SIZE)) sizeItem = table.readUInt32LE(e + 16);
  }
  if (sizeItem === undefined) return { invalid: 'vhdx has no VirtualDiskSize item' };
  const value = cap.need(metadataOffset + sizeItem, 8);
  if (value === 'wait') return undefined;
  if (value === 'lost') return lost('vhdx VirtualDiskSize');
  return { virtualSize: Number(value.readBigUInt64LE(0)) };
};
