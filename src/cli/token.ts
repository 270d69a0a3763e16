/**
 * `arca token create`: asks the image API for an `X-Auth-Token` (signed with an access key's secret, see
 * src/images/signing.ts) and prints it, for `glance --os-auth-token` and `openstack --os-token`.
 * `arca token revoke TOKEN` ends one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { signTokenRequest } from '../images/signing.js';

const usage = `usage: arca token create [--expires SECONDS] [--endpoint URL] [--data DIR | --access-key AK --secret-key SK]

Prints a token for the image API (Glance v2). The endpoint is the image API's base URL (default
$ARCA_IMAGE_URL, else http://127.0.0.1:9292). Credentials come from --access-key/--secret-key, else
$ARCA_ACCESS_KEY/$ARCA_SECRET_KEY, else the credentials.json of a local cluster's --data directory.`;

/** Options every command talking to the image API takes. */
export const connectionOptions = {
  endpoint: { type: 'string' },
  data: { type: 'string' },
  'access-key': { type: 'string' },
  'secret-key': { type: 'string' },
} as const;

export interface Connection {
  endpoint: string;
  cred: { accessKeyId: string; secretKey: string };
}

/** Resolves the endpoint and credentials from options, the environment, or a local cluster's data directory. */
export function connection(values: { endpoint?: string; data?: string; 'access-key'?: string; 'secret-key'?: string }): Connection {
  let accessKeyId = values['access-key'] ?? process.env.ARCA_ACCESS_KEY;
  let secretKey = values['secret-key'] ?? process.env.ARCA_SECRET_KEY;
  let endpoint = values.endpoint ?? process.env.ARCA_IMAGE_URL;
  if ((!accessKeyId || !secretKey) && values.data) {
    const creds = JSON.parse(readFileSync(join(values.data, 'credentials.json'), 'utf8')) as { accessKey: string; secretKey: string };
    accessKeyId = creds.accessKey;
    secretKey = creds.secretKey;
    if (!endpoint) {
      const spec = JSON.parse(readFileSync(join(values.data, 'cluster.json'), 'utf8')) as { glancePort?: number };
      if (spec.glancePort) endpoint = `http://127.0.0.1:${spec.glancePort}`;
    }
  }
  if (!accessKeyId || !secretKey) throw new ArcaError('InvalidConfig', 'no credentials: give --access-key and --secret-key, set ARCA_ACCESS_KEY/ARCA_SECRET_KEY, or --data DIR');
  return { endpoint: (endpoint ?? 'http://127.0.0.1:9292').replace(/\/+$/, ''), cred: { accessKeyId, secretKey } };
}

/** A JSON request to the image API; non-2xx is an error carrying the server's message. */
export async function callApi(url: string, init: { method: string; token?: string; body?: unknown }): Promise<unknown> {
  const res = await fetch(url, {
    method: init.method,
    headers: { ...(init.token ? { 'x-auth-token': init.token } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), accept: 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      const j = JSON.parse(text) as { message?: string; error?: { message?: string } };
      message = j.message ?? j.error?.message ?? text;
    } catch {}
    throw new ArcaError('BadRequest', `${init.method} ${url}: ${res.status} ${message}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** Requests a token for the connection's access key. */
export async function requestToken(c: Connection, expiresIn: number): Promise<{ token: string; expires_at: string; account: string; user: string }> {
  return (await callApi(`${c.endpoint}/arca/v1/tokens`, { method: 'POST', body: signTokenRequest(c.cred, expiresIn) })) as { token: string; expires_at: string; account: string; user: string };
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create') {
    process.stdout.write(`${usage}\n`);
    return sub === '-h' || sub === '--help' ? 0 : 2;
  }
  const { values } = parseArgs({ args: rest, options: { ...connectionOptions, expires: { type: 'string', default: '43200' } } });
  const expiresIn = Number(values.expires);
  if (!Number.isInteger(expiresIn) || expiresIn < 1) throw new ArcaError('InvalidConfig', `--expires ${values.expires}: not a number of seconds`);
  const t = await requestToken(connection(values), expiresIn);
  process.stdout.write(`${t.token}\n`);
  process.stderr.write(`token for ${t.user} (account ${t.account}), expires ${t.expires_at}\n`);
  return 0;
}
