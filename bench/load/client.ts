/**
 * The load generator's S3 client: path-style requests over one undici `Pool` of keep-alive connections,
 * signed with bench/lib/sigv4. It does the least a real client must do — sign, send Content-Length, stream
 * the body, read the response — so that what the benchmark measures is the server. undici, not node:http:
 * the generator shares the machine's cores with the servers it measures (docs/benchmarks.md, "The S3 load
 * generator").
 *
 * A request never rejects because of the HTTP status: every answer is a `Reply`; only transport failures
 * (refused, reset, timeout) reject, with an `Error` whose `code` names the failure.
 */
import { Readable } from 'node:stream';
import { Pool } from 'undici';
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
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
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
  readonly #pool: Pool;
  readonly #host: string;

  constructor(options: S3ClientOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpoint must be http(s): ${options.endpoint}`);
    this.#pool = new Pool(url.origin, {
      connections: options.maxSockets,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs },
    });
    this.#host = url.host; // includes the port only when it is not the default, as clients send it
    this.#signer = options.signer;
  }

  async request(spec: RequestSpec): Promise<Reply> {
    const body = spec.body;
    const signed = this.#signer.sign({
      method: spec.method,
      path: spec.path,
      query: spec.query,
      host: this.#host,
      headers: body || spec.method === 'PUT' ? { 'content-length': String(body?.size ?? 0) } : undefined,
      payloadHash: body?.payloadHash ?? EMPTY_SHA256,
    });
    try {
      const res = await this.#pool.request({
        method: spec.method,
        path: signed.url,
        headers: signed.headers,
        body: body === undefined ? undefined : body.size <= body.chunk.length ? body.chunk.subarray(0, body.size) : Readable.from(slices(body), { objectMode: false }),
        // undici closes the connection after a HEAD unless told the server sends no body with it.
        reset: false,
      });
      const keep = spec.collect || res.statusCode >= 300;
      const chunks: Buffer[] = [];
      let kept = 0;
      let bytes = 0;
      for await (const c of res.body as AsyncIterable<Buffer>) {
        bytes += c.length;
        if (keep && kept < COLLECT_LIMIT) {
          chunks.push(c);
          kept += c.length;
        }
      }
      return { status: res.statusCode, headers: res.headers, bytes, body: keep ? Buffer.concat(chunks) : undefined };
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new TransportError(e.message, transportCode(e.code));
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    void this.#pool.destroy().catch(() => {});
  }
}

/** The code a transport failure reports: TIMEOUT for undici's timeouts, ECONNRESET for a closed socket. */
function transportCode(code: string | undefined): string {
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'TIMEOUT';
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'ECONNRESET';
  return code ?? 'ERROR';
}

/**
 * `size` bytes as slices of one buffer, produced as the connection takes them, so a 64 MiB PUT holds one
 * 1 MiB buffer (shared by every request) instead of 64 MiB per request.
 */
async function* slices(body: RepeatedBody): AsyncGenerator<Buffer> {
  const { chunk, size } = body;
  for (let sent = 0; sent < size; sent += chunk.length) {
    yield size - sent >= chunk.length ? chunk : chunk.subarray(0, size - sent);
  }
}
