/**
 * The client side of the admin API for `arca user` and `arca key`: where the cluster is, whose credentials
 * to sign with, and one signed JSON request. Endpoint and root credentials come from `ARCA_ENDPOINT`,
 * `ARCA_ACCESS_KEY`, `ARCA_SECRET_KEY` (and `ARCA_REGION`), and default to the local cluster's in the data
 * directory (`--data`, default ./.arca-data): `etc/proxy.json` or `cluster.json` for the port,
 * `credentials.json` for the keys.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import aws4 from 'aws4';
import { ArcaError } from '../common/errors.js';

export interface AdminTarget {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

function readJsonFile(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ArcaError('InvalidConfig', `${file}: cannot read: ${(err as Error).message}`);
  }
}

/** Resolves the cluster and credentials from the environment, else from the local cluster's data directory. */
export function adminTarget(env: Record<string, string | undefined>, dataDir = '.arca-data'): AdminTarget {
  let endpoint = env.ARCA_ENDPOINT;
  let accessKey = env.ARCA_ACCESS_KEY;
  let secretKey = env.ARCA_SECRET_KEY;
  if (!endpoint) {
    const proxy = readJsonFile(join(dataDir, 'etc', 'proxy.json'));
    const port = proxy?.port ?? readJsonFile(join(dataDir, 'cluster.json'))?.port;
    if (port === undefined) throw new ArcaError('InvalidConfig', `no cluster endpoint: set ARCA_ENDPOINT, or run in the directory of a local cluster (${dataDir} not found)`);
    endpoint = `http://127.0.0.1:${port}`;
  }
  if (!accessKey || !secretKey) {
    const creds = readJsonFile(join(dataDir, 'credentials.json'));
    accessKey ||= creds?.accessKey as string | undefined;
    secretKey ||= creds?.secretKey as string | undefined;
  }
  if (!accessKey || !secretKey) throw new ArcaError('InvalidConfig', `no root credentials: set ARCA_ACCESS_KEY and ARCA_SECRET_KEY (${join(dataDir, 'credentials.json')} not found)`);
  try {
    new URL(endpoint);
  } catch {
    throw new ArcaError('InvalidConfig', `ARCA_ENDPOINT ${JSON.stringify(endpoint)} is not a URL`);
  }
  return { endpoint: endpoint.replace(/\/+$/, ''), accessKey, secretKey, region: env.ARCA_REGION || 'us-east-1' };
}

/** Sends one signed admin request; resolves with the parsed JSON reply, rejects with a one-line ArcaError. */
export function adminRequest(target: AdminTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const url = new URL(`${target.endpoint}/_arca/admin/v1/${path}`);
  const payload = body === undefined ? '' : JSON.stringify(body);
  const opts = aws4.sign(
    {
      protocol: url.protocol,
      host: url.host,
      hostname: url.hostname,
      port: url.port || undefined,
      method,
      path: url.pathname,
      service: 's3',
      region: target.region,
      body: payload,
      headers: payload ? { 'content-type': 'application/json' } : {},
    },
    { accessKeyId: target.accessKey, secretAccessKey: target.secretKey },
  );
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request({ ...opts, host: url.hostname } as http.RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new ArcaError('Internal', `${target.endpoint}: ${err.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: { error?: { code?: string; message?: string } } | undefined;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(json);
        const what = json?.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`;
        reject(new ArcaError('BadRequest', what, { status }));
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new ArcaError('Internal', `cannot reach ${target.endpoint}: ${err.code ?? err.message}`)));
    req.end(payload);
  });
}
