/**
 * The framed protocol between the proxy and its storage nodes (docs/proxy.md, "Frames"): small requests and
 * their replies, many in flight on one TCP connection per node, each whole in one frame, written out once per
 * turn of the event loop. The connection starts as HTTP on the node's port and switches with
 * `Upgrade: arca-frames`. A node's HTTP API is unchanged: a frame carries the same method, path, headers and
 * body, and streamed bodies (large uploads and reads) keep to HTTP.
 *
 * A frame is `u32 length` (of the rest), `u32 id`, `u32 head length`, the head as JSON, and the body:
 * a request's head is `[method, path, headers]`, a reply's `[status, headers]`. A reply carries the id of its
 * request; status 0 means the node broke the request off (what a reset connection means in HTTP).
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { ArcaError } from './errors.js';

/** The `Upgrade` token a node answers with 101. */
export const framesUpgrade = 'arca-frames';
/** The path the upgrade request names (any path would do; this one reads well in a node's logs). */
export const framesPath = '/frames';
/** The largest frame either side takes; a larger one ends the connection as a protocol error. */
export const maxFrameBytes = 64 * 1024 * 1024;
/**
 * A request header: the largest reply body the sender takes in a frame. A node whose reply would be larger
 * answers with the status and headers alone and `x-arca-frame-too-large: 1`; the sender asks again over HTTP.
 */
export const frameMaxHeader = 'x-arca-frame-max';
export const frameTooLargeHeader = 'x-arca-frame-too-large';

const prefixBytes = 12;

/** The prefix and head of a frame; the body goes out as its own buffer, uncopied. */
export function encodeFrameHead(id: number, head: unknown, bodyLength: number): Buffer {
  const json = Buffer.from(JSON.stringify(head));
  const out = Buffer.allocUnsafe(prefixBytes + json.length);
  out.writeUInt32BE(8 + json.length + bodyLength, 0);
  out.writeUInt32BE(id, 4);
  out.writeUInt32BE(json.length, 8);
  json.copy(out, prefixBytes);
  return out;
}

/** One decoded frame. */
export interface Frame {
  id: number;
  head: unknown;
  body: Buffer;
}

/** Splits a byte stream into frames; throws on a frame over `maxFrameBytes` or a head that is not JSON. */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #size = 0;

  /** Takes the next bytes and returns the frames they complete. */
  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    const frames: Frame[] = [];
    while (this.#size >= 4) {
      let buf = this.#chunks[0];
      if (buf.length < 4) buf = this.#join();
      const length = buf.readUInt32BE(0);
      if (length < 8 || length > maxFrameBytes) throw new Error(`frame of ${length} bytes`);
      if (this.#size < 4 + length) break;
      if (buf.length < 4 + length) buf = this.#join();
      const headLength = buf.readUInt32BE(8);
      if (headLength > length - 8) throw new Error(`frame head of ${headLength} bytes in a frame of ${length}`);
      const head = JSON.parse(buf.toString('utf8', prefixBytes, prefixBytes + headLength)) as unknown;
      frames.push({ id: buf.readUInt32BE(4), head, body: buf.subarray(prefixBytes + headLength, 4 + length) });
      if (buf.length === 4 + length) this.#chunks.shift();
      else this.#chunks[0] = buf.subarray(4 + length);
      this.#size -= 4 + length;
    }
    return frames;
  }

  #join(): Buffer {
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [all];
    return all;
  }
}

/**
 * Gathers the frames one turn of the event loop produces and writes them to the socket together: with
 * requests in flight together this is what saves the CPU (a write and a wake-up per batch, not per request).
 * Small batches are copied into one buffer; larger ones, or ones whose senders wait to hear that their
 * buffers were written (to free them), go out uncopied in one corked `writev`.
 */
export class FrameWriter {
  #pending: Buffer[] = [];
  #bytes = 0;
  #written: (() => void)[] = [];
  #scheduled = false;

  /**
   * `maxQueuedBytes`: what the socket may hold unsent before the peer counts as stuck (it stopped reading)
   * and the connection is destroyed, failing what is in flight on it as a broken connection does.
   */
  constructor(
    private readonly socket: Socket,
    private readonly maxQueuedBytes = stuckPeerBytes,
  ) {}

