/**
 * Streaming digests computed once over an object's bytes at the proxy, before replication or erasure coding:
 * the S3 ETag (MD5) and `x-amz-checksum-*` values, Glance's `checksum` (MD5) and `os_hash_value` (SHA-512),
 * and the payload SHA-256 of SigV4. Also the multipart combinations S3 defines for checksums.
 *
 * Implementations are the fastest available here (DEPENDENCIES.md §2): `zlib.crc32` for CRC32,
 * `@node-rs/crc32` for CRC32C, `hash-wasm` for CRC64NVME, node:crypto for MD5 and the SHAs.
 *
 * S3 checksum values are base64 of the big-endian digest (4 bytes for the CRC32s, 8 for CRC64NVME):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import { createCRC64 } from 'hash-wasm';
import { type ThreadHashAlgorithm, ThreadHashes } from './hash-thread.js';

/** The checksum algorithms S3 clients send (`x-amz-checksum-*`, `x-amz-checksum-algorithm`). */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

/** The algorithms that are CRCs, the only ones with a FULL_OBJECT multipart checksum. */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

/** Every algorithm, in the order S3 documents them. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** Digest length in bytes of each algorithm, for validating a client-supplied base64 value. */
export const CHECKSUM_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/**
 * Which multipart checksum types S3 allows per algorithm (`x-amz-checksum-type`): CRC64NVME is FULL_OBJECT
 * only, the SHAs COMPOSITE only, the CRC32s either.
 */
export const CHECKSUM_TYPES: Readonly<Record<ChecksumAlgorithm, readonly ('COMPOSITE' | 'FULL_OBJECT')[]>> = {
  CRC32: ['COMPOSITE', 'FULL_OBJECT'],
  CRC32C: ['COMPOSITE', 'FULL_OBJECT'],
  CRC64NVME: ['FULL_OBJECT'],
  SHA1: ['COMPOSITE'],
  SHA256: ['COMPOSITE'],
};

