/**
 * Keeps the few byte ranges of a stream that a format parser asks for, as the stream goes by once: the head
 * always, and any later region a parser learns it needs (a VMDK descriptor, a VHDX metadata table). A region
 * asked for after the stream has passed it is lost, and the parser says the image cannot be inspected.
 */

/** Bytes kept from the start of every stream (ISO 9660's signature is at 32769). */
export const HEAD_BYTES = 64 * 1024;
/** Most bytes a parser may ask to keep beyond the head. */
const MAX_REGION_BYTES = 1024 * 1024;

interface Region {
  offset: number;
  buf: Buffer;
  filled: number;
}

export class Capture {
  private readonly head = Buffer.alloc(HEAD_BYTES);
  private readonly regions: Region[] = [];
  private position = 0;
  private ended = false;

  /** Bytes seen so far. */
  get seen(): number {
    return this.position;
  }

  /** True once the stream has ended. */
  get done(): boolean {
    return this.ended;
  }

  feed(chunk: Buffer): void {
    const start = this.position;
    const end = start + chunk.length;
    if (start < HEAD_BYTES) chunk.copy(this.head, start, 0, Math.min(chunk.length, HEAD_BYTES - start));
    for (const r of this.regions) {
      const rEnd = r.offset + r.buf.length;
      if (rEnd <= start || r.offset >= end) continue;
      const from = Math.max(r.offset, start);
      const to = Math.min(rEnd, end);
      chunk.copy(r.buf, from - r.offset, from - start, to - start);
      r.filled += to - from;
    }
    this.position = end;
  }

  end(): void {
    this.ended = true;
  }

  /**
   * The bytes `[offset, offset+length)` if they have been seen and kept; otherwise asks to keep them and
   * returns `'wait'` (they are still to come) or `'lost'` (passed already, or past the end of a finished
   * stream, or too large a request).
   */
  need(offset: number, length: number): Buffer | 'wait' | 'lost' {
    if (length > MAX_REGION_BYTES || offset < 0) return 'lost';
    if (offset + length <= HEAD_BYTES) {
      if (offset + length <= this.position) return this.head.subarray(offset, offset + length);
      return this.ended ? 'lost' : 'wait';
    }
    const r = this.regions.find((x) => x.offset <= offset && offset + length <= x.offset + x.buf.length);
    if (r) {
      if (r.filled === r.buf.length) return r.buf.subarray(offset - r.offset, offset - r.offset + length);
      return this.ended ? 'lost' : 'wait';
    }
    if (offset < this.position || this.ended) return 'lost';
    this.regions.push({ offset, buf: Buffer.alloc(length), filled: 0 });
    return 'wait';
  }
}
