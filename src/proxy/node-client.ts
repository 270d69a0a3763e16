/**
 * Client for the storage nodes' internal API: connect and idle timeouts, and the shapes of exchange the
 * policies need — a small request with a buffered reply, a read that is buffered when small and streamed when
 * not, a streamed read, and a streamed write that ends with trailers. Small requests and replies go framed,
 * many to one connection per node (common/frames.ts); streamed ones over HTTP with one keep-alive agent.
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ArcaError } from '../common/errors.js';
import { FrameClient, frameMaxHeader, frameTooLargeHeader } from '../common/frames.js';

/** Where a storage node listens (a ring device carries these). */
export interface NodeAddress {
  ip: string;
  port: number;
}

export interface NodeReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
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

/** A read's reply: its body whole when it is small, a stream the caller must consume or destroy when not. */
export type NodeRead = { status: number; headers: IncomingHttpHeaders } & ({ body: Buffer; stream?: undefined } | { body?: undefined; stream: IncomingMessage });

export interface NodeClientOptions {
  connTimeoutMs: number;
  nodeTimeoutMs: number;
  /** Small requests framed on one connection per node (default); false: every request over HTTP. */
  frames?: boolean;
}

export class NodeClient {
  readonly agent: http.Agent;
  readonly #frames: FrameClient | undefined;

  constructor(private readonly opts: NodeClientOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' });
    this.#frames = opts.frames === false ? undefined : new FrameClient(opts);
  }

  /** How long a node may stay silent during a request before it counts as failed. */
  get nodeTimeoutMs(): number {
    return this.opts.nodeTimeoutMs;
  }

  /** Closes idle connections and the framed ones (process shutdown, tests). */
  close(): void {
    this.agent.destroy();
    this.#frames?.close();
  }

  /** A request framed; undefined when frames are off or the node does not take them (then: HTTP). */
  #sendFramed(node: NodeAddress, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<NodeReply | undefined> {
    return this.#frames ? this.#frames.request(node.ip, node.port, method, path, headers, body) : Promise.resolve(undefined);
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
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    const framed = await this.#sendFramed(node, r.method, r.path, r.headers ?? {}, body);
    return framed ?? this.#requestHttp(node, { ...r, body });
  }

  /**
   * A read whose body comes whole when it is at most `maxBody` bytes (framed, when the node takes frames) and
   * as a stream when it is larger (over HTTP: a second request, which only large bodies pay).
   */
  async read(node: NodeAddress, r: NodeRequest, maxBody: number): Promise<NodeRead> {
    const framed = await this.#sendFramed(node, r.method, r.path, { ...r.headers, [frameMaxHeader]: String(maxBody) }, undefined);
    if (framed && framed.headers[frameTooLargeHeader] === undefined) return framed;
    const res = await this.stream(node, r);
    const status = res.statusCode ?? 0;
    // Only an object's body is streamed; a status without one (404, 412, an error) has a short body at most.
    if ((status !== 200 && status !== 206) || Number(res.headers['content-length']) <= maxBody) {
      return { status, headers: res.headers, body: await this.readReply(node, res) };
    }
    return { status, headers: res.headers, stream: res };
  }

  async #requestHttp(node: NodeAddress, r: NodeRequest): Promise<NodeReply> {
    const headers = { ...r.headers };
    if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
    const req = this.open(node, r.method, r.path, headers);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      req.end(r.body);
    });
    return { status: res.statusCode ?? 0, headers: res.headers, body: await this.readReply(node, res) };
  }

  /** The whole body of a reply (the request's idle timeout still guards it). */
  readReply(node: NodeAddress, res: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    return new Promise<Buffer>((resolve, reject) => {
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      res.once('error', reject);
      res.once('aborted', () => reject(new ArcaError('Internal', `node ${node.ip}:${node.port} aborted its reply`)));
    });
  }

  /** Starts a request whose reply body the caller streams; the caller must consume or destroy it. */
  stream(node: NodeAddress, r: NodeRequest): Promise<IncomingMessage> {
    const req = this.open(node, r.method, r.path, r.headers ?? {});
    return new Promise((resolve, reject) => {
      req.once('response', (res) => {
        // The idle timeout keeps guarding the body while it streams.
        resolve(res);
      });
      req.once('error', reject);
      req.end(r.body);
    });
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
