/**
 * What the storage node's workers need of the rings, as structural types (the composition root passes a
 * `RingSet` from src/common/ring-files.ts; tests may pass rings directly), and how a node recognises its own
 * devices in a ring.
 */
import type { Device } from '../ring/index.js';

/** One ring as the workers use it. */
export interface NodeRing {
  readonly partitionCount: number;
  primaries(part: number): Device[];
  handoffs(part: number): Iterable<Device>;
}

/** The rings of a cluster; accessing a ring whose file is missing or bad throws. */
export interface NodeRings {
  readonly account: NodeRing;
  readonly container: NodeRing;
  object(policyIndex: number): NodeRing;
  /** Reloads ring files that changed on disk; true when any did. */
  reloadIfChanged(): boolean;
}

const wildcardIps = new Set(['0.0.0.0', '::', '']);

/**
 * This node's identity in the rings: a ring device is local when its port is the node's, its device name is
 * one the node serves, and its ip is the node's bind address (any ip when the node binds a wildcard).
 */
export class LocalDevices {
  readonly #devices: ReadonlySet<string>;

  constructor(
    private readonly ip: string,
    private readonly port: number,
    devices: readonly string[],
  ) {
    this.#devices = new Set(devices);
  }

  isLocal(dev: Pick<Device, 'ip' | 'port' | 'device'>): boolean {
    return dev.port === this.port && this.#devices.has(dev.device) && (wildcardIps.has(this.ip) || dev.ip === this.ip);
  }

  /** True when `dev` is the local device `device`. */
  is(dev: Pick<Device, 'ip' | 'port' | 'device'>, device: string): boolean {
    return dev.device === device && this.isLocal(dev);
  }
}

/** Next handoff of a partition that is neither in `used` (device ids) nor local; undefined when none is left. */
export function nextHandoff(ring: NodeRing, part: number, used: Set<number>, local: LocalDevices): Device | undefined {
  for (const dev of ring.handoffs(part)) {
    if (used.has(dev.id) || local.isLocal(dev)) continue;
    used.add(dev.id);
    return dev;
  }
  return undefined;
}
