/**
 * HTTP client for the storage nodes' internal API: keep-alive connections, connect and idle timeouts, and
 * the three shapes of exchange the policies need — a small request with a buffered reply, a streamed read,
 * and a streamed write that ends with trailers.
 *
 * Requests and reads go through undici, which costs about half of node:http's client CPU per exchange
 * (docs/proxy.md, "The client to the nodes"); uploads stay on node:http, whose requests can send trailers.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { ArcaError } from '../common/errors.js';

/** Where a storage node listens (a ring device carries these). */
export interface NodeAddress {
  ip: string;
  port: number;
}

/** A node's reply headers, names in lower case. */
export type NodeHeaders = Record<string, string | string[] | undefined>;

export interface NodeReply {
  status: number;
  headers: NodeHeaders;
  body: Buffer;
}

/** A node's reply whose body the caller streams: it must consume or destroy it. */
export interface NodeStreamReply {
  status: number;
  headers: NodeHeaders;
  body: Readable;
}

export interface NodeRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** An object write streaming to one node. */
export interface NodeUpload {
  readonly node: NodeAddress;
  /** Writes a chunk; false means wait for `drained()`. */
  write(chunk: Buffer): boolean;
  drained(): Promise<void>;
  /** Ends the body with trailers and waits for the node's reply. */
  finish(trailers: Record<string, string>): Promise<NodeReply>;
  /** Drops the upload: the node discards what it got. */
  abort(): void;
  /** Set once the upload failed (the connection broke or the node answered early). */
  readonly failed: Error | undefined;
}

export interface NodeClientOptions {
  connTimeoutMs: number;
  nodeTimeoutMs: number;
}

