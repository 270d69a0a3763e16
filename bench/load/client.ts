/**
 * The load generator's S3 client: path-style requests over one keep-alive `http.Agent`, signed with
 * bench/lib/sigv4. It does the least a real client must do — sign, send Content-Length, stream the body,
 * read the response — so that what the benchmark measures is the server.
 *
 * A request never rejects because of the HTTP status: every answer is a `Reply`; only transport failures
 * (refused, reset, timeout) reject, with an `Error` whose `code` names the failure.
 */
import http from 'node:http';
import https from 'node:https';
import { EMPTY_SHA256, type SigV4Signer } from '../lib/sigv4.js';

/** A body made of one buffer repeated: `size` bytes sent as consecutive slices of `chunk`. */
export interface RepeatedBody {
  chunk: Buffer;
  size: number;
  /** `x-amz-content-sha256` for this body: `UNSIGNED-PAYLOAD` or its hex SHA-256. */
  payloadHash: string;
}

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'PUT' | 'DELETE';
  /** Decoded path: `/bucket` or `/bucket/key`. */
  path: string;
  query?: ReadonlyArray<readonly [string, string]>;
  body?: RepeatedBody;
  /** Keep the response body (capped at `COLLECT_LIMIT`); otherwise it is only counted. */
  collect?: boolean;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Response body bytes received. */
  bytes: number;
  /** The first COLLECT_LIMIT bytes of the body, when asked for or when the status is an error. */
  body?: Buffer;
}

/** Error bodies and collected bodies are kept up to this many bytes. */
export const COLLECT_LIMIT = 1024 * 1024;

export interface S3ClientOptions {
  endpoint: string;
  signer: SigV4Signer;
  /** Sockets kept open to the endpoint: the run's concurrency. */
  maxSockets: number;
  /** Per-request inactivity timeout, ms. */
  timeoutMs: number;
}

export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export class S3Client {
  readonly #signer: SigV4Signer;
  readonly #agent: http.Agent;
  readonly #transport: typeof http | typeof https;
  readonly #hostname: string;
  readonly #port: number;
  readonly #host: string;
  readonly #timeoutMs: number;

  constructor(options: S3ClientOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpoint must be http(s): ${options.endpoint}`);
    const secure = url.protocol === 'https:';
    this.#transport = secure ? https : http;
    this.#agent = new this.#transport.Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets });
    this.#hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(url.port) || (secure ? 443 : 80);
    this.#host = url.host; // includes the port only when it is not the default, as clients send it
    this.#signer = options.signer;
    this.#timeoutMs = options.timeoutMs;
  }

  request(spec: RequestSpec): Promise<Reply> {
    const body = spec.body;
    const signed = this.#signer.sign({
      method: spec.method,
      path: spec.path,
      query: spec.query,
      host: this.#host,
      headers: body || spec.method === 'PUT' ? { 'content-length': String(body?.size ?? 0) } : undefined,
      payloadHash: body?.payloadHash ?? EMPTY_SHA256,
    });
    return new Promise<Reply>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error & { code?: string }) => {
        if (settled) return;
        settled = true;
        reject(e instanceof TransportError ? e : new TransportError(e.message, e.code ?? 'ERROR'));
      };
      const req = this.#transport.request(
        {
          agent: this.#agent,
          method: spec.method,
          hostname: this.#hostname,
          port: this.#port,
          path: signed.url,
          headers: signed.headers,
          timeout: this.#timeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const keep = spec.collect || status >= 300;
          const chunks: Buffer[] = [];
          let kept = 0;
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (keep && kept < COLLECT_LIMIT) {
              chunks.push(c);
              kept += c.length;
            }
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            resolve({ status, headers: res.headers, bytes, body: keep ? Buffer.concat(chunks) : undefined });
          });
          res.on('error', fail);
          res.on('close', () => {
            if (!res.complete) fail(new TransportError('connection closed before the response ended', 'ECONNRESET'));
          });
        },
      );
      req.on('timeout', () => req.destroy(new TransportError(`no activity for ${this.#timeoutMs} ms`, 'TIMEOUT')));
      req.on('error', fail);
      if (body) writeBody(req, body).catch(fail);
      else req.end();
    });
  }

  /** Closes the kept-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Writes `size` bytes as slices of one buffer, waiting for 'drain' between them, so a 64 MiB PUT holds one
 * 1 MiB buffer (shared by every request) instead of 64 MiB per request.
 */
async function writeBody(req: http.ClientRequest, body: RepeatedBody): Promise<void> {
  const { chunk, size } = body;
  let sent = 0;
  while (sent < size) {
    const n = Math.min(chunk.length, size - sent);
    const slice = n === chunk.length ? chunk : chunk.subarray(0, n);
    sent += n;
    if (sent >= size) {
      req.end(slice);
      return;
    }
    if (!req.write(slice)) await drained(req);
    if (req.destroyed) return;
  }
  req.end();
}

function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}
