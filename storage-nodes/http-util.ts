/**
 * The HTTP edge of the storage node: small helpers to answer, to read a bounded JSON body, and the one place
 * where domain errors become statuses.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isArcaError } from '../src/common/errors.js';
import { CorruptDataFileError, DeviceUnavailableError } from './disk-file.js';

/** A request the node refuses as malformed (400). */
export class BadRequestError extends Error {
  readonly code = 'BadRequest';
}

/** Sends a complete response; `body` strings are sent as UTF-8. */
export function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}, body?: string | Buffer): void {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  headers['content-length'] = payload?.length ?? 0;
  res.writeHead(status, headers);
  res.end(payload);
}

/** Sends a JSON body. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, { ...headers, 'content-type': 'application/json' }, JSON.stringify(value));
}

/** Reads a JSON body of at most `limit` bytes; BadRequestError when it is too large or not JSON. */
export async function readJsonBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BadRequestError(`body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequestError('body is not JSON');
  }
}

/** The status an error becomes at the edge. */
export function statusOfError(err: unknown): number {
  if (err instanceof DeviceUnavailableError) return 507;
  if (err instanceof BadRequestError || isArcaError(err, 'BadRequest')) return 400;
  if (err instanceof CorruptDataFileError) return 404;
  if (isArcaError(err, 'Conflict')) return 409;
  return 500;
}

/** A single header value (the first when repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
