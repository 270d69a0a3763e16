/**
 * The node's side of the framed protocol (src/common/frames.ts): a connection upgraded with
 * `Upgrade: arca-frames` carries whole requests, each handed to the same router as an HTTP request through a
 * small request and response of its own, and answered in one frame. The handlers cannot tell the two apart:
 * they read `method`, `url`, `headers` and the body, and answer with `writeHead`, `write` and `end`.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Duplex, Readable } from 'node:stream';
import { type Frame, FrameDecoder, FrameWriter, callingAll, encodeFrameHead, frameMaxHeader, frameTooLargeHeader, framesUpgrade, maxFrameBytes } from '../src/common/frames.js';

/** A framed request as the handlers see it: an IncomingMessage's fields, the body already whole. */
class FrameRequest extends Readable {
  readonly complete = true;
  readonly trailers: Record<string, string> = {};
  readonly httpVersion = '1.1';

  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
    body: Buffer,
    readonly socket: Socket,
  ) {
    super();
    if (body.length > 0) this.push(body);
    this.push(null);
  }

  override _read(): void {}
}

/**
 * A framed reply as the handlers see it: a ServerResponse's calls, the body gathered and sent whole when it
 * ends. `destroy()` before the end answers status 0 (the request broken off).
 */
class FrameResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  #headers: Record<string, string> = {};
  #chunks: Buffer[] = [];
  #size = 0;
  /** Callbacks of `write`: run once the socket took the frame (a caller frees its chunks then). */
  #written: (() => void)[] = [];

  constructor(
    private readonly id: number,
    private readonly writer: FrameWriter,
    private readonly maxBody: number,
    private readonly method: string,
  ) {
    super();
  }

  writeHead(status: number, headers: OutgoingHttpHeaders = {}): this {
    this.statusCode = status;
    this.headersSent = true;
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.#headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    // A body larger than the sender takes in a frame: the status and headers go alone, and it asks over HTTP.
    if (this.method === 'GET' && Number(this.#headers['content-length']) > this.maxBody) {
      this.#headers[frameTooLargeHeader] = '1';
      this.#finish([]);
    }
    return this;
  }

  /** Always true: the frame gathers the body, there is no drain to wait for (a caller checks `destroyed`). */
  write(chunk: Buffer | string, cb?: () => void): boolean {
    if (this.destroyed || this.writableEnded) return true;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#chunks.push(buf);
    this.#size += buf.length;
    if (cb) this.#written.push(cb);
    if (this.#size > maxFrameBytes) this.destroy();
    return true;
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.writableEnded) return this;
    if (chunk !== undefined) this.write(chunk);
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (this.destroyed || this.writableEnded) return this;
    this.#finish(this.#chunks);
    return this;
  }

  destroy(): this {
    if (this.destroyed || this.writableEnded) return this;
    this.destroyed = true;
    this.writer.send(encodeFrameHead(this.id, [0, {}], 0), undefined, this.#takeWritten());
    this.emit('close');
    return this;
  }

  #finish(body: readonly Buffer[]): void {
    this.writableEnded = true;
    // Handlers stop writing once this is set (what a client gone away looks like to them).
    if (this.#headers[frameTooLargeHeader]) this.destroyed = true;
    const length = body.reduce((n, b) => n + b.length, 0);
    // The chunks go out uncopied; a caller that asked to hear when they were sent hears it once the socket took them.
    this.writer.send(encodeFrameHead(this.id, [this.statusCode, this.#headers], length), body, this.#takeWritten());
    this.#chunks = [];
    this.emit('finish');
    this.emit('close');
  }

  #takeWritten(): (() => void) | undefined {
    const written = this.#written;
    this.#written = [];
    return callingAll(written);
  }
}

/** The framed connections a node serves, so that closing the node ends them too. */
export class FrameServer {
  #sockets = new Map<Socket, { inFlight: number }>();
  #closing = false;

  constructor(private readonly route: (req: IncomingMessage, res: ServerResponse) => void) {}

  /** Takes an HTTP upgrade request (the server's 'upgrade' event); refuses any protocol but frames. */
  upgrade(req: IncomingMessage, duplex: Duplex, head: Buffer): void {
    // node:http types it as a Duplex; a server's upgraded connection is its net.Socket.
    const socket = duplex as Socket;
    if (this.#closing || String(req.headers.upgrade).toLowerCase() !== framesUpgrade) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${framesUpgrade}\r\n\r\n`);
    this.#serve(socket, head);
  }

  /** Ends idle connections now and the others once their requests are answered (or when `destroy` is called). */
  close(): void {
    this.#closing = true;
    for (const [socket, state] of this.#sockets) if (state.inFlight === 0) socket.end();
  }

  destroy(): void {
    for (const socket of this.#sockets.keys()) socket.destroy();
  }

  #serve(socket: Socket, head: Buffer): void {
    socket.setTimeout(0);
    socket.setNoDelay(true);
    // A proxy that vanished without a FIN is found by TCP keep-alive.
    socket.setKeepAlive(true, 30_000);
    const state = { inFlight: 0 };
    this.#sockets.set(socket, state);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    const writer = new FrameWriter(socket);
    const decoder = new FrameDecoder();
    const onData = (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const f of frames) {
        const [method, url, rawHeaders] = Array.isArray(f.head) ? (f.head as unknown[]) : [];
        if (typeof method !== 'string' || typeof url !== 'string' || typeof rawHeaders !== 'object' || rawHeaders === null) {
          socket.destroy();
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(rawHeaders)) headers[k.toLowerCase()] = String(v);
        if (f.body.length > 0) headers['content-length'] = String(f.body.length);
        const max = Number(headers[frameMaxHeader]) || maxFrameBytes;
        const req = new FrameRequest(method, url, headers, f.body, socket);
        const res = new FrameResponse(f.id, writer, max, method);
        state.inFlight++;
        res.once('close', () => {
          state.inFlight--;
          if (this.#closing && state.inFlight === 0) socket.end();
        });
        this.route(req as unknown as IncomingMessage, res as unknown as ServerResponse);
      }
    };
    socket.on('data', onData);
    if (head.length > 0) onData(head);
  }
}
