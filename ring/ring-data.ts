import { gunzipSync, gzipSync } from 'node:zlib';
import { type Device, validateDeviceTable } from './device.js';
import { RingError } from './errors.js';

/** Largest partition power accepted: 2^24 partitions × replicas × 4 bytes is already hundreds of MB. */
export const MAX_PART_POWER = 24;
/** Largest replica (or EC fragment) count accepted. */
export const MAX_REPLICAS = 64;

/** What a ring file holds (versioned JSON, gzip-compressed on disk). */
export interface RingData {
  format: 'arca-ring';
  version: 1;
  partPower: number;
  replicas: number;
  /** uint32 cluster seed of the partition hash. */
  seed: number;
  /** Index = device id; null = removed id. */
  devices: Array<Device | null>;
  /** `[replica][partition]` → device id. */
  assignments: number[][];
}

export const isUint32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** Checks the header fields shared by ring and builder data. */
export function validateShape(d: Record<string, unknown>): { partPower: number; replicas: number; seed: number } {
  const { partPower, replicas, seed } = d;
  if (typeof partPower !== 'number' || !Number.isInteger(partPower) || partPower < 0 || partPower > MAX_PART_POWER) {
    throw new RingError('partPower', `must be an integer 0-${MAX_PART_POWER}`);
  }
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new RingError('replicas', `must be an integer 1-${MAX_REPLICAS}`);
  }
  if (!isUint32(seed)) throw new RingError('seed', 'must be a uint32');
  return { partPower, replicas, seed };
}

/**
 * Checks an assignment table against the device table and copies it into one flat Int32Array
 * (`slot = replica × partitions + partition`). `allowUnassigned` admits -1 (a builder mid-way).
 */
export function flattenAssignments(
  raw: unknown,
  replicas: number,
  partPower: number,
  devices: ReadonlyArray<Device | null>,
  field = 'assignments',
): Int32Array {
  if (!Array.isArray(raw)) throw new RingError(field, 'must be an array');
  if (raw.length !== replicas) throw new RingError(field, `has ${raw.length} rows, replicas is ${replicas}`);
  const P = 2 ** partPower;
  const out = new Int32Array(replicas * P);
  for (let r = 0; r < replicas; r++) {
    const row = raw[r] as unknown;
    if (!Array.isArray(row) && !ArrayBuffer.isView(row)) throw new RingError(`${field}[${r}]`, 'must be an array');
    const cells = row as ArrayLike<unknown>;
    if (cells.length !== P) throw new RingError(`${field}[${r}]`, `has ${cells.length} partitions, partPower ${partPower} needs ${P}`);
    for (let p = 0; p < P; p++) {
      const id = cells[p];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= devices.length || devices[id] === null) {
        throw new RingError(`${field}[${r}][${p}]`, `${JSON.stringify(id)} is not a device in the ring`);
      }
      out[r * P + p] = id;
    }
  }
  return out;
}

/** Untrusted ring data, checked: clean header and devices plus the flat assignment table. */
export interface CheckedRing {
  partPower: number;
  replicas: number;
  seed: number;
  devices: Array<Device | null>;
  flat: Int32Array;
}

/** Checks untrusted ring data (e.g. a parsed file), naming the first bad field. */
export function checkRingData(raw: unknown): CheckedRing {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RingError('ring', 'must be an object');
  const d = raw as Record<string, unknown>;
  if (d.format !== 'arca-ring') throw new RingError('format', `expected "arca-ring", got ${JSON.stringify(d.format)}`);
  if (d.version !== 1) throw new RingError('version', `unsupported version ${JSON.stringify(d.version)}`);
  const { partPower, replicas, seed } = validateShape(d);
  const devices = validateDeviceTable(d.devices);
  const flat = flattenAssignments(d.assignments, replicas, partPower, devices);
  return { partPower, replicas, seed, devices, flat };
}

/** Ring data from a flat assignment table. */
export function ringDataOf(partPower: number, replicas: number, seed: number, devices: ReadonlyArray<Device | null>, flat: Int32Array): RingData {
  const P = 2 ** partPower;
  return {
    format: 'arca-ring',
    version: 1,
    partPower,
    replicas,
    seed,
    devices: devices.map((d) => (d ? { ...d } : null)),
    assignments: Array.from({ length: replicas }, (_, r) => Array.from(flat.subarray(r * P, (r + 1) * P))),
  };
}

/** Serialises ring data for a ring file: gzip(JSON). */
export function encodeRingFile(data: RingData): Buffer {
  return gzipSync(JSON.stringify(data));
}

/** Parses and checks a ring file's bytes; throws RingError naming what is corrupt or mismatched. */
export function decodeRingFile(buf: Buffer): RingData {
  let text: string;
  try {
    text = gunzipSync(buf).toString('utf8');
  } catch {
    throw new RingError('file', 'not a gzip stream (corrupt or truncated)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RingError('file', 'not valid JSON');
  }
  const c = checkRingData(parsed);
  // JSON.parse made fresh arrays, and checkRingData has vetted every cell of them: no need to copy again.
  const assignments = (parsed as { assignments: number[][] }).assignments;
  return { format: 'arca-ring', version: 1, partPower: c.partPower, replicas: c.replicas, seed: c.seed, devices: c.devices, assignments };
}