  /** Queues a frame: its head, and its body as one buffer or several; `onWritten` once the socket took it. */
  send(head: Buffer, body?: Buffer | readonly Buffer[], onWritten?: () => void): void {
    this.#push(head);
    if (Buffer.isBuffer(body)) this.#push(body);
    else if (body) for (const b of body) this.#push(b);
    if (onWritten) this.#written.push(onWritten);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #push(b: Buffer): void {
    if (b.length === 0) return;
    this.#pending.push(b);
    this.#bytes += b.length;
  }

  #flush(): void {
    this.#scheduled = false;
    const out = this.#pending;
    const written = this.#written;
    const bytes = this.#bytes;
    this.#pending = [];
    this.#written = [];
    this.#bytes = 0;
    const done = callingAll(written);
    if (this.socket.destroyed || out.length === 0) {
      done?.();
      return;
    }
    if (out.length === 1 || (bytes <= copyBelowBytes && !done)) {
      this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out, bytes), done);
    } else {
      this.socket.cork();
      for (let i = 0; i < out.length - 1; i++) this.socket.write(out[i]);
      // Writes complete in order: the last one's callback means every buffer was taken.
      this.socket.write(out[out.length - 1], done);
      this.socket.uncork();
    }
    if (this.socket.writableLength > this.maxQueuedBytes) {
      this.socket.destroy(new ArcaError('Internal', `the peer left ${this.socket.writableLength} bytes unread (it stopped reading)`));
    }
  }
}

/**
 * Bytes a frame connection may hold unsent before its peer counts as stuck. Nothing bounds what is queued
 * but the requests in flight (bodies up to 64 KiB one way, 256 KiB and listing pages the other), so this is
 * a backstop against a peer that stopped reading, not flow control.
 */
const stuckPeerBytes = 64 * 1024 * 1024;

/** One callback that calls each of `callbacks` in turn; undefined when there are none. */
export function callingAll(callbacks: readonly (() => void)[]): (() => void) | undefined {
  if (callbacks.length === 0) return undefined;
  return () => {
    for (const c of callbacks) c();
  };
}

/** Batches up to this size are copied into one buffer (cheaper than a writev of many small ones). */
const copyBelowBytes = 64 * 1024;

/** What a frame request answers. */
export interface FrameReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Thrown when a node does not speak frames (it answered the upgrade with something else than 101). */
class FramesRefused extends Error {}

interface Waiting {
  resolve: (reply: FrameReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One node's framed connection, opened on first use and again after it broke: requests sent while it
 * connects wait for it. A request that gets no reply in `nodeTimeoutMs` fails with ArcaError `Timeout`;
 * when the connection breaks, every request in flight on it fails.
 */
export class FrameConnection {
  #socket: Socket | undefined;
  #writer: FrameWriter | undefined;
  #opening: Promise<void> | undefined;
  #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #closed = false;
  /** Asked since the owning client's last sweep of unused connections (FrameClient). */
  asked = false;

  constructor(
    private readonly ip: string,
    private readonly port: number,
    private readonly opts: { connTimeoutMs: number; nodeTimeoutMs: number },
  ) {}

  request(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<FrameReply> {
    if (this.#writer) return this.#send(method, path, headers, body);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening.then(() => this.#send(method, path, headers, body));
  }

  /** Ends the connection; requests in flight fail. */
  close(): void {
    this.#closed = true;
    this.#socket?.destroy();
  }

  /** Whether no request is in flight or waiting for the connection to open. */
  get idle(): boolean {
    return this.#waiting.size === 0 && this.#opening === undefined;
  }

  #send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<FrameReply> {
    const writer = this.#writer;
    if (!writer) return Promise.reject(new ArcaError('Internal', `node ${this.ip}:${this.port} closed the connection`));
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return new Promise<FrameReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new ArcaError('Timeout', `node ${this.ip}:${this.port} silent for ${this.opts.nodeTimeoutMs} ms`));
      }, this.opts.nodeTimeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
      writer.send(encodeFrameHead(id, [method, path, headers], body?.length ?? 0), body);
    });
  }

  #open(): Promise<void> {
    if (this.#closed) return Promise.reject(new ArcaError('Internal', 'frame connection closed'));
    return new Promise<void>((resolve, reject) => {
      const req = http.request({
        host: this.ip,
        port: this.port,
        method: 'GET',
        path: framesPath,
        headers: { connection: 'Upgrade', upgrade: framesUpgrade },
        agent: false,
      });
      const timer = setTimeout(() => {
        req.destroy(new ArcaError('Timeout', `node ${this.ip}:${this.port} did not take a frame connection in ${this.opts.connTimeoutMs} ms`));
      }, this.opts.connTimeoutMs);
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.once('response', (res) => {
        clearTimeout(timer);
        res.resume();
        req.destroy();
        reject(new FramesRefused(`node ${this.ip}:${this.port} answered ${res.statusCode} to the frames upgrade`));
      });
      // node:http emits 'upgrade' for a 101 only; any other answer is a 'response' (above).
      req.once('upgrade', (_res, socket, head) => {
        clearTimeout(timer);
        this.#attach(socket);
        if (head.length > 0) this.#onData(head);
        resolve();
      });
      req.end();
    });
  }

  #attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const decoder = new FrameDecoder();
    this.#socket = socket;
    this.#writer = new FrameWriter(socket);
    this.#onData = (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const f of frames) {
        if (!this.#reply(f)) {
          socket.destroy();
          return;
        }
      }
    };
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
    socket.once('close', () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.#writer = undefined;
      }
      const err = new ArcaError('Internal', `node ${this.ip}:${this.port} closed the connection`);
      for (const w of this.#waiting.values()) {
        clearTimeout(w.timer);
        w.reject(err);
      }
      this.#waiting.clear();
    });
  }

  #onData: (chunk: Buffer) => void = () => {};

  /** Settles the request a reply answers; false when the reply is not one (a protocol error). */
  #reply(f: Frame): boolean {
    const [status, headers] = Array.isArray(f.head) ? (f.head as unknown[]) : [];
    if (typeof status !== 'number' || typeof headers !== 'object' || headers === null) return false;
    const w = this.#waiting.get(f.id);
    if (!w) return true; // timed out already
    this.#waiting.delete(f.id);
    clearTimeout(w.timer);
    if (status === 0) w.reject(new ArcaError('Internal', `node ${this.ip}:${this.port} broke off the request`));
    else w.resolve({ status, headers: headers as IncomingHttpHeaders, body: f.body });
    return true;
  }
}

