/**
 * The admin API: JSON over HTTP on the S3 port, under `/_arca/admin/v1/` (no S3 bucket name can start with
 * `_`). Every request is signed with SigV4 (or SigV2) like an S3 request, and only the root user may call it.
 *
 *   GET    /_arca/admin/v1/users                      → 200 { users: [User] }
 *   POST   /_arca/admin/v1/users                      { name, account?, accessKeyId?, secretAccessKey? }
 *                                                     → 201 { user: User, key: NewKey }
 *   GET    /_arca/admin/v1/users/NAME                 → 200 { user: User, keys: [Key] }
 *   DELETE /_arca/admin/v1/users/NAME                 → 204 (its keys go with it)
 *   GET    /_arca/admin/v1/users/NAME/keys            → 200 { keys: [Key] }
 *   POST   /_arca/admin/v1/users/NAME/keys            { accessKeyId?, secretAccessKey? } → 201 { key: NewKey }
 *   DELETE /_arca/admin/v1/keys/ACCESS_KEY_ID         → 204
 *   GET    /_arca/admin/v1/status                     → 200 ClusterStatus (cluster-status.ts; docs/status.md)
 *
 * Errors are `{ "error": { "code", "message" }, "requestId" }` with the status of the code (see docs/identity.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import Koa from 'koa';
import { ArcaError } from '../common/errors.js';
import { IdentityError, type IdentityErrorCode } from '../identity/errors.js';
import type { IdentityStore } from '../identity/identity-store.js';
import { type AdminCompute, computeRoute, isDeployPath, maxDeployBodyBytes } from './compute-routes.js';
import type { ClusterStatus } from './cluster-status.js';
import { assertPayloadSha256, authenticate, SigningKeyCache } from '../s3/auth/index.js';
import { S3Error } from '../s3/errors.js';

/** Every admin path starts with this; the proxy routes such requests here before S3 parsing. */
export const adminPathPrefix = '/_arca/';
const apiPrefix = '/_arca/admin/v1/';
const maxBodyBytes = 64 * 1024;

export interface AdminDeps {
  identity: IdentityStore;
  /** Hooks and event delivery (compute-routes.ts); their routes answer 404 without it. */
  compute?: AdminCompute;
  /** The cluster's status (nodes' recon reports and the proxy's view); `/status` answers 404 without it. */
  status?: { read(): Promise<ClusterStatus> };
  region: string;
  log: (line: string) => void;
}

/** An admin API error: a code, its status and a message for the operator. */
class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const identityStatus: Record<IdentityErrorCode, number> = {
  InvalidArgument: 400,
  NoSuchUser: 404,
  NoSuchAccessKey: 404,
  UserAlreadyExists: 409,
  AccessKeyAlreadyExists: 409,
  CorruptRecord: 500,
};

function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  if (err instanceof IdentityError) return new AdminError(identityStatus[err.code], err.code, err.message);
  if (err instanceof S3Error && err.code !== 'InternalError') return new AdminError(err.status, err.code, err.message);
  if (err instanceof ArcaError && (err.code === 'BadRequest' || err.code === 'NotFound' || err.code === 'HookRejected')) {
    return new AdminError(err.code === 'NotFound' ? 404 : 400, err.code === 'HookRejected' ? 'BadRequest' : err.code, err.message);
  }
  if (err instanceof ArcaError && (err.code === 'InsufficientReplicas' || err.code === 'Timeout' || err.code === 'Busy')) {
    return new AdminError(503, 'ServiceUnavailable', 'the cluster could not complete the request; retry');
  }
  return new AdminError(500, 'InternalError', 'internal error; see the proxy log');
}

/** True when a request is for the admin API: an `/_arca/` path, not addressed to a virtual-hosted bucket. */
export function isAdminRequest(rawUrl: string, host: string | undefined, virtualHostDomains: readonly string[]): boolean {
  if (!rawUrl.startsWith(adminPathPrefix)) return false;
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  return !virtualHostDomains.some((d) => hostname.endsWith(`.${d}`));
}

