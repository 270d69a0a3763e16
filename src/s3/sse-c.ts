/**
 * Server-side encryption with customer-provided keys (SSE-C):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
 *
 * - The proxy encrypts with AES-256-CTR as the bytes stream through, under the client's key and a random
 *   128-bit IV per stored object (per part for multipart uploads). CTR keeps sizes and byte offsets, so any
 *   range of the ciphertext decrypts on its own: ranges and `partNumber` reads work unchanged.
 * - The key is never stored. What is stored (`meta.sse`) is a random salt and HMAC-SHA256(salt, key), which is
 *   enough to tell whether a later request brings the same key, and the IV.
 * - The ETag of an SSE-C object is not the MD5 of its plaintext (as on AWS): it is the first 16 bytes, in hex,
 *   of HMAC-SHA256(key, "etag:" + plaintext MD5). It is stable for the same content and key, reveals nothing
 *   about the content to anyone without the key, and still has the form of an MD5, so multipart ETags
 *   combine as usual.
 */
import { type Cipher, createCipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { PutFinish } from '../proxy/object-store.js';
import { S3Error } from './errors.js';
import { relay } from './relay.js';

const headerPrefix = 'x-amz-server-side-encryption-customer-';
const copyHeaderPrefix = 'x-amz-copy-source-server-side-encryption-customer-';

/** A key a request supplied, checked against its MD5. */
export interface CustomerKey {
  key: Buffer;
  /** base64 MD5 of the key, as the client sent it (echoed in responses). */
  keyMd5: string;
}

/** What an encrypted object keeps: enough to recognise the key, never the key. */
export interface StoredSse {
  algorithm: 'AES256';
  /** base64 random salt. */
  salt: string;
  /** base64 HMAC-SHA256(salt, key). */
  keyHmac: string;
  /** base64 IV of the object's bytes (absent on a multipart object: each segment carries its own). */
  iv?: string;
}

/** One encrypted stretch of an object: a single object is one, a multipart object has one per part. */
export interface EncryptedSegment {
  size: number;
  iv: Buffer;
}

function invalidArgument(message: string, name: string): S3Error {
  return new S3Error('InvalidArgument', { message, extra: { ArgumentName: name } });
}

/**
 * The customer key of a request (`copySource`: the `x-amz-copy-source-server-side-encryption-customer-*`
 * headers), or undefined when it names none. Errors are AWS's.
 */
export function customerKey(headers: Record<string, string | string[] | undefined>, copySource = false): CustomerKey | undefined {
  const prefix = copySource ? copyHeaderPrefix : headerPrefix;
  const algorithm = headers[`${prefix}algorithm`] as string | undefined;
  const key = headers[`${prefix}key`] as string | undefined;
  const keyMd5 = headers[`${prefix}key-md5`] as string | undefined;
  if (algorithm === undefined && key === undefined && keyMd5 === undefined) return undefined;
  if (algorithm === undefined) {
    throw invalidArgument('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', `${prefix}algorithm`);
  }
  if (algorithm !== 'AES256') throw new S3Error('InvalidEncryptionAlgorithmError', { extra: { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm } });
  if (key === undefined) {
    throw invalidArgument('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', `${prefix}key`);
  }
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== key) throw invalidArgument('The secret key was invalid for the specified algorithm.', `${prefix}key`);
  if (keyMd5 === undefined) {
    throw invalidArgument(
      'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
      `${prefix}key-MD5`,
    );
  }
  if (createHash('md5').update(raw).digest('base64') !== keyMd5) {
    throw invalidArgument('The calculated MD5 hash of the key did not match the hash that was provided.', `${prefix}key-MD5`);
  }
  return { key: raw, keyMd5 };
}

/** Refuses SSE-S3 and SSE-KMS requests: Arca does not encrypt with keys of its own (yet). */
export function refuseManagedEncryption(headers: Record<string, string | string[] | undefined>): void {
  if (headers['x-amz-server-side-encryption'] !== undefined || headers['x-amz-server-side-encryption-aws-kms-key-id'] !== undefined) {
    throw new S3Error('NotImplemented', { message: 'Server-side encryption with Arca-managed keys is not implemented; use SSE-C.' });
  }
}

function hmac(salt: Buffer, key: Buffer): Buffer {
  return createHmac('sha256', salt).update(key).digest();
}

/** A new seal for `ck` (fresh salt); the IV is added by whatever writes the bytes. */
export function sealFor(ck: CustomerKey): StoredSse {
  const salt = randomBytes(16);
  return { algorithm: 'AES256', salt: salt.toString('base64'), keyHmac: hmac(salt, ck.key).toString('base64') };
}

