/**
 * Hooks in tests: the built example and test hooks (dist/hooks, from hooks/ by scripts/build-hooks.mjs),
 * deployed and bound through the admin API as `arca hook` does, and an SDK client that names a GET hook.
 */
import { readFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { adminRequest } from '../../src/cli/admin-client.js';
import type { TestCluster } from './cluster.js';

const hooksDir = new URL('../../hooks/', import.meta.url);

/** The module and manifest of a built hook (`test/NAME` for the broken ones). */
export function builtHook(name: string): { module: Buffer; manifest: unknown } {
  return { module: readFileSync(new URL(`${name}.wasm`, hooksDir)), manifest: JSON.parse(readFileSync(new URL(`${name}.json`, hooksDir), 'utf8')) };
}

export function admin(cluster: TestCluster, method: string, path: string, body?: unknown): Promise<unknown> {
  return adminRequest({ endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey, region: 'us-east-1' }, method, path, body);
}

/** Deploys a built hook under `as` (default: its file name). */
export async function deployHook(cluster: TestCluster, file: string, as = file.split('/').pop()!): Promise<void> {
  const { module, manifest } = builtHook(file);
  await admin(cluster, 'PUT', `hooks/${as}`, { manifest, module: module.toString('base64') });
}

export async function bindHook(
  cluster: TestCluster,
  bucket: string,
  binding: { hook: string; on: 'put' | 'get' | 'event'; prefix?: string; suffix?: string; targetBucket?: string; params?: Record<string, string> },
): Promise<string> {
  const { binding: b } = (await admin(cluster, 'POST', `buckets/${bucket}/hooks`, binding)) as { binding: { id: string } };
  return b.id;
}

/** Adds request headers (signed with the request) to every call of `client`. */
export function withHeaders(client: S3Client, headers: Record<string, string>): S3Client {
  client.middlewareStack.add(
    (next) => (args) => {
      const req = (args as { request: { headers: Record<string, string> } }).request;
      Object.assign(req.headers, headers);
      return next(args);
    },
    { step: 'build', name: `arcaHeaders${Math.random()}` },
  );
  return client;
}