/** `'CRC32'` → `'x-amz-checksum-crc32'`. */
export function checksumHeaderName(algo: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algo.toLowerCase()}`;
}

/** `'CRC32'` → `'ChecksumCRC32'`, the element name in CompleteMultipartUpload, ListParts, GetObjectAttributes. */
export function checksumXmlName(algo: ChecksumAlgorithm): string {
  return `Checksum${algo}`;
}

/**
 * The algorithm of a checksum header name (`x-amz-checksum-crc64nvme`, any case), or undefined for any other
 * name, including `x-amz-checksum-algorithm`, `-mode` and `-type`.
 */
export function checksumAlgorithmFromHeader(name: string): ChecksumAlgorithm | undefined {
  const lower = name.toLowerCase();
  if (!lower.startsWith('x-amz-checksum-')) return undefined;
  return parseChecksumAlgorithm(lower.slice('x-amz-checksum-'.length));
}

/**
 * The algorithm named by a header value such as `x-amz-checksum-algorithm: crc32` or
 * `x-amz-sdk-checksum-algorithm: CRC32` (case-insensitive), or undefined if it names none.
 */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

/** True when `b64` is canonical base64 of exactly the digest length of `algo` (what S3 accepts). */
export function isValidChecksum(algo: ChecksumAlgorithm, b64: string): boolean {
  const raw = Buffer.from(b64, 'base64');
  return raw.length === CHECKSUM_BYTES[algo] && raw.toString('base64') === b64;
}

// One CRC64 instance for the process; each Digester keeps its own 12-byte state and loads it around every
// update, because hash-wasm only creates instances asynchronously and Digester must be constructible
// synchronously. JavaScript runs one update at a time, so sharing is safe; the overhead is ~10 % (measured).
const crc64Shared = await createCRC64('9A6C9329AC4BC9B5');
crc64Shared.init();
const crc64Initial = crc64Shared.save();

/** What {@link Digester} should compute. */
export interface DigestOptions {
  md5?: boolean;
  sha256Hex?: boolean;
  sha512?: boolean;
  checksums?: readonly ChecksumAlgorithm[];
  /**
   * MD5 and the SHAs on the process's hash worker (hash-thread.ts), for large bodies: {@link Digester.update}
   * may then ask its caller to wait, and only {@link Digester.settle} gives the result.
   */
  offThread?: boolean;
}

/**
 * Bodies from this size up (and those of unknown length) are worth hashing on the hash worker (`offThread`), so
 * that the event loop only moves their bytes; below it a message round trip costs more than the hash.
 */
export const offThreadDigestBytes = 1024 * 1024;

let digestThread = false;

/** Whether this process hashes large bodies on the hash worker (the proxy's `hashOffThread`); off until set. */
export function useDigestThread(on: boolean): void {
  digestThread = on;
}

/** Whether a body of `length` bytes (undefined: not known yet) is hashed on the hash worker. */
export function digestOffThread(length: number | undefined): boolean {
  return digestThread && (length === undefined || length >= offThreadDigestBytes);
}

/** The digests of everything passed to {@link Digester.update}. */
export interface DigestResult {
  /** Number of bytes digested. */
  bytes: number;
  md5Hex?: string;
  md5Base64?: string;
  sha256Hex?: string;
  sha512Hex?: string;
  /** base64 of the big-endian digest, as S3 sends it in `x-amz-checksum-*`. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** The node:crypto hashes a {@link Digester} computes, in the order it keeps them. */
type CryptoHashes = Partial<Record<ThreadHashAlgorithm, Buffer>>;

/** Incremental digests over a byte stream; each hash runs only if asked for, SHA-256 once if asked twice. */
export class Digester {
  #bytes = 0;
  /** The node:crypto hashes, computed here (`#hashes`) or on the hash worker (`#thread`). */
  readonly #algorithms: ThreadHashAlgorithm[] = [];
  #hashes: Hash[] | undefined;
  #thread: ThreadHashes | undefined;
  #crc32: number | undefined;
  #crc32c: number | undefined;
  #crc64: Uint8Array | undefined;
  #result: DigestResult | undefined;
  readonly #opts: DigestOptions;

  constructor(opts: DigestOptions) {
    this.#opts = opts;
    const checksums = opts.checksums ?? [];
    if (opts.md5) this.#algorithms.push('md5');
    if (opts.sha256Hex || checksums.includes('SHA256')) this.#algorithms.push('sha256');
    if (opts.sha512) this.#algorithms.push('sha512');
    if (checksums.includes('SHA1')) this.#algorithms.push('sha1');
    if (opts.offThread && this.#algorithms.length > 0) this.#thread = new ThreadHashes(this.#algorithms);
    else this.#hashes = this.#algorithms.map((a) => createHash(a));
    if (checksums.includes('CRC32')) this.#crc32 = 0;
    if (checksums.includes('CRC32C')) this.#crc32c = 0;
    if (checksums.includes('CRC64NVME')) this.#crc64 = crc64Initial;
  }

  /**
   * Adds bytes. Throws after the result was taken. Off the thread, returns a promise when the hash worker is
   * behind: a caller that can wait should, before it gives more.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#result) throw new Error('Digester.update after digest');
    this.#bytes += chunk.length;
    if (this.#hashes) for (const h of this.#hashes) h.update(chunk);
    if (this.#crc32 !== undefined) this.#crc32 = zlibCrc32(chunk, this.#crc32);
    if (this.#crc32c !== undefined) this.#crc32c = crc32c(chunk, this.#crc32c);
    if (this.#crc64 !== undefined) this.#crc64 = crc64Shared.load(this.#crc64).update(chunk).save();
    return this.#thread?.update(chunk);
  }

  /** Finishes and returns the digests; later calls return the same result. Not for an `offThread` digester. */
  digest(): DigestResult {
    if (this.#result) return this.#result;
    if (this.#thread) throw new Error('Digester.digest: an offThread digester settles');
    return this.#finish(this.#hashes!.map((h) => h.digest()));
  }

  /** Finishes and resolves with the digests, wherever they were computed; later calls give the same result. */
  async settle(): Promise<DigestResult> {
    if (this.#result) return this.#result;
    if (!this.#thread) return this.digest();
    const digests = await this.#thread.digest();
    return this.#finish(digests);
  }

  #finish(digests: Buffer[]): DigestResult {
    const raw: CryptoHashes = {};
    for (const [i, a] of this.#algorithms.entries()) raw[a] = digests[i];
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
    const result: DigestResult = { bytes: this.#bytes, checksums };
    if (raw.md5) {
      result.md5Hex = raw.md5.toString('hex');
      result.md5Base64 = raw.md5.toString('base64');
    }
    if (raw.sha256) {
      if (this.#opts.sha256Hex) result.sha256Hex = raw.sha256.toString('hex');
      if (this.#opts.checksums?.includes('SHA256')) checksums.SHA256 = raw.sha256.toString('base64');
    }
    if (raw.sha512) result.sha512Hex = raw.sha512.toString('hex');
    if (raw.sha1) checksums.SHA1 = raw.sha1.toString('base64');
    if (this.#crc32 !== undefined) checksums.CRC32 = uint32Base64(this.#crc32);
    if (this.#crc32c !== undefined) checksums.CRC32C = uint32Base64(this.#crc32c);
    if (this.#crc64 !== undefined) {
      checksums.CRC64NVME = Buffer.from(crc64Shared.load(this.#crc64).digest('binary')).toString('base64');
    }
    this.#result = result;
    return result;
  }
}

/**
 * A transform's callback for `chunk`, called once the digester that returned `behind` from its update has
 * caught up (at once when it was not behind): a slow hash worker then slows the stream, not memory.
 */
export function passWhenCaughtUp(behind: Promise<void> | undefined, chunk: Buffer, cb: TransformCallback): void {
  if (behind) behind.then(() => cb(null, chunk), cb);
  else cb(null, chunk);
}

function uint32Base64(n: number): string {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64');
}

/** A pass-through stream that digests what flows through it; read {@link DigestStream.digest} after 'end'. */
export class DigestStream extends Transform {
  readonly digester: Digester;

  constructor(opts: DigestOptions) {
    super();
    this.digester = new Digester(opts);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    passWhenCaughtUp(this.digester.update(chunk), chunk, cb);
  }

  /** The digests; call once the stream has ended. */
  digest(): DigestResult {
    return this.digester.digest();
  }
}

/** A {@link DigestStream} computing `opts`. */
export function createDigestStream(opts: DigestOptions): DigestStream {
  return new DigestStream(opts);
}

/** One-shot S3 checksum (base64 big-endian) of `data`. */
export function computeChecksum(algo: ChecksumAlgorithm, data: Uint8Array): string {
  const d = new Digester({ checksums: [algo] });
  d.update(data);
  return d.digest().checksums[algo]!;
}

/**
 * The COMPOSITE multipart checksum: the checksum of the concatenated raw (decoded) part checksums, then `-N`,
 * as S3 reports it for CompleteMultipartUpload. `partChecksums` are base64 values in part order.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html#large-object-checksums
 */
export function compositeChecksum(algo: ChecksumAlgorithm, partChecksums: readonly string[]): string {
  const raw = Buffer.concat(partChecksums.map((c) => Buffer.from(c, 'base64')));
  return `${computeChecksum(algo, raw)}-${partChecksums.length}`;
}

/** The multipart ETag: hex MD5 of the concatenated binary part MD5s, then `-N` (no quotes). */
export function multipartEtag(partMd5Hex: readonly string[]): string {
  const md5 = createHash('md5');
  for (const h of partMd5Hex) md5.update(Buffer.from(h, 'hex'));
  return `${md5.digest('hex')}-${partMd5Hex.length}`;
}

// --- FULL_OBJECT: CRC combination -----------------------------------------------------------------------
//
// crc(A‖B) = crc(A)·x^(8·|B|) mod P  ⊕  crc(B) for CRCs whose init and xorout are all ones (all three here).
// This is zlib's crc32_combine (multmodp / x2nmodp) generalised to 64 bits: polynomials are in reflected
// form, held as two uint32 halves (hi, lo); for 32-bit CRCs hi stays 0.

interface CrcSpec {
  width: 32 | 64;
  polyHi: number;
  polyLo: number;
}

const CRC_SPECS: Record<CrcAlgorithm, CrcSpec> = {
  CRC32: { width: 32, polyHi: 0, polyLo: 0xedb88320 },
  CRC32C: { width: 32, polyHi: 0, polyLo: 0x82f63b78 },
  CRC64NVME: { width: 64, polyHi: 0x9a6c9329, polyLo: 0xac4bc9b5 },
};

type Poly = [hi: number, lo: number];

function multModP(spec: CrcSpec, a: Poly, b: Poly): Poly {
  let [bHi, bLo] = b;
  let pHi = 0;
  let pLo = 0;
  for (let i = spec.width - 1; i >= 0; i--) {
    const bit = i >= 32 ? (a[0] >>> (i - 32)) & 1 : (a[1] >>> i) & 1;
    if (bit) {
      pHi ^= bHi;
      pLo ^= bLo;
    }
    const carry = bLo & 1;
    bLo = ((bLo >>> 1) | ((bHi & 1) << 31)) >>> 0;
    bHi >>>= 1;
    if (carry) {
      bHi = (bHi ^ spec.polyHi) >>> 0;
      bLo = (bLo ^ spec.polyLo) >>> 0;
    }
  }
  return [pHi >>> 0, pLo >>> 0];
}

/** x^(len·8) mod P: the factor that shifts a CRC past `len` zero bytes. */
function shiftFactor(spec: CrcSpec, len: number): Poly {
  const one: Poly = spec.width === 64 ? [0x80000000, 0] : [0, 0x80000000];
  // square[k] = x^(2^k); start at x^1, which is `one` shifted one place towards the low end.
  let square: Poly = spec.width === 64 ? [0x40000000, 0] : [0, 0x40000000];
  for (let k = 0; k < 3; k++) square = multModP(spec, square, square); // x^8: one byte
  let p = one;
  let n = len;
  while (n > 0) {
    if (n % 2 === 1) p = multModP(spec, square, p);
    n = Math.floor(n / 2);
    if (n > 0) square = multModP(spec, square, square);
  }
  return p;
}

function polyFromBase64(spec: CrcSpec, b64: string): Poly {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== spec.width / 8) throw new RangeError(`checksum ${b64} is not ${spec.width / 8} bytes`);
  return spec.width === 64 ? [raw.readUInt32BE(0), raw.readUInt32BE(4)] : [0, raw.readUInt32BE(0)];
}

function polyToBase64(spec: CrcSpec, p: Poly): string {
  const raw = Buffer.allocUnsafe(spec.width / 8);
  if (spec.width === 64) {
    raw.writeUInt32BE(p[0], 0);
    raw.writeUInt32BE(p[1], 4);
  } else {
    raw.writeUInt32BE(p[1], 0);
  }
  return raw.toString('base64');
}

/**
 * The FULL_OBJECT checksum of a multipart object from its parts' CRCs and sizes: the CRC the whole object
 * would have, computed without reading it. Values are S3 base64; the result has no `-N` suffix.
 */
export function combineCrcChecksums(
  algo: CrcAlgorithm,
  parts: readonly { checksum: string; size: number }[],
): string {
  const spec = CRC_SPECS[algo];
  if (parts.length === 0) return computeChecksum(algo, Buffer.alloc(0));
  const factors = new Map<number, Poly>(); // parts mostly share one size
  let crc = polyFromBase64(spec, parts[0].checksum);
  for (let i = 1; i < parts.length; i++) {
    const { checksum, size } = parts[i];
    let f = factors.get(size);
    if (!f) factors.set(size, (f = shiftFactor(spec, size)));
    const shifted = multModP(spec, f, crc);
    const next = polyFromBase64(spec, checksum);
    crc = [(shifted[0] ^ next[0]) >>> 0, (shifted[1] ^ next[1]) >>> 0];
  }
  return polyToBase64(spec, crc);
}
