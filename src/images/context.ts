/**
 * What the image API's handlers receive: the parsed request (operation, caller, query, headers) and the
 * service, plus the response shape. Handlers are thin translations between Glance's HTTP and ImageService.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Principal } from '../common/identity.js';
import { GlanceError } from './errors.js';
import type { IdentityProvider } from '../common/identity.js';
import type { ImageData } from './data.js';
import type { ImageImports } from './imports.js';
import type { GlanceOp } from './operations.js';
import type { ImageService } from './service.js';
import type { TokenService } from './tokens.js';

export interface GlanceDeps {
  images: ImageService;
  data: ImageData;
  imports: ImageImports;
  tokens: TokenService;
  identity: IdentityProvider;
  log: (line: string) => void;
}

export interface GlanceRequest {
  op: GlanceOp;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The caller; operations that need none (versions, schemas, token requests) may see undefined. */
  principal?: Principal;
  /** `http://host:port` as the client addressed this service. */
  baseUrl: string;
  /** The raw request, whose body a handler may stream. */
  req: IncomingMessage;
}

export interface GlanceResponse {
  status: number;
  headers?: Record<string, string | number>;
  body?: string | Buffer | Readable;
}

export type Handler<K extends GlanceOp['kind'] = GlanceOp['kind']> = (req: GlanceRequest & { op: Extract<GlanceOp, { kind: K }> }, deps: GlanceDeps) => Promise<GlanceResponse>;

/** A JSON response. */
export function json(status: number, value: unknown, headers: Record<string, string | number> = {}): GlanceResponse {
  return { status, headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body: JSON.stringify(value) };
}

/** An empty response. */
export function empty(status: number, headers: Record<string, string | number> = {}): GlanceResponse {
  return { status, headers };
}

/** The authenticated caller, or 401. */
export function caller(req: GlanceRequest): Principal {
  if (!req.principal) throw new GlanceError('Unauthorized', 'The request you have made requires authentication.');
  return req.principal;
}

const MAX_JSON_BYTES = 1024 * 1024;

/** Reads the request body as JSON (at most 1 MiB); 400 when it is not JSON, 413 when too large. */
export async function readJson(req: GlanceRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req.req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_JSON_BYTES) throw new GlanceError('RequestEntityTooLarge', 'Request body too large.');
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new GlanceError('BadRequest', 'Malformed JSON in request body.');
  }
}

/** The declared body length of an upload, or undefined for a chunked one. */
export function declaredLength(req: GlanceRequest): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new GlanceError('BadRequest', 'Invalid Content-Length.');
  return n;
}

/** 415 unless the request's Content-Type is `octet-stream` (or absent), as Glance's data uploads require. */
export function requireOctetStream(req: GlanceRequest): void {
  const type = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim().toLowerCase();
  if (type !== 'application/octet-stream') throw new GlanceError('UnsupportedMediaType', `The media type ${type} is not supported for image data; use application/octet-stream.`);
}