/** True when `ck` is the key `stored` was sealed with. */
export function keyMatches(stored: StoredSse, ck: CustomerKey): boolean {
  const expected = Buffer.from(stored.keyHmac, 'base64');
  const actual = hmac(Buffer.from(stored.salt, 'base64'), ck.key);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Checks the key a read (GET, HEAD, copy source) brings against what the object was stored with: none for a
 * plain object, the same one for an encrypted object.
 */
export function requireKey(stored: StoredSse | undefined, ck: CustomerKey | undefined): void {
  if (!stored) {
    if (ck) throw new S3Error('InvalidRequest', { message: 'The encryption parameters are not applicable to this object.' });
    return;
  }
  if (!ck) {
    throw new S3Error('InvalidRequest', {
      message: 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    });
  }
  if (!keyMatches(stored, ck)) throw new S3Error('AccessDenied');
}

/** The response headers that confirm SSE-C. */
export function sseHeaders(ck: CustomerKey | undefined): Record<string, string> {
  if (!ck) return {};
  return { [`${headerPrefix}algorithm`]: 'AES256', [`${headerPrefix}key-md5`]: ck.keyMd5 };
}

/** The ETag of SSE-C content whose plaintext MD5 is `md5Hex` (see the module comment). */
export function sseEtag(key: Buffer, md5Hex: string): string {
  return createHmac('sha256', key).update(`etag:${md5Hex}`).digest().subarray(0, 16).toString('hex');
}

/** `iv` advanced by `blocks` AES blocks (a 128-bit big-endian add, as CTR mode counts). */
function ivAt(iv: Buffer, blocks: number): Buffer {
  const out = Buffer.from(iv);
  let carry = BigInt(blocks);
  for (let i = 15; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(out[i]) + (carry & 0xffn);
    out[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return out;
}

/** An AES-256-CTR cipher positioned at byte `offset` of a stream encrypted from `iv`. */
function ctrAt(key: Buffer, iv: Buffer, offset: number): Cipher {
  const cipher = createCipheriv('aes-256-ctr', key, ivAt(iv, Math.floor(offset / 16)));
  const skip = offset % 16;
  if (skip) cipher.update(Buffer.alloc(skip));
  return cipher;
}

/**
 * Encrypts an upload's bytes as they stream: returns the ciphertext stream and the finish step that replaces
 * the ETag and records the seal with the IV.
 */
export function encryptUpload(body: Readable, ck: CustomerKey, seal: StoredSse): { body: Readable; finish(f: PutFinish): PutFinish } {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', ck.key, iv);
  relay(body, cipher);
  return {
    body: cipher,
    finish: (f) => ({ ...f, etag: sseEtag(ck.key, f.etag), meta: { ...f.meta, sse: { ...seal, iv: iv.toString('base64') } } }),
  };
}

/**
 * Decrypts ciphertext that starts at byte `start` of an object made of `segments` (each encrypted from its
 * own IV, counting from its own first byte).
 */
export class SegmentDecipher extends Transform {
  #index = 0;
  #segStart = 0;
  #pos: number;
  #cipher: Cipher | undefined;

  constructor(
    private readonly key: Buffer,
    private readonly segments: readonly EncryptedSegment[],
    start: number,
  ) {
    super();
    this.#pos = start;
    this.#seek();
  }

  /** Moves to the segment holding `#pos` and positions its cipher there. */
  #seek(): void {
    while (this.#index < this.segments.length && this.#segStart + this.segments[this.#index].size <= this.#pos) {
      this.#segStart += this.segments[this.#index].size;
      this.#index++;
    }
    const seg = this.segments[this.#index];
    this.#cipher = seg && ctrAt(this.key, seg.iv, this.#pos - this.#segStart);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      const seg = this.segments[this.#index];
      if (!seg || !this.#cipher) {
        cb(new Error('ciphertext runs past the last encrypted segment'));
        return;
      }
      const n = Math.min(chunk.length - at, this.#segStart + seg.size - this.#pos);
      this.push(this.#cipher.update(chunk.subarray(at, at + n)));
      at += n;
      this.#pos += n;
      if (this.#pos === this.#segStart + seg.size) this.#seek();
    }
    cb();
  }
}

/** Checks the key of a part request (UploadPart, UploadPartCopy) against the upload's seal. */
export function requireUploadKey(seal: StoredSse | undefined, ck: CustomerKey | undefined): void {
  if (seal && !ck) {
    throw new S3Error('InvalidRequest', {
      message: 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    });
  }
  if (!seal && ck) {
    throw new S3Error('InvalidRequest', {
      message: 'The multipart upload initiate did not request encryption. Subsequent part requests must not include encryption parameters.',
    });
  }
  if (seal && ck && !keyMatches(seal, ck)) {
    throw new S3Error('InvalidRequest', { message: 'The provided encryption parameters did not match the ones used originally.' });
  }
}
