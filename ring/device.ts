import { RingError } from './errors.js';

/**
 * A device: one disk (a directory on a storage node) that holds partitions. Swift's failure domains nest as
 * region ⊃ zone ⊃ host (`ip`) ⊃ device; the builder spreads each partition's replicas over them in that order.
 */
export interface Device {
  /** Index in the ring's device table; never reused while the ring lives. */
  id: number;
  region: number;
  zone: number;
  /** Host address; devices with the same region, zone and ip are on the same host. */
  ip: string;
  port: number;
  /** Device name on the host, e.g. `sdb1`; the directory under the node's devices root. */
  device: string;
  /** Relative capacity; 0 drains the device. */
  weight: number;
  meta?: string;
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks an untrusted device record and returns a clean copy. `field` prefixes error fields,
 * e.g. `devices[3]`. `id` is checked only when `expectedId` is given.
 */
export function validateDevice(raw: unknown, field: string, expectedId?: number): Device {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RingError(field, 'must be an object');
  const d = raw as Record<string, unknown>;
  if (expectedId !== undefined && d.id !== expectedId) {
    throw new RingError(`${field}.id`, `must equal its index ${expectedId}, got ${JSON.stringify(d.id)}`);
  }
  if (!isUint(d.id)) throw new RingError(`${field}.id`, 'must be a non-negative integer');
  if (!isUint(d.region)) throw new RingError(`${field}.region`, 'must be a non-negative integer');
  if (!isUint(d.zone)) throw new RingError(`${field}.zone`, 'must be a non-negative integer');
  if (typeof d.ip !== 'string' || d.ip === '' || /\s/.test(d.ip)) throw new RingError(`${field}.ip`, 'must be a non-empty host address');
  if (!isUint(d.port) || d.port < 1 || d.port > 65535) throw new RingError(`${field}.port`, 'must be an integer 1-65535');
  if (typeof d.device !== 'string' || d.device === '' || d.device.includes('/') || d.device === '.' || d.device === '..') {
    throw new RingError(`${field}.device`, 'must be a non-empty name without "/"');
  }
  if (typeof d.weight !== 'number' || !Number.isFinite(d.weight) || d.weight < 0) {
    throw new RingError(`${field}.weight`, 'must be a finite number >= 0');
  }
  if (d.meta !== undefined && typeof d.meta !== 'string') throw new RingError(`${field}.meta`, 'must be a string');
  const dev: Device = { id: d.id, region: d.region, zone: d.zone, ip: d.ip, port: d.port, device: d.device, weight: d.weight };
  if (d.meta !== undefined) dev.meta = d.meta as string;
  return dev;
}

/** Checks a device table (index = id, null = removed id) and returns a clean copy. */
export function validateDeviceTable(raw: unknown, field = 'devices'): Array<Device | null> {
  if (!Array.isArray(raw)) throw new RingError(field, 'must be an array');
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    if (entry === null) return null;
    const dev = validateDevice(entry, `${field}[${i}]`, i);
    const where = `${dev.ip}:${dev.port}/${dev.device}`;
    if (seen.has(where)) throw new RingError(`${field}[${i}]`, `duplicate device ${where}`);
    seen.add(where);
    return dev;
  });
}
