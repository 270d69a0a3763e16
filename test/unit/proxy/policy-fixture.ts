/**
 * Test fixture for storage policies: a real in-process cluster (test/helpers/cluster.ts) and policy objects
 * built over its rings with their own node client, so tests call put/get/head/post/delete directly.
 */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { RingSet } from '../../../src/common/ring-files.js';
import { TimestampSource } from '../../../src/common/timestamp.js';
import type { PolicyConfig } from '../../../src/common/config.js';
import { ListingClient } from '../../../src/proxy/listings.js';
import { NodeClient } from '../../../src/proxy/node-client.js';
import type { ObjectTarget, PolicyPutInput, StoragePolicy } from '../../../src/proxy/policies/policy.js';
import { PolicyRegistry } from '../../../src/proxy/policies/registry.js';
import { type ClusterOptions, startCluster, type TestCluster } from '../../helpers/cluster.js';

export interface PolicyFixture {
  cluster: TestCluster;
  policy(name: string): StoragePolicy;
  target(key: string): ObjectTarget;
  ts(): string;
  client: NodeClient;
}

/** A PUT input for a body given whole, in chunks of `chunk` bytes. */
export function bodyInput(ts: string, body: Buffer, opts: { chunk?: number; meta?: Record<string, unknown> } = {}): PolicyPutInput {
  const chunk = opts.chunk ?? 65536;
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += chunk) chunks.push(body.subarray(i, i + chunk));
  return {
    ts,
    body: Readable.from(chunks),
    meta: { contentType: 'application/octet-stream', ...opts.meta },
    finish: async ({ size }) => ({ etag: `etag-${size}` }),
  };
}

export async function readAll(body: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

/** ava helper: a cluster plus policies for `policies`, torn down afterwards. */
export function withPolicies(
  opts: ClusterOptions & { policies: PolicyConfig[]; ecSegmentSize?: number; nodeTimeoutMs?: number },
  fn: (t: ExecutionContext, f: PolicyFixture) => Promise<void>,
) {
  return async (t: ExecutionContext) => {
    const cluster = await startCluster(opts);
    const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: opts.nodeTimeoutMs ?? 5000 });
    try {
      const rings = new RingSet(join(cluster.dir, 'rings'), opts.policies.map((p) => p.index));
      const registry = new PolicyRegistry(opts.policies, rings, client, { ecSegmentSize: opts.ecSegmentSize });
      const timestamps = new TimestampSource();
      const listings = new ListingClient(rings, client);
      await listings.write('AUTH_test', 'bkt', { method: 'PUT', body: { ts: timestamps.next() } });
      const containerUpdates = listings.updateTargets('AUTH_test', 'bkt');
      const f: PolicyFixture = {
        cluster,
        client,
        policy: (name) => registry.get(name)!,
        target: (key) => ({ account: 'AUTH_test', bucket: 'bkt', key, containerUpdates }),
        ts: () => timestamps.next(),
      };
      await fn(t, f);
    } finally {
      client.close();
      await cluster.close();
    }
  };
}
