/**
 * The S3 service as a koa app: give every request an id, parse it into an operation, authenticate it, run
 * the operation's handler, and render any error as S3 XML in one place.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import Koa from 'koa';
import { HeldBody } from '../common/read-stream.js';
import { address } from './addressing.js';
import { type AuthResult, authenticate, SigningKeyCache } from './auth/index.js';
import type { S3Deps, S3Request, S3Response } from './context.js';
import { actualRequestCorsHeaders } from './cors.js';
import { renderErrorXml, S3Error, toS3Error } from './errors.js';
import { handlers } from './handlers.js';
import { operationOf } from './operations.js';
import { type DecodedBody, requestBody } from './request-body.js';

/**
 * Request ids look like AWS's: 16 upper-case hex digits — here 6 random ones drawn once per app, then a
 * counter, so ids are unique per process and across processes (with high probability) without drawing
 * random bytes for every request.
 */
export function requestIds(): () => string {
  const prefix = randomBytes(3).toString('hex').toUpperCase();
  let next = 0;
  return () => {
    const id = prefix + next.toString(16).toUpperCase().padStart(10, '0');
    next = (next + 1) % 2 ** 40;
    return id;
  };
}

async function applyResponse(ctx: Koa.Context, r: S3Response): Promise<void> {
  // A body the store read whole goes out with the headers in one write, without a stream pipeline.
  const held = r.body instanceof HeldBody && r.body.untouched ? r.body.bytes : undefined;
  // Before any status or header is set: a stream that fails first is answered as its error alone.
  if (!held && r.body instanceof Readable) await firstBytes(r.body);
  ctx.status = r.status;
  const length = r.headers['content-length'];
  for (const [k, v] of Object.entries(r.headers)) if (k !== 'content-length') ctx.set(k, String(v));
  if (held) ctx.body = held;
  else if (r.body !== undefined) ctx.body = r.body;
  else if (ctx.method !== 'HEAD' && r.status !== 204 && r.status !== 304) ctx.body = '';
  // koa drops a Content-Length set before a stream body; set it after.
  if (length !== undefined) ctx.set('content-length', String(length));
}

/**
 * Resolves once `body` has bytes to send or has ended; rejects with its error when it fails before either.
 * A stored body can fail before its first byte (every device that held it stopped answering): answered
 * then, that is an S3 error with its status, where koa's pipeline, once the response is under way, could
 * only reset the connection. The stream stays paused with what it read buffered; koa's pipe then takes it.
 */
function firstBytes(body: Readable): Promise<void> {
  if (body.readableLength > 0 || body.readableEnded) return Promise.resolve();
  if (body.errored) return Promise.reject(body.errored);
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      body.off('readable', ready);
      body.off('error', settle);
      body.off('close', closed);
      if (err) reject(err);
      else resolve();
    };
    const ready = () => settle();
    const closed = () => settle(body.errored ?? new Error('the stored body closed before its first byte'));
    body.on('readable', ready);
    body.once('error', settle);
    body.once('close', closed);
  });
}

/**
 * Adds the CORS headers of the addressed bucket's rules to the response of a request with an `Origin`
 * (successful or not: browsers need them to read error bodies too). Preflights answer their own.
 */
async function applyCors(ctx: Koa.Context, deps: S3Deps, bucketName: string | undefined, op: string | undefined): Promise<void> {
  const origin = ctx.get('origin');
  if (!origin || bucketName === undefined || op === 'PreflightRequest' || bucketName.startsWith('.')) return;
  try {
    const bucket = await deps.store.getBucket(bucketName);
    const headers = bucket && actualRequestCorsHeaders(bucket, origin, ctx.method);
    if (headers) for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
  } catch {
    // Best effort: a failed lookup must not turn an answer into an error.
  }
}

export function createS3App(deps: S3Deps): Koa {
  const app = new Koa();
  app.silent = true;
  const signingKeys = new SigningKeyCache();
  const newRequestId = requestIds();
  app.use(async (ctx) => {
    const requestId = newRequestId();
    ctx.set('x-amz-request-id', requestId);
    ctx.set('x-amz-id-2', requestId);
    ctx.set('server', 'Arca');
    const rawUrl = ctx.req.url ?? '/';
    let resource = rawUrl.split('?')[0];
    let bucketName: string | undefined;
    let op: string | undefined;
    try {
      const addressed = address(rawUrl, ctx.req.headers.host, deps.virtualHostDomains);
      resource = addressed.bucket === undefined ? '/' : `/${addressed.bucket}${addressed.key === undefined ? '' : `/${addressed.key}`}`;
      bucketName = addressed.bucket;
      const operation = operationOf(ctx.method, addressed.bucket, addressed.key, addressed.query, ctx.req.headers);
      op = operation;
      const auth: AuthResult = await authenticate(
        { method: ctx.method, rawUrl, headers: ctx.req.headersDistinct, now: new Date(), virtualHostBucket: addressed.virtualHost ? addressed.bucket : undefined },
        async (ak) => (await deps.identity.lookup(ak))?.secretKey,
        { region: deps.region, signingKeys },
      );
      const principal = auth.kind === 'signed' ? await deps.identity.lookup(auth.accessKeyId) : undefined;
      let body: DecodedBody | undefined;
      const req: S3Request = {
        op: operation,
        method: ctx.method,
        rawUrl,
        rawPath: addressed.rawPath,
        bucketName: addressed.bucket,
        key: addressed.key,
        query: addressed.query,
        headers: ctx.req.headers,
        requestId,
        principal,
        sourceIp: ctx.req.socket.remoteAddress,
        secureTransport: (ctx.req.socket as TLSSocket).encrypted === true,
        payload: auth.kind === 'signed' ? auth.payload : { kind: 'unsigned' },
        req: ctx.req,
        // One decoded stream per request, however often a handler asks.
        body: () => (body ??= requestBody(ctx.req, auth, { idleTimeoutMs: deps.clientIdleTimeoutMs })),
      };
      const handler = handlers[operation];
      await applyResponse(ctx, await handler(req, deps));
      await applyCors(ctx, deps, bucketName, op);
    } catch (err) {
      const e = toS3Error(err);
      if (e.code === 'InternalError') deps.log(`${requestId} ${ctx.method} ${rawUrl}: ${(err as Error)?.stack ?? err}`);
      ctx.status = e.status;
      for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
      if (ctx.method === 'HEAD' || e.status === 304) {
        ctx.body = null;
        ctx.status = e.status;
      } else {
        ctx.type = 'application/xml';
        ctx.body = renderErrorXml(e, { resource, requestId, hostId: requestId });
      }
      await applyCors(ctx, deps, bucketName, op);
      // A request whose body was not read keeps the connection unusable: close it after the reply.
      if (!ctx.req.readableEnded && ctx.req.readable) ctx.set('connection', 'close');
    }
  });
  return app;
}

/** Thrown by operations Arca does not implement. */
export function notImplemented(): Promise<S3Response> {
  return Promise.reject(new S3Error('NotImplemented', { message: 'A header you provided implies functionality that is not implemented' }));
}