/** How long a node that refused the frames upgrade is asked over HTTP alone before it is offered frames again. */
const framesRetryMs = 60_000;

/** How often a client closes the connections to nodes it did not ask since the last time (`FrameClient`). */
const frameIdleMs = 60_000;

/**
 * Framed connections to many nodes, one each, made on first use and closed once a node was not asked for a
 * minute (`frameIdleMs`; a node taken out of the ring). `request` resolves to undefined when the
 * node does not take frames (an older version): the caller asks it over HTTP, and does for a minute before
 * frames are offered to it again. Every other failure is the request's.
 */
export class FrameClient {
  readonly #connections = new Map<string, FrameConnection>();
  readonly #httpOnly = new Map<string, number>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(private readonly opts: { connTimeoutMs: number; nodeTimeoutMs: number; idleMs?: number }) {
    this.#sweeper = setInterval(() => this.#sweep(), opts.idleMs ?? frameIdleMs);
    this.#sweeper.unref();
  }

  async request(ip: string, port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<FrameReply | undefined> {
    const key = `${ip}:${port}`;
    const until = this.#httpOnly.get(key);
    if (until !== undefined) {
      if (performance.now() < until) return undefined;
      this.#httpOnly.delete(key);
    }
    let c = this.#connections.get(key);
    if (!c) {
      c = new FrameConnection(ip, port, this.opts);
      this.#connections.set(key, c);
    }
    c.asked = true;
    try {
      return await c.request(method, path, headers, body);
    } catch (err) {
      if (!(err instanceof FramesRefused)) throw err;
      this.#httpOnly.set(key, performance.now() + framesRetryMs);
      return undefined;
    }
  }

  /** Ends every connection; requests in flight fail. */
  close(): void {
    clearInterval(this.#sweeper);
    for (const c of this.#connections.values()) c.close();
    this.#connections.clear();
  }

  /**
   * Closes the connections to nodes not asked for a whole sweep interval that have nothing in flight: a node
   * taken out of the ring (or one that a proxy seldom needs) does not keep one open for ever.
   */
  #sweep(): void {
    for (const [key, c] of this.#connections) {
      const asked = c.asked;
      c.asked = false;
      if (asked || !c.idle) continue;
      c.close();
      this.#connections.delete(key);
    }
  }
}
