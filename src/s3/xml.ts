/**
 * XML for the S3 dialect: escaping for responses (built with template literals, the fast path measured in
 * DEPENDENCIES.md §1.8) and a strict, small-tree parser for request bodies (CompleteMultipartUpload,
 * DeleteObjects, tagging, ACLs…) on saxes.
 */
import { SaxesParser } from 'saxes';
import { S3Error } from './errors.js';

/** The prolog AWS puts before every XML body. */
export const XML_PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Namespace of S3 response documents, for the root element's `xmlns`. */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

// Characters that need work: the five markup characters, CR (XML end-of-line handling would turn a literal CR
// into LF, so AWS sends `&#13;`), characters XML 1.0 forbids, and surrogates (checked in the slow path).
const NEEDS_ESCAPE = /[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/;
const ILLEGAL_XML10 = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Escapes text for element content or attribute values in a response.
 *
 * - `& < > " '` become `&amp; &lt; &gt; &quot; &apos;`; CR becomes `&#13;` so it survives XML end-of-line
 *   normalisation, as AWS documents for object keys.
 * - Characters XML 1.0 forbids even as references (C0 controls other than TAB, LF, CR; U+FFFE; U+FFFF) are
 *   written as numeric character references (`&#x1;`), which is what S3 sends: lenient parsers recover the
 *   key, strict ones fail. Listings whose keys contain them should use `EncodingType=url`; see
 *   {@link hasXmlIllegalChars}.
 * - A lone surrogate (only possible in a string not decoded from UTF-8) becomes U+FFFD, which is what the
 *   UTF-8 encoder would send anyway.
 */
export function escapeXml(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    switch (c) {
      case 0x26:
        rep = '&amp;';
        break;
      case 0x3c:
        rep = '&lt;';
        break;
      case 0x3e:
        rep = '&gt;';
        break;
      case 0x22:
        rep = '&quot;';
        break;
      case 0x27:
        rep = '&apos;';
        break;
      case 0x0d:
        rep = '&#13;';
        break;
      default:
        if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0xfffe || c === 0xffff) {
          rep = `&#x${c.toString(16).toUpperCase()};`;
        } else if (c >= 0xd800 && c <= 0xdbff) {
          const next = s.charCodeAt(i + 1);
          if (next >= 0xdc00 && next <= 0xdfff) {
            i++; // a valid pair passes through untouched
            continue;
          }
          rep = '\ufffd';
        } else if (c >= 0xdc00 && c <= 0xdfff) {
          rep = '\ufffd';
        } else {
          continue;
        }
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return out + s.slice(last);
}

/** True when `s` holds a character XML 1.0 cannot carry, so a listing should switch to `EncodingType=url`. */
export function hasXmlIllegalChars(s: string): boolean {
  return ILLEGAL_XML10.test(s);
}

/**
 * `<name>escaped value</name>`, or `''` when the value is undefined, so optional fields drop out of a
 * template literal: `` `<Part>${xmlElement('ETag', etag)}${xmlElement('ChecksumCRC32', crc)}</Part>` ``.
 */
export function xmlElement(name: string, value: string | number | bigint | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${typeof value === 'string' ? escapeXml(value) : String(value)}</${name}>`;
}

/** One element of a parsed request body. Namespace prefixes are stripped from names; attributes are dropped. */
export class XmlElement {
  /** Direct text content, concatenated verbatim (entities and character references decoded, no trimming). */
  text = '';
  readonly children: XmlElement[] = [];

  constructor(readonly name: string) {}

  /** The first child element called `name`, if any. */
  child(name: string): XmlElement | undefined {
    for (const c of this.children) if (c.name === name) return c;
    return undefined;
  }

  /** All child elements called `name`, in document order. */
  childrenNamed(name: string): XmlElement[] {
    return this.children.filter((c) => c.name === name);
  }

  /** The text of the first child called `name`, or undefined when there is no such child. */
  textOf(name: string): string | undefined {
    return this.child(name)?.text;
  }
}

/** Limits for {@link parseXml}. */
export interface ParseXmlOptions {
  /** Largest accepted body in bytes (default 4 MiB: a 10,000-part CompleteMultipartUpload with checksums fits). */
  maxBytes?: number;
  /** Deepest accepted element nesting (default 32; S3 bodies need 4). */
  maxDepth?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(reason: string): S3Error {
  // The reason goes to the message: it helps a client developer and reveals nothing of the server.
  return new S3Error('MalformedXML', { message: `The XML you provided was not well-formed or did not validate against our published schema: ${reason}` });
}

/**
 * Parses a request body into an element tree and returns the root element.
 *
 * Strict XML 1.0 well-formedness (saxes), UTF-8 only (invalid UTF-8 is rejected, a BOM is skipped), any
 * DOCTYPE rejected (so no entity expansion of any kind), namespace prefixes stripped (`s3:Part` → `Part`),
 * attributes and comments ignored, CDATA kept as text, text kept verbatim: `"  007 "` stays a string with its
 * spaces, `&quot;`, `&#34;` and `&#x41;` decode. Anything malformed, too large or too deep throws
 * S3Error `MalformedXML`.
 */
export function parseXml(body: Buffer | string, opts: ParseXmlOptions = {}): XmlElement {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > maxBytes) throw malformed(`body larger than ${maxBytes} bytes`);
  let text: string;
  if (typeof body === 'string') {
    text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      throw malformed('body is not valid UTF-8');
    }
  }

  const parser = new SaxesParser({ position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const localName = (name: string) => {
    const colon = name.indexOf(':');
    return colon < 0 ? name : name.slice(colon + 1);
  };
  parser.on('doctype', () => {
    throw malformed('DOCTYPE is not allowed');
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= maxDepth) throw malformed(`elements nested deeper than ${maxDepth}`);
    const el = new XmlElement(localName(tag.name));
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('error', (err) => {
    throw malformed(err.message);
  });
  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof S3Error) throw err;
    throw malformed(err instanceof Error ? err.message : 'parse error');
  }
  if (!root) throw malformed('no root element');
  return root;
}
