/**
 * Delivery to an HTTP webhook: one POST of a JSON body, with the configured `Authorization` header and an
 * HMAC-SHA256 of the body (`x-arca-signature: sha256=<hex>`) when the target has a secret. A 2xx answer
 * within the timeout is a delivery; anything else is a failure to retry.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { WebhookConfig } from '../../common/config.js';

export const signatureHeader = 'x-arca-signature';

/** The signature header value of `body` under `secret`. */
export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs `value` as JSON; resolves to undefined on a 2xx, else to why it failed. */
export function postJson(target: WebhookConfig, value: unknown, timeoutMs: number, extraHeaders: Record<string, string> = {}): Promise<string | undefined> {
  const body = Buffer.from(JSON.stringify(value));
  const url = new URL(target.url);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length, 'user-agent': 'arca-events/1', ...extraHeaders };
  if (target.authHeader) headers.authorization = target.authHeader;
  if (target.secret) headers[signatureHeader] = signBody(target.secret, body);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (why: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(why);
    };
    const req = transport.request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode && res.statusCode >= 200 && res.statusCode < 300 ? undefined : `HTTP ${res.statusCode}`));
      res.on('error', (err) => done(err.message));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    req.end(body);
  });
}
