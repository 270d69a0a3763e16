/**
 * The image service (Glance v2) as a koa app on its own port: give every request an id, parse it into an
 * operation, authenticate it, run the operation's handler, and render any error in one place.
 *
 * Authentication: `X-Auth-Token` (tokens.ts), or for `GET`/`HEAD …/file` a signed URL (signing.ts), which is
 * how QEMU's curl driver — which cannot send headers — reads an image. Versions, schemas and token requests
 * need neither.
 */
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import type { Principal } from '../common/identity.js';
import type { GlanceDeps, GlanceRequest, GlanceResponse, Handler } from './context.js';
import { GlanceError, renderGlanceError, toGlanceError } from './errors.js';
import { handlers } from './handlers.js';
import { type GlanceOp, isAnonymous, operationOf } from './operations.js';
import { hexEqual, tempUrlSignature } from './signing.js';

const unauthorized = () => new GlanceError('Unauthorized', 'The request you have made requires authentication.');

/** The caller of a signed URL, or 401. */
async function tempUrlCaller(deps: GlanceDeps, method: string, path: string, q: URLSearchParams, now: number): Promise<Principal> {
  const ak = q.get('temp_url_ak');
  const sig = q.get('temp_url_sig');
  const expires = Number(q.get('temp_url_expires'));
  if (!ak || !sig || !Number.isInteger(expires)) throw unauthorized();
  if (expires * 1000 < now) throw new GlanceError('Unauthorized', 'The signed URL has expired.');
  const cred = await deps.identity.lookup(ak);
  if (!cred || !hexEqual(tempUrlSignature(cred.secretKey, method === 'HEAD' ? 'GET' : method, expires, path), sig)) throw unauthorized();
  const { secretKey: _secret, ...principal } = cred;
  return principal;
}

async function authenticate(deps: GlanceDeps, op: GlanceOp, method: string, path: string, q: URLSearchParams, token: string | undefined): Promise<Principal | undefined> {
  if (token) {
    const p = await deps.tokens.verify(token);
    if (!p) throw unauthorized();
    return p;
  }
  if (op.kind === 'downloadData' && q.has('temp_url_sig')) return tempUrlCaller(deps, method, path, q, Date.now());
  if (isAnonymous(op)) return undefined;
  throw unauthorized();
}

function apply(ctx: Koa.Context, r: GlanceResponse): void {
  ctx.status = r.status;
  const headers = r.headers ?? {};
  for (const [k, v] of Object.entries(headers)) if (k !== 'content-length') ctx.set(k, String(v));
  if (r.body !== undefined) ctx.body = r.body;
  else if (ctx.method !== 'HEAD' && r.status !== 204) ctx.body = '';
  // koa drops a Content-Length set before a stream body; set it after.
  if (headers['content-length'] !== undefined) ctx.set('content-length', String(headers['content-length']));
}

export function createGlanceApp(deps: GlanceDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    const requestId = `req-${randomUUID()}`;
    ctx.set('x-openstack-request-id', requestId);
    const rawUrl = ctx.req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    try {
      const op = operationOf(ctx.method, path);
      const token = ctx.get('x-auth-token') || undefined;
      const principal = await authenticate(deps, op, ctx.method, path, query, token);
      const req: GlanceRequest = {
        op,
        method: ctx.method,
        path,
        query,
        headers: ctx.req.headers,
        principal,
        baseUrl: `${ctx.protocol}://${ctx.get('host') || 'localhost'}`,
        req: ctx.req,
      };
      apply(ctx, await (handlers[op.kind] as Handler)(req, deps));
    } catch (err) {
      const e = toGlanceError(err);
      if (e.code === 'InternalServerError') deps.log(`images ${requestId} ${ctx.method} ${rawUrl}: ${(err as Error)?.stack ?? err}`);
      ctx.status = e.status;
      for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
      if (e.code === 'Unauthorized') ctx.set('www-authenticate', 'Arca-Token');
      if (ctx.method === 'HEAD') ctx.body = null;
      else {
        const rendered = renderGlanceError(e, ctx.get('accept'));
        ctx.type = rendered.contentType;
        ctx.body = rendered.body;
      }
      ctx.status = e.status;
      // A request whose body was not read leaves the connection unusable: close it after the reply.
      if (!ctx.req.readableEnded) ctx.set('connection', 'close');
    }
  });
  return app;
}
