/**
 * A streaming `multipart/form-data` reader for PostObject (RFC 7578): the text fields before the file are
 * read whole (within limits), then the `file` part is handed over as a stream that yields its bytes as they
 * arrive — never buffered whole. Fields after the file are ignored, as S3 does.
 *
 * The body is `preamble CRLF? --B CRLF headers CRLF CRLF value CRLF --B … CRLF --B-- epilogue`. The reader
 * keeps one buffer; while streaming the file it holds back only the last `|CRLF--B| - 1` bytes, the most
 * that can be the start of a delimiter split across two chunks.
 */
import { Readable } from 'node:stream';
import { S3Error } from './errors.js';

export interface FormField {
  /** As sent (S3 compares field names case-insensitively). */
  name: string;
  value: string;
}

export interface FormFile {
  filename: string;
  contentType?: string;
  /** The file's bytes; reading it to the end also consumes the rest of the form. */
  body: Readable;
}

export interface ParsedForm {
  fields: FormField[];
  /** The `file` part, or undefined when the form has none. */
  file?: FormFile;
}

export interface FormLimits {
  /** Largest total of field names and values before the file (S3: 20 KB). */
  maxFieldBytes: number;
  /** Most bytes read and discarded after the file (the closing delimiter and ignored fields). */
  maxEpilogueBytes: number;
}

const defaultLimits: FormLimits = { maxFieldBytes: 20 * 1024, maxEpilogueBytes: 1024 * 1024 };
/** Largest header block of one part. */
const maxPartHeaderBytes = 8 * 1024;

function malformed(): S3Error {
  return new S3Error('MalformedPOSTRequest');
}

/** The boundary of a `multipart/form-data` Content-Type. */
export function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/form-data\b(.*)$/is.exec(contentType?.trim() ?? '');
  if (!m) throw new S3Error('RequestIsNotMultiPartContent');
  const b = /(?:^|;)\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(m[1]);
  const boundary = b?.[1] ?? b?.[2];
  if (!boundary || boundary.length > 200) throw malformed();
  return boundary;
}

/** Parameters of a `Content-Disposition: form-data; name="…"; filename="…"` header. */
function dispositionParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.matchAll(/;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)) {
    let v = m[2].trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    const name = m[1].toLowerCase();
    if (name === 'filename*') {
      const ext = /^([\w-]+)''(.*)$/.exec(v);
      if (ext) {
        try {
          out.filename = decodeURIComponent(ext[2]);
        } catch {
          // keep the plain filename, if any
        }
      }
      continue;
    }
    if (!(name in out)) out[name] = v;
  }
  return out;
}

class Reader {
  buf: Buffer;
  private eof = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
    // A leading CRLF makes the first delimiter look like every other one.
    this.buf = Buffer.from('\r\n');
  }

  /** Reads one more chunk; false at the end of the body. */
  async more(): Promise<boolean> {
    if (this.eof) return false;
    const r = await this.it.next();
    if (r.done) {
      this.eof = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }

  /** Index of `needle` in the buffer, reading on as needed; throws when `limit` bytes pass without it. */
  async find(needle: Buffer, limit: number, onLimit: () => S3Error = malformed): Promise<number> {
    let from = 0;
    for (;;) {
      const at = this.buf.indexOf(needle, from);
      if (at >= 0) {
        if (at > limit) throw onLimit();
        return at;
      }
      if (this.buf.length > limit) throw onLimit();
      from = Math.max(0, this.buf.length - needle.length + 1);
      if (!(await this.more())) throw malformed();
    }
  }

  /** Ensures at least `n` buffered bytes; false when the body ends first. */
  async atLeast(n: number): Promise<boolean> {
    while (this.buf.length < n) if (!(await this.more())) return false;
    return true;
  }

  /** Reads and drops the rest of the body, up to `limit` bytes; false when more remained. */
  async drain(limit: number): Promise<boolean> {
    let seen = this.buf.length;
    this.buf = Buffer.alloc(0);
    while (seen <= limit) {
      if (!(await this.more())) return true;
      seen += this.buf.length;
      this.buf = Buffer.alloc(0);
    }
    return false;
  }
}

/**
 * Reads the fields of a form up to its `file` part. The file's body must be consumed (or destroyed) by the
 * caller; `leftover()` then tells whether unread bytes remained after the form (the connection should close).
 */
export async function readForm(source: AsyncIterable<Buffer>, boundary: string, limits: Partial<FormLimits> = {}): Promise<ParsedForm & { leftover(): boolean }> {
  const { maxFieldBytes, maxEpilogueBytes } = { ...defaultLimits, ...limits };
  const delim = Buffer.from(`\r\n--${boundary}`);
  const r = new Reader(source);
  const fields: FormField[] = [];
  let fieldBytes = 0;
  let leftover = false;
  const tooLarge = () => new S3Error('MaxPostPreDataLengthExceededError');
  // Preamble: anything up to the first delimiter.
  let at = await r.find(delim, 64 * 1024);
  r.buf = r.buf.subarray(at + delim.length);
  for (;;) {
    if (!(await r.atLeast(2))) throw malformed();
    if (r.buf[0] === 0x2d && r.buf[1] === 0x2d) {
      // The closing delimiter: a form without a file.
      return { fields, leftover: () => false };
    }
    // Transport padding, then the CRLF that ends the delimiter line.
    at = await r.find(Buffer.from('\r\n'), 256);
    if (r.buf.subarray(0, at).toString('latin1').trim() !== '') throw malformed();
    r.buf = r.buf.subarray(at + 2);
    at = await r.find(Buffer.from('\r\n\r\n'), maxPartHeaderBytes);
    const headers: Record<string, string> = {};
    for (const line of r.buf.subarray(0, at).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed();
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    r.buf = r.buf.subarray(at + 4);
    const disposition = headers['content-disposition'];
    if (!disposition || !/^form-data\b/i.test(disposition)) throw malformed();
    const params = dispositionParams(disposition);
    const name = params.name;
    if (name === undefined) throw malformed();
    if (name.toLowerCase() === 'file') {
      async function* fileBytes(): AsyncGenerator<Buffer> {
        for (;;) {
          const end = r.buf.indexOf(delim);
          if (end >= 0) {
            if (end > 0) yield r.buf.subarray(0, end);
            r.buf = r.buf.subarray(end + delim.length);
            break;
          }
          const keep = delim.length - 1;
          if (r.buf.length > keep) {
            const out = r.buf.subarray(0, r.buf.length - keep);
            r.buf = r.buf.subarray(r.buf.length - keep);
            yield out;
          }
          if (!(await r.more())) throw malformed();
        }
        leftover = !(await r.drain(maxEpilogueBytes));
      }
      const file: FormFile = { filename: params.filename ?? '', contentType: headers['content-type'], body: Readable.from(fileBytes(), { objectMode: false }) };
      return { fields, file, leftover: () => leftover };
    }
    at = await r.find(delim, maxFieldBytes - fieldBytes, tooLarge);
    const value = r.buf.subarray(0, at).toString('utf8');
    fieldBytes += Buffer.byteLength(name) + at;
    if (fieldBytes > maxFieldBytes) throw tooLarge();
    fields.push({ name, value });
    r.buf = r.buf.subarray(at + delim.length);
  }
}
