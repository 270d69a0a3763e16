/** Where objects live on disk: for probe tests that assert placement, not only responses. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RingSet } from '../../src/common/ring-files.js';
import type { TestCluster } from './cluster.js';

/** The hash directory of an object on one device (Swift layout). */
export function hashDir(cluster: TestCluster, device: string, policyIndex: number, part: number, name: string): string {
  const hash = createHash('md5').update(name).digest('hex');
  const objects = policyIndex === 0 ? 'objects' : `objects-${policyIndex}`;
  return join(cluster.nodeConfigs[0].devicesDir, device, objects, String(part), hash.slice(-3), hash);
}

/** The devices whose hash dir for `name` holds a `.data` file. */
export function devicesHolding(cluster: TestCluster, name: string, policyIndex = 0): string[] {
  const rings = new RingSet(join(cluster.dir, 'rings'), [policyIndex]);
  const ring = rings.object(policyIndex);
  const part = ring.partition(name);
  const out: string[] = [];
  for (const dev of ring.devices) {
    const dir = hashDir(cluster, dev.device, policyIndex, part, name);
    if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.data'))) out.push(dev.device);
  }
  return out.sort();
}

/** The device names the ring makes primaries (and the first handoffs) for `name`. */
export function placementOf(cluster: TestCluster, name: string, policyIndex = 0): { primaries: string[]; handoffs: string[] } {
  const ring = new RingSet(join(cluster.dir, 'rings'), [policyIndex]).object(policyIndex);
  const part = ring.partition(name);
  return { primaries: ring.primaries(part).map((d) => d.device), handoffs: [...ring.handoffs(part)].map((d) => d.device) };
}