async function readBody(req: Koa.Request['req'], max = maxBodyBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) throw new AdminError(413, 'RequestTooLarge', `request bodies are limited to ${max} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AdminError(400, 'MalformedJSON', 'the request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AdminError(400, 'MalformedJSON', 'the request body must be a JSON object');
  return v as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AdminError(400, 'InvalidArgument', `"${field}" must be a string`);
  return v;
}

type Reply = { status: number; body?: unknown };

/** A path's parts, percent-decoded. */
function pathParts(path: string): string[] {
  return path.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new AdminError(400, 'InvalidURI', 'the path is not valid percent-encoding');
    }
  });
}

/** Dispatches one authenticated root request. */
async function route(method: string, path: string, body: Record<string, unknown>, deps: AdminDeps): Promise<Reply> {
  const { identity } = deps;
  const parts = path.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new AdminError(400, 'InvalidURI', 'the path is not valid percent-encoding');
    }
  });
  const notAllowed = () => new AdminError(405, 'MethodNotAllowed', `${method} is not allowed on ${apiPrefix}${path}`);
  if (parts.length === 1 && parts[0] === 'users') {
    if (method === 'GET') return { status: 200, body: { users: await identity.listUsers() } };
    if (method !== 'POST') throw notAllowed();
    const name = optionalString(body, 'name');
    if (name === undefined) throw new AdminError(400, 'InvalidArgument', '"name" is required');
    const created = await identity.createUser(name, {
      account: optionalString(body, 'account'),
      accessKeyId: optionalString(body, 'accessKeyId'),
      secretKey: optionalString(body, 'secretAccessKey'),
    });
    return { status: 201, body: created };
  }
  if (parts.length === 2 && parts[0] === 'users') {
    if (method === 'GET') {
      const user = await identity.getUser(parts[1]);
      if (!user) throw new IdentityError('NoSuchUser', `user ${parts[1]} does not exist`);
      return { status: 200, body: { user, keys: await identity.listKeys(parts[1]) } };
    }
    if (method !== 'DELETE') throw notAllowed();
    await identity.deleteUser(parts[1]);
    return { status: 204 };
  }
  if (parts.length === 3 && parts[0] === 'users' && parts[2] === 'keys') {
    if (method === 'GET') return { status: 200, body: { keys: await identity.listKeys(parts[1]) } };
    if (method !== 'POST') throw notAllowed();
    const key = await identity.createKey(parts[1], { accessKeyId: optionalString(body, 'accessKeyId'), secretKey: optionalString(body, 'secretAccessKey') });
    return { status: 201, body: { key } };
  }
  if (parts.length === 1 && parts[0] === 'status' && deps.status) {
    if (method !== 'GET') throw notAllowed();
    return { status: 200, body: await deps.status.read() };
  }
  if (parts.length === 2 && parts[0] === 'keys') {
    if (method !== 'DELETE') throw notAllowed();
    await identity.deleteKey(parts[1]);
    return { status: 204 };
  }
  throw new AdminError(404, 'NotFound', `no admin resource at ${apiPrefix}${path}`);
}

/** The admin API as a koa app (mounted by the proxy root beside the S3 app). */
export function createAdminApp(deps: AdminDeps): Koa {
  const app = new Koa();
  app.silent = true;
  const signingKeys = new SigningKeyCache();
  app.use(async (ctx) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    ctx.set('x-amz-request-id', requestId);
    ctx.set('cache-control', 'no-store');
    const rawUrl = ctx.req.url ?? '/';
    try {
      const auth = await authenticate(
        { method: ctx.method, rawUrl, headers: ctx.req.headersDistinct, now: new Date() },
        async (ak) => (await deps.identity.lookup(ak))?.secretKey,
        { region: deps.region, signingKeys },
      );
      const principal = auth.kind === 'signed' ? await deps.identity.lookup(auth.accessKeyId) : undefined;
      if (!principal?.isRoot) throw new AdminError(403, 'AccessDenied', 'only the root user may use the admin API');
      if (auth.kind === 'signed' && auth.payload.kind !== 'sha256' && auth.payload.kind !== 'unsigned') {
        throw new AdminError(400, 'InvalidRequest', 'the admin API takes plain (not aws-chunked) bodies');
      }
      const apiPath = rawUrl.split('?')[0].slice(apiPrefix.length);
      const raw = await readBody(ctx.req, deps.compute && isDeployPath(ctx.method, apiPath) ? maxDeployBodyBytes : maxBodyBytes);
      if (auth.kind === 'signed') assertPayloadSha256(auth.payload, createHash('sha256').update(raw).digest('hex'));
      const path = rawUrl.split('?')[0];
      if (!path.startsWith(apiPrefix)) throw new AdminError(404, 'NotFound', `no admin resource at ${path}; the API lives under ${apiPrefix}`);
      const body = parseJsonObject(raw);
      const compute = deps.compute && (await computeRoute(ctx.method, pathParts(apiPath.replace(/\/$/, '')), body, deps.compute, (s, c, m) => new AdminError(s, c, m)));
      const reply = compute ?? (await route(ctx.method, path.slice(apiPrefix.length).replace(/\/$/, ''), body, deps));
      ctx.status = reply.status;
      if (reply.body !== undefined) ctx.body = reply.body;
    } catch (err) {
      const e = toAdminError(err);
      if (e.status >= 500) deps.log(`${requestId} admin ${ctx.method} ${rawUrl}: ${(err as Error)?.stack ?? err}`);
      ctx.status = e.status;
      ctx.body = { error: { code: e.code, message: e.message }, requestId };
      if (!ctx.req.readableEnded) ctx.set('connection', 'close');
    }
  });
  return app;
}
