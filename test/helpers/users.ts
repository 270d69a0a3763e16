/**
 * Users for access-control tests: created through the admin API as root (the same client `arca user`
 * uses), each with an AWS SDK client of its own; and plain unsigned HTTP requests, as anonymous callers and
 * browsers send them.
 */
import http from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { type AdminTarget, adminRequest } from '../../src/cli/admin-client.js';
import type { TestCluster } from './cluster.js';
import type { RawResponse } from './raw.js';

export interface TestUser {
  name: string;
  account: string;
  accessKeyId: string;
  secretAccessKey: string;
  s3: S3Client;
}

/** The admin API of a test cluster, as root. */
export function adminTarget(cluster: TestCluster): AdminTarget {
  return { endpoint: cluster.endpoint, accessKey: cluster.accessKey, secretKey: cluster.secretKey, region: 'us-east-1' };
}

/** Creates a user (in its own account unless `account` says otherwise) and an SDK client signing as it. */
export async function createUser(cluster: TestCluster, name: string, account?: string): Promise<TestUser> {
  const reply = (await adminRequest(adminTarget(cluster), 'POST', 'users', { name, account })) as {
    user: { name: string; account: string };
    key: { accessKeyId: string; secretAccessKey: string };
  };
  const { accessKeyId, secretAccessKey } = reply.key;
  return { name, account: reply.user.account, accessKeyId, secretAccessKey, s3: cluster.s3({ credentials: { accessKeyId, secretAccessKey } }) };
}

/** An unsigned request (anonymous caller, browser preflight), whole body in and out. */
export function unsigned(cluster: TestCluster, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${cluster.endpoint}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
