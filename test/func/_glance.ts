/**
 * Helpers for the image API's functional tests: a cluster serving Glance, tokens, and the real clients
 * (glance, openstack, qemu-img, nbdkit) run with a throwaway HOME, no OS_* variables and stdin closed
 * (glanceclient reads any non-tty stdin as image data).
 */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { signedImageUrl, signTokenRequest } from '../../src/images/signing.js';
import { type ClusterOptions, type TestCluster, withCluster } from '../helpers/cluster.js';
import { type RunResult, runCommand } from '../helpers/clients.js';

export interface GlanceCluster extends TestCluster {
  /** `http://127.0.0.1:PORT` of the image API. */
  glanceUrl: string;
  /** A token for the root user. */
  token: string;
}

/** Raw HTTP against the image API; the body is read whole. */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A token for an access key, through `POST /arca/v1/tokens`. */
export async function createToken(glanceUrl: string, cred: { accessKeyId: string; secretKey: string }, expiresIn = 3600): Promise<string> {
  const res = await request(`${glanceUrl}/arca/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signTokenRequest(cred, expiresIn)),
  });
  if (res.status !== 201) throw new Error(`token request answered ${res.status}: ${res.body}`);
  return (JSON.parse(res.body.toString()) as { token: string }).token;
}

/** ava macro: a cluster with the image API and a root token. */
export function withGlance(opts: ClusterOptions, fn: (t: ExecutionContext, c: GlanceCluster) => Promise<void>) {
  return withCluster({ ...opts, glance: { webDownloadPorts: [], ...opts.glance } }, async (t, cluster) => {
    const glanceUrl = `http://127.0.0.1:${cluster.proxy.glance!.port}`;
    const token = await createToken(glanceUrl, { accessKeyId: cluster.accessKey, secretKey: cluster.secretKey });
    await fn(t, Object.assign(cluster, { glanceUrl, token }));
  });
}

/** JSON request with the root token. */
export async function api(c: GlanceCluster, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${c.glanceUrl}${path}`, {
    method,
    headers: { 'x-auth-token': c.token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = res.body.toString();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { ...res, text, json: json as Record<string, unknown> };
}

/** A signed URL of an image's data for the root user. */
export function signedUrl(c: GlanceCluster, id: string, ttlSec = 600): string {
  return signedImageUrl(c.glanceUrl, id, { accessKeyId: c.accessKey, secretKey: c.secretKey }, Math.floor(Date.now() / 1000) + ttlSec);
}

const clientEnv = () => ({ HOME: mkdtempSync(join(tmpdir(), 'arca-glance-home-')) });

/** Runs `cmd args…` with stdin closed (`<&-`), a temp HOME and no OS_* variables. */
export function runClosed(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<RunResult> {
  return runCommand('/bin/sh', ['-c', 'exec "$@" <&-', 'sh', cmd, ...args], { ...clientEnv(), ...env }, { timeoutMs });
}

/** glanceclient against the cluster. */
export function glance(c: GlanceCluster, args: string[]): Promise<RunResult> {
  return runClosed('/usr/bin/glance', ['--os-image-url', c.glanceUrl, '--os-auth-token', c.token, ...args]);
}

/** openstackclient against the cluster (admin_token auth, endpoint ending in /v2). */
export function openstack(c: GlanceCluster, args: string[]): Promise<RunResult> {
  return runClosed('/usr/bin/openstack', ['--os-auth-type', 'admin_token', '--os-endpoint', `${c.glanceUrl}/v2`, '--os-token', c.token, ...args]);
}

/** Polls an image until `done` says so (imports run in the background). */
export async function waitForImage(c: GlanceCluster, id: string, done: (image: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(c, 'GET', `/v2/images/${id}`);
    if (r.status === 200 && done(r.json)) return r.json;
    if (Date.now() > until) throw new Error(`image ${id} did not get there: ${r.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
