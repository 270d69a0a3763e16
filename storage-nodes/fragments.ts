/**
 * Fragment checksums of EC fragment archives, the node's half of "never send a byte not verified": on a PUT
 * the node hashes every fragment it receives (XXH64 per fragment, kept with the file), and on a GET it reads
 * whole fragments, checks each against its checksum and only then sends it — a fragment that does not match
 * ends the response early (the reader takes another archive) instead of reaching the proxy.
 */
import type { Readable } from 'node:stream';
import { fragmentSize, segmentCount } from '../src/erasure/index.js';
import type { FragmentArchiveInfo, ObjectMeta } from '../src/common/wire.js';
import { createXxh64, type Xxh64Stream, xxh64Hex } from '../src/common/xxh64.js';

/** The `ec` field of an archive's metadata when it is well formed; undefined otherwise. */
export function archiveInfo(meta: Record<string, unknown>): FragmentArchiveInfo | undefined {
  const ec = meta.ec as FragmentArchiveInfo | undefined;
  if (typeof ec !== 'object' || ec === null) return undefined;
  const ints = [ec.k, ec.m, ec.segmentSize, ec.size, ec.frag];
  if (!ints.every((n) => Number.isSafeInteger(n) && n >= 0) || ec.k < 1 || ec.segmentSize < 1 || typeof ec.scheme !== 'string') return undefined;
  return ec;
}

/** The coding layout (k, segment size) of an archive's `ec` field, known before its body: enough to cut it in fragments. */
export function archiveLayout(meta: Record<string, unknown>): { k: number; segmentSize: number } | undefined {
  const ec = meta.ec as Partial<FragmentArchiveInfo> | undefined;
  if (typeof ec !== 'object' || ec === null) return undefined;
  const { k, segmentSize } = ec;
  if (!Number.isSafeInteger(k) || !Number.isSafeInteger(segmentSize) || (k as number) < 1 || (k as number) > 64 || (segmentSize as number) < 1) return undefined;
  return { k: k as number, segmentSize: segmentSize as number };
}

/** Bytes of every fragment but the last in archives of this layout. */
export function fullFragmentSize(ec: Pick<FragmentArchiveInfo, 'k' | 'segmentSize'>): number {
  return fragmentSize(ec.segmentSize, ec.k);
}

/** How many fragments an archive with this metadata holds (0 when it is not an archive). */
export function fragmentCount(meta: ObjectMeta): number {
  const ec = archiveInfo(meta);
  return ec ? segmentCount(ec.size, ec.segmentSize) : 0;
}

/** Hashes a fragment archive as it streams in, one XXH64 per `fragmentBytes` (the last may be shorter). */
export class FragmentHasher {
  readonly #digests: string[] = [];
  #current: Xxh64Stream | undefined;
  #filled = 0;

  constructor(private readonly fragmentBytes: number) {}

  update(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(this.fragmentBytes - this.#filled, chunk.length - at);
      this.#current ??= createXxh64();
      this.#current.update(chunk.subarray(at, at + take));
      this.#filled += take;
      at += take;
      if (this.#filled === this.fragmentBytes) this.#close();
    }
  }

  /** The checksums of every fragment seen (ends the last, short one). */
  digests(): string[] {
    if (this.#filled > 0) this.#close();
    return this.#digests;
  }

  #close(): void {
    this.#digests.push(this.#current!.digestHex());
    this.#current = undefined;
    this.#filled = 0;
  }
}

/** A fragment whose bytes do not match their checksum. */
export class FragmentMismatchError extends Error {
  readonly code = 'FragmentMismatch';
}

/**
 * The archive bytes [start, end] (inclusive) to send, verified: reads the whole fragments covering the range
 * (the caller opens `body` over exactly `alignedRange(...)`), checks each against its checksum, and yields
 * the part of it inside the range. Throws FragmentMismatchError at the first fragment that does not match,
 * before yielding any of its bytes.
 */
export async function* verifiedFragments(
  body: Buffer | Readable,
  fragmentBytes: number,
  archiveSize: number,
  checksums: readonly string[],
  range: { start: number; end: number },
): AsyncGenerator<Buffer> {
  const aligned = alignedRange(fragmentBytes, archiveSize, range);
  let index = Math.floor(aligned.start / fragmentBytes);
  let offset = aligned.start;
  const check = (fragment: Buffer): Buffer => {
    if (xxh64Hex(fragment) !== checksums[index]) {
      throw new FragmentMismatchError(`fragment ${index} (bytes ${offset}-${offset + fragment.length - 1}) does not match its checksum`);
    }
    const from = Math.max(range.start, offset) - offset;
    const to = Math.min(range.end, offset + fragment.length - 1) - offset + 1;
    index++;
    offset += fragment.length;
    return fragment.subarray(from, to);
  };
  const lengthAt = (off: number) => Math.min(fragmentBytes, archiveSize - off);
  if (Buffer.isBuffer(body)) {
    for (let at = 0; offset <= aligned.end; ) {
      const len = lengthAt(offset);
      const piece = check(body.subarray(at, at + len));
      at += len;
      if (piece.length > 0) yield piece;
    }
    return;
  }
  let parts: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      let c = chunk;
      while (c.length > 0) {
        const need = lengthAt(offset) - have;
        const take = c.subarray(0, need);
        parts.push(take);
        have += take.length;
        c = c.subarray(take.length);
        if (have === lengthAt(offset)) {
          const fragment = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
          parts = [];
          have = 0;
          const piece = check(fragment);
          if (piece.length > 0) yield piece;
        }
      }
    }
  } finally {
    body.destroy();
  }
  if (offset <= aligned.end) throw new FragmentMismatchError(`archive ended at byte ${offset}, before byte ${aligned.end}`);
}

/** The whole fragments covering [start, end] of an archive: what to read to verify that range. */
export function alignedRange(fragmentBytes: number, archiveSize: number, range: { start: number; end: number }): { start: number; end: number } {
  const start = Math.floor(range.start / fragmentBytes) * fragmentBytes;
  const end = Math.min(archiveSize, (Math.floor(range.end / fragmentBytes) + 1) * fragmentBytes) - 1;
  return { start, end };
}
