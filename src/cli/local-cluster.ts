/**
 * The layout of a local cluster's data directory, shared by `arca cluster` and the test harness:
 * `cluster.json` (what was asked at first start), `credentials.json`, `rings/`, `devices/dN/`, and one config
 * file per process under `etc/`. Creating it is idempotent: an existing directory is reused as it is.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArcaError } from '../common/errors.js';
import { type PolicyConfig, parsePolicyName, ringFileName } from '../common/config.js';
import { buildClusterRings } from './ring.js';

export interface LocalClusterSpec {
  /** Proxy (S3) port; node i listens on port + 1 + i unless `nodePorts` says otherwise. */
  port: number;
  nodes: number;
  policies: PolicyConfig[];
  defaultPolicy: string;
  glancePort?: number;
  partPower: number;
  seed: number;
  nodePorts?: number[];
}

export interface LocalClusterLayout {
  dataDir: string;
  spec: LocalClusterSpec;
  accessKey: string;
  secretKey: string;
  proxyConfigFile: string;
  nodeConfigFiles: string[];
  ringDir: string;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new ArcaError('InvalidConfig', `${file}: cannot read: ${(err as Error).message}`);
  }
}

/**
 * Worker intervals of a local cluster's nodes (unless the caller gives its own): repair runs often enough
 * that a device wiped while the cluster runs is noticed within 5 s and refilled by the next passes of its
 * peers and its own reconstructor, well within two minutes (test/probe/wiped-device.test.ts).
 */
export const localClusterWorkers = {
  replicatorIntervalSec: 15,
  listingReplicatorIntervalSec: 15,
  reconstructorIntervalSec: 15,
  updaterIntervalSec: 5,
  deviceCheckIntervalSec: 5,
};

/** Generates an access key pair in AWS's shapes (20 upper-case characters, 40 base64 characters). */
export function generateCredentials(): { accessKey: string; secretKey: string } {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let accessKey = 'AK';
  for (let i = 0; i < 18; i++) accessKey += alphabet[randomInt(alphabet.length)];
  return { accessKey, secretKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x') };
}

/**
 * The devices of each node: `d<n>` — and, when an EC policy needs more devices than there are nodes for
 * its k+m fragment archives to sit on distinct devices, ceil((k+m)/nodes) per node (`d<n>`, `d<n>-2`, …),
 * all in the node's zone. Replicated-only clusters keep one device per node.
 */
export function nodeDevices(spec: Pick<LocalClusterSpec, 'nodes' | 'policies'>): string[][] {
  let perNode = 1;
  for (const p of spec.policies) {
    const parsed = parsePolicyName(p.name);
    if (parsed?.kind === 'ec') perNode = Math.max(perNode, Math.ceil((parsed.k + parsed.m) / spec.nodes));
  }
  return Array.from({ length: spec.nodes }, (_, i) => Array.from({ length: perNode }, (_, j) => (j === 0 ? `d${i + 1}` : `d${i + 1}-${j + 1}`)));
}

/**
 * Prepares (first start) or reopens a local cluster's data directory. `wanted` is what the command line
 * asked for; on a reopened directory the stored spec wins and a conflicting request is an error.
 */
export function prepareLocalCluster(
  dataDir: string,
  wanted: LocalClusterSpec,
  opts: { accessKey?: string; secretKey?: string; fsync?: boolean; workers?: Record<string, number>; events?: Record<string, unknown>; readAffinity?: boolean; reconRun?: boolean } = {},
): LocalClusterLayout {
  mkdirSync(dataDir, { recursive: true });
  const specFile = join(dataDir, 'cluster.json');
  let spec: LocalClusterSpec;
  if (existsSync(specFile)) {
    spec = readJson<LocalClusterSpec>(specFile);
    if (spec.nodes !== wanted.nodes) {
      throw new ArcaError('InvalidConfig', `${specFile}: this data directory holds a ${spec.nodes}-node cluster, not ${wanted.nodes} (use another --data)`);
    }
  } else {
    spec = wanted;
    for (const p of spec.policies) {
      if (!parsePolicyName(p.name)) throw new ArcaError('InvalidConfig', `unknown storage policy "${p.name}"`);
    }
  }
  const ringDir = join(dataDir, 'rings');
  const nodePorts = spec.nodePorts ?? Array.from({ length: spec.nodes }, (_, i) => spec.port + 1 + i);
  const devices = nodeDevices(spec);
  if (!existsSync(join(ringDir, ringFileName('account')))) {
    mkdirSync(ringDir, { recursive: true });
    buildClusterRings({
      ringDir,
      nodes: nodePorts.flatMap((port, i) => devices[i].map((device) => ({ ip: '127.0.0.1', port, device, zone: i + 1 }))),
      policies: spec.policies.map((p) => {
        const parsed = parsePolicyName(p.name)!;
        return { index: p.index, replicas: parsed.kind === 'replica' ? parsed.replicas : parsed.k + parsed.m };
      }),
      partPower: spec.partPower,
      seed: spec.seed,
    });
    writeJson(specFile, { ...spec, nodePorts });
  }

  const credFile = join(dataDir, 'credentials.json');
  let creds: { accessKey: string; secretKey: string };
  if (opts.accessKey && opts.secretKey) creds = { accessKey: opts.accessKey, secretKey: opts.secretKey };
  else if (existsSync(credFile)) creds = readJson(credFile);
  else {
    creds = generateCredentials();
    writeJson(credFile, creds);
  }

  const etc = join(dataDir, 'etc');
  mkdirSync(etc, { recursive: true });
  const devicesDir = join(dataDir, 'devices');
  const nodeConfigFiles = nodePorts.map((port, i) => {
    for (const device of devices[i]) mkdirSync(join(devicesDir, device), { recursive: true });
    const file = join(etc, `node${i + 1}.json`);
    writeJson(file, {
      bindIp: '127.0.0.1',
      port,
      devicesDir,
      devices: devices[i],
      ringDir,
      policies: spec.policies,
      ...(opts.fsync === false ? { fsync: false } : {}),
      workers: opts.workers ?? localClusterWorkers,
      ...(opts.reconRun ? { reconRun: true } : {}),
    });
    return file;
  });
  const proxyConfigFile = join(etc, 'proxy.json');
  writeJson(proxyConfigFile, {
    bindIp: '127.0.0.1',
    // The proxy holds no data: its ports may change from one start to the next.
    port: wanted.port,
    ...(wanted.glancePort !== undefined ? { glancePort: wanted.glancePort } : {}),
    ringDir,
    policies: spec.policies,
    defaultPolicy: spec.defaultPolicy,
    rootAccessKey: creds.accessKey,
    rootSecretKey: creds.secretKey,
    // The nodes share this host's cores: reads asked of node1 first, then node2, … (docs/proxy.md, "Read affinity").
    ...(opts.readAffinity ? { readAffinity: nodePorts.map((p) => `127.0.0.1:${p}`) } : {}),
    ...(opts.events ? { events: opts.events } : {}),
  });
  return { dataDir, spec: { ...spec, port: wanted.port, glancePort: wanted.glancePort, nodePorts }, ...creds, proxyConfigFile, nodeConfigFiles, ringDir };
}
