/**
 * Hot image blocks kept in the proxy's memory, across clients: the first megabytes of an image (every VM boot
 * and every `qemu-img info` reads them) and any small read — how QEMU and nbdkit fetch qcow2 headers and L1/L2
 * tables. Blocks are 64 KiB, aligned (qcow2's default cluster size, so a table is one block), keyed by the
 * location's object and ETag, so a changed object never serves old bytes under its new ETag. Least recently
 * used blocks go first once `maxBytes` is held. Concurrent misses on one block share one storage read.
 */

export const BLOCK_SIZE = 64 * 1024;

export interface BlockCacheOptions {
  /** Bytes of blocks kept at most. */
  maxBytes: number;
  /** Reads ending below this offset are served from blocks (the head of every image). */
  headBytes: number;
  /** Reads of at most this many bytes are served from blocks anywhere in the image. */
  smallReadBytes: number;
}

/** Reads `[start, end]` (inclusive) of the object behind a cache key from storage. */
export type BlockReader = (start: number, end: number) => Promise<Buffer>;

export class BlockCache {
  /** Map order is recency order: a hit is re-inserted at the end. */
  private readonly blocks = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private readonly opts: BlockCacheOptions) {}

  /** Whether a read of `[start, end]` is one the cache serves. */
  serves(start: number, end: number): boolean {
    return this.opts.maxBytes > 0 && (end < this.opts.headBytes || end - start + 1 <= this.opts.smallReadBytes);
  }

  /** The bytes `[start, end]` of object `key` (of `size` bytes), from cached blocks, reading missing ones. */
  async read(key: string, size: number, start: number, end: number, reader: BlockReader): Promise<Buffer> {
    const first = Math.floor(start / BLOCK_SIZE);
    const last = Math.floor(end / BLOCK_SIZE);
    const parts = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.block(key, size, first + i, reader)));
    const whole = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    const from = start - first * BLOCK_SIZE;
    return whole.subarray(from, from + (end - start + 1));
  }

  private block(key: string, size: number, index: number, reader: BlockReader): Promise<Buffer> {
    const id = `${key}#${index}`;
    const hit = this.blocks.get(id);
    if (hit) {
      this.blocks.delete(id);
      this.blocks.set(id, hit);
      return Promise.resolve(hit);
    }
    let p = this.pending.get(id);
    if (!p) {
      const start = index * BLOCK_SIZE;
      p = reader(start, Math.min(start + BLOCK_SIZE, size) - 1).then((buf) => {
        this.insert(id, buf);
        return buf;
      });
      const settled = p.finally(() => this.pending.delete(id));
      settled.catch(() => undefined);
      this.pending.set(id, p);
    }
    return p;
  }

  private insert(id: string, buf: Buffer): void {
    if (this.blocks.has(id)) return;
    this.blocks.set(id, buf);
    this.bytes += buf.length;
    for (const [old, b] of this.blocks) {
      if (this.bytes <= this.opts.maxBytes) break;
      this.blocks.delete(old);
      this.bytes -= b.length;
    }
  }

  /** Bytes held (for tests and metrics). */
  get size(): number {
    return this.bytes;
  }
}
