/**
 * Helpers of the EC probe tests: where an object's fragment archives are on disk, reading one archive
 * through the internal protocol, and writing a phase-1-only (never committed) archive straight to a node.
 */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RingSet } from '../../src/common/ring-files.js';
import { type ObjectMeta, objectPath } from '../../src/common/wire.js';
import { xxh64Hex } from '../../src/common/xxh64.js';
import { hashDir } from '../helpers/placement.js';
import type { TestCluster } from '../helpers/cluster.js';
import { putObject, type Reply, request } from '../unit/storage-nodes/node-fixture.js';

export interface ArchivePlacement {
  partition: number;
  /** Device of fragment index i. */
  primaries: string[];
  handoffs: string[];
}

export function archivePlacement(cluster: TestCluster, name: string, policyIndex: number): ArchivePlacement {
  const ring = new RingSet(join(cluster.dir, 'rings'), [policyIndex]).object(policyIndex);
  const partition = ring.partition(name);
  return { partition, primaries: ring.primaries(partition).map((d) => d.device), handoffs: [...ring.handoffs(partition)].map((d) => d.device) };
}

/** Device → files of the object's hash dir there (devices holding nothing are left out). */
export function archiveFiles(cluster: TestCluster, name: string, policyIndex: number): Map<string, string[]> {
  const { partition } = archivePlacement(cluster, name, policyIndex);
  const out = new Map<string, string[]>();
  for (const c of cluster.nodeConfigs) {
    for (const device of c.devices) {
      const dir = hashDir(cluster, device, policyIndex, partition, name);
      if (existsSync(dir)) {
        const files = readdirSync(dir).sort();
        if (files.length > 0) out.set(device, files);
      }
    }
  }
  return out;
}

/** The node config index and port serving a device. */
export function nodeOfDevice(cluster: TestCluster, device: string): { index: number; port: number } {
  const index = cluster.nodeConfigs.findIndex((c) => c.devices.includes(device));
  if (index < 0) throw new Error(`no node serves ${device}`);
  return { index, port: cluster.nodes[index]?.port ?? cluster.nodeConfigs[index].port };
}

function splitName(name: string): [string, string, string] {
  const [, account, bucket, ...key] = name.split('/');
  return [account, bucket, key.join('/')];
}

/** GET of fragment archive `frag` of an object from one device (internal protocol). */
export function getArchive(cluster: TestCluster, device: string, name: string, policyIndex: number, frag: number): Promise<Reply> {
  const { partition } = archivePlacement(cluster, name, policyIndex);
  return request(nodeOfDevice(cluster, device).port, 'GET', objectPath(device, partition, ...splitName(name)), {
    headers: { 'x-backend-storage-policy-index': String(policyIndex), 'x-backend-fragment-index': String(frag) },
  });
}

/** Phase 1 only: stores archive `frag` of version `ts` on a device as pending (its commit never comes). */
export function putPendingArchive(cluster: TestCluster, device: string, name: string, policyIndex: number, frag: number, ts: string, body: Buffer, ec: Record<string, unknown>): Promise<Reply> {
  const { partition } = archivePlacement(cluster, name, policyIndex);
  return putObject(nodeOfDevice(cluster, device).port, objectPath(device, partition, ...splitName(name)), {
    ts,
    body,
    policyIndex,
    meta: { contentType: 'text/plain', ec: { ...ec, frag } } as Partial<ObjectMeta>,
    footer: { size: body.length, xxh64: xxh64Hex(body), etag: 'never', ec: { ...ec, frag } },
    headers: { 'x-backend-fragment-index': String(frag) },
  });
}
