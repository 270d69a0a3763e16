/**
 * Test fixture for the storage node: a node on a temp devices dir and port 0, plus a tiny typed client for
 * the internal protocol (tests only; the proxy has its own client).
 */
import http from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { NodeConfig } from '../../../src/common/config.js';
import { defaultWorkerConfig } from '../../../src/common/config.js';
import { type ContainerUpdateTarget, encodeHeaderJson, type ObjectMeta } from '../../../src/common/wire.js';
import { xxh64Hex } from '../../../src/common/xxh64.js';
import { type StorageNode, startStorageNode } from '../../../storage-nodes/server.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface TestNode {
  dir: string;
  config: NodeConfig;
  node: StorageNode;
  port: number;
  logs: string[];
  request(method: string, path: string, opts?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply>;
  json(method: string, path: string, value: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** A chunked object PUT ending with the footer trailer (pass `footer: null` to leave it out). */
  put(path: string, opts: PutOptions): Promise<Reply>;
  target(partition: number, device?: string): ContainerUpdateTarget;
}

export interface PutOptions {
  ts: string;
  body?: Buffer | Buffer[];
  meta?: Partial<ObjectMeta>;
  footer?: Record<string, unknown> | null;
  updates?: ContainerUpdateTarget[];
  policyIndex?: number;
  /** More request headers (fragment index, replication, …). */
  headers?: Record<string, string>;
}

const agent = new http.Agent({ keepAlive: true });

export function request(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function putObject(port: number, path: string, opts: PutOptions): Promise<Reply> {
  const chunks = opts.body === undefined ? [] : Array.isArray(opts.body) ? opts.body : [opts.body];
  const whole = Buffer.concat(chunks);
  const headers: Record<string, string> = {
    'x-backend-timestamp': opts.ts,
    'x-backend-meta': encodeHeaderJson({ contentType: 'application/octet-stream', ...opts.meta }),
    'transfer-encoding': 'chunked',
    trailer: 'x-backend-footer',
  };
  if (opts.updates) headers['x-backend-container-updates'] = JSON.stringify(opts.updates);
  if (opts.policyIndex !== undefined) headers['x-backend-storage-policy-index'] = String(opts.policyIndex);
  Object.assign(headers, opts.headers);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path, headers, agent }, (res) => {
      const out: Buffer[] = [];
      res.on('data', (c: Buffer) => out.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(out) }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    if (opts.footer !== null) {
      const footer = opts.footer ?? { size: whole.length, xxh64: xxh64Hex(whole), etag: 'etag-of-test' };
      req.addTrailers({ 'x-backend-footer': encodeHeaderJson(footer) });
    }
    req.end();
  });
}

/** Starts a node with devices `d1`, `d2` on a temp dir; `port` 0 unless given. */
export async function startTestNode(opts: { port?: number; dir?: string; updaterIntervalSec?: number } = {}): Promise<TestNode> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'arca-node-')));
  await mkdir(join(dir, 'devices', 'd1'), { recursive: true });
  await mkdir(join(dir, 'devices', 'd2'), { recursive: true });
  const config: NodeConfig = {
    bindIp: '127.0.0.1',
    port: opts.port ?? 0,
    devicesDir: join(dir, 'devices'),
    devices: ['d1', 'd2'],
    ringDir: join(dir, 'rings'),
    policies: [
      { index: 0, name: 'replica-3' },
      { index: 1, name: 'replica-2' },
      { index: 2, name: 'ec-4+2' },
    ],
    nodeTimeoutMs: 2000,
    listingUpdateTimeoutMs: 1000,
    reclaimAgeSec: 3600,
    fsync: false,
    workers: { ...defaultWorkerConfig, updaterIntervalSec: opts.updaterIntervalSec ?? 0 },
  };
  const logs: string[] = [];
  const node = await startStorageNode(config, { log: (l) => logs.push(l) });
  const port = node.port;
  return {
    dir,
    config,
    node,
    port,
    logs,
    request: (method, path, o) => request(port, method, path, o),
    json: (method, path, value, headers) => request(port, method, path, { body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } }),
    put: (path, o) => putObject(port, path, o),
    target: (partition, device = 'd1') => ({ ip: '127.0.0.1', port, device, partition }),
  };
}

/** ava helper: a fresh node for the test, always torn down. */
export function withNode(fn: (t: ExecutionContext, n: TestNode) => Promise<void>) {
  return async (t: ExecutionContext) => {
    const n = await startTestNode();
    try {
      await fn(t, n);
    } finally {
      await n.node.close();
      await rm(n.dir, { recursive: true, force: true });
    }
  };
}