/** undici's codes for the three timeouts it enforces. */
const timeoutCodes = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class NodeClient {
  /** Connections for uploads (node:http). */
  readonly agent: http.Agent;
  /** Connections for everything else (undici). */
  readonly #dispatcher: Agent;

  constructor(private readonly opts: NodeClientOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' });
    this.#dispatcher = new Agent({
      connections: 512,
      connect: { timeout: opts.connTimeoutMs },
      headersTimeout: opts.nodeTimeoutMs,
      bodyTimeout: opts.nodeTimeoutMs,
    });
  }

  /** How long a node may stay silent during a request before it counts as failed. */
  get nodeTimeoutMs(): number {
    return this.opts.nodeTimeoutMs;
  }

  /** Closes idle connections (process shutdown, tests). */
  close(): void {
    this.agent.destroy();
    void this.#dispatcher.destroy().catch(() => {});
  }

  /** Sends a request through undici; its timeouts become the `Timeout` the other exchanges raise. */
  async #send(node: NodeAddress, r: NodeRequest): Promise<Dispatcher.ResponseData> {
    try {
      return await this.#dispatcher.request({
        origin: `http://${node.ip}:${node.port}`,
        method: r.method as Dispatcher.HttpMethod,
        path: r.path,
        headers: r.headers,
        body: r.body,
        // undici closes the connection after a HEAD unless told the server is trusted to send no body.
        reset: false,
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && timeoutCodes.has(code)) {
        throw new ArcaError('Timeout', `node ${node.ip}:${node.port}: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  private open(node: NodeAddress, method: string, path: string, headers: Record<string, string>): http.ClientRequest {
    const req = http.request({ host: node.ip, port: node.port, method, path, headers, agent: this.agent });
    req.setTimeout(this.opts.nodeTimeoutMs, () => {
      req.destroy(new ArcaError('Timeout', `node ${node.ip}:${node.port} silent for ${this.opts.nodeTimeoutMs} ms`));
    });
    return req;
  }

  /** Resolves once the request's socket is connected; rejects after the connect timeout or on error. */
  private connected(req: http.ClientRequest, node: NodeAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      req.once('error', fail);
      req.once('socket', (socket) => {
        if (!socket.connecting) {
          req.off('error', fail);
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          req.destroy(new ArcaError('Timeout', `node ${node.ip}:${node.port} did not accept a connection in ${this.opts.connTimeoutMs} ms`));
        }, this.opts.connTimeoutMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          req.off('error', fail);
          resolve();
        });
        socket.once('close', () => clearTimeout(timer));
      });
    });
  }

  /** Resolves on the node's `100 Continue` (or an early answer); rejects after the connect timeout. */
  private continued(req: http.ClientRequest, node: NodeAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        req.off('continue', ok);
        req.off('response', ok);
        req.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const ok = () => done();
      const timer = setTimeout(() => {
        const err = new ArcaError('Timeout', `node ${node.ip}:${node.port} did not answer 100 Continue in ${this.opts.connTimeoutMs} ms`);
        req.destroy(err);
        done(err);
      }, this.opts.connTimeoutMs);
      req.once('continue', ok);
      req.once('response', ok);
      req.once('error', done);
    });
  }

  /** Sends a small request and buffers the whole reply. */
  async request(node: NodeAddress, r: NodeRequest): Promise<NodeReply> {
    const res = await this.#send(node, r);
    return { status: res.statusCode, headers: res.headers, body: await this.readReply(node, res.body) };
  }

  /** The whole body of a reply (the idle timeout still guards it; a reply cut short rejects). */
  async readReply(node: NodeAddress, body: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of body) chunks.push(c as Buffer);
    } catch (err) {
      if (err instanceof ArcaError) throw err;
      throw new ArcaError('Internal', `node ${node.ip}:${node.port} cut its reply short: ${(err as Error).message}`);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** Starts a request whose reply body the caller streams; the caller must consume or destroy it. */
  async stream(node: NodeAddress, r: NodeRequest): Promise<NodeStreamReply> {
    const res = await this.#send(node, r);
    // undici's body emits an AbortError when its reader destroys it (a dropped probe, a client gone);
    // node:http's did not. Whoever reads the body still sees every error through its own listener.
    res.body.on('error', () => {});
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  /**
   * Opens a chunked upload with trailers; resolves once the node's connection is up — and, with
   * `expectContinue`, once the node answered `100 Continue` within the connect timeout (so a node that
   * accepts connections but does not serve them is found before the body starts, when a handoff can still
   * take its place).
   */
  async upload(node: NodeAddress, path: string, headers: Record<string, string>, opts: { expectContinue?: boolean } = {}): Promise<NodeUpload> {
    const req = this.open(node, 'PUT', path, {
      ...headers,
      'transfer-encoding': 'chunked',
      trailer: 'x-backend-footer',
      ...(opts.expectContinue ? { expect: '100-continue' } : {}),
    });
    let failed: Error | undefined;
    let early: IncomingMessage | undefined;
    const reply = new Promise<NodeReply>((resolve, reject) => {
      req.once('response', (res) => {
        early = res;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.once('error', reject);
      });
      req.once('error', (err) => {
        failed ??= err;
        reject(err);
      });
    });
    reply.catch(() => {}); // observed through finish() or `failed`
    await this.connected(req, node);
    req.flushHeaders();
    if (opts.expectContinue) await this.continued(req, node);
    return {
      node,
      write: (chunk) => {
        if (failed || early) return true;
        return req.write(chunk);
      },
      drained: () =>
        failed || early || !req.writableNeedDrain
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const done = () => {
                req.off('drain', done);
                req.off('close', done);
                resolve();
              };
              req.once('drain', done);
              req.once('close', done);
            }),
      finish: async (trailers) => {
        if (failed) throw failed;
        if (!early) {
          req.addTrailers(trailers);
          req.end();
        }
        return reply;
      },
      abort: () => {
        failed ??= new ArcaError('ClientAborted', 'upload aborted');
        req.destroy(failed);
      },
      get failed() {
        return failed ?? (early ? new ArcaError('Internal', `node answered ${early.statusCode} before the body ended`) : undefined);
      },
    };
  }
}
