/**
 * Tag sets of objects and buckets: the `x-amz-tagging` header (URL-query encoded), the `<Tagging>` XML
 * document, and AWS's rules for them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html):
 * at most 10 tags on an object and 50 on a bucket, keys of 1–128 and values of 0–256 Unicode characters
 * made of letters, digits, spaces and `+ - = . _ : / @`, no key twice, no `aws:` prefix.
 *
 * Stored as `meta.tags` (objects) and the bucket setting `tags`: `[{ Key, Value }]` in the order given.
 */
import { S3Error } from './errors.js';
import { escapeXml, parseXml, S3_XMLNS } from './xml.js';

export interface Tag {
  Key: string;
  Value: string;
}

/** The most tags an object may carry. */
export const maxObjectTags = 10;
/** The most tags a bucket may carry. */
export const maxBucketTags = 50;

const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function invalidTag(message: string): S3Error {
  return new S3Error('InvalidTag', { message });
}

/** Checks a tag set against AWS's rules; `kind` picks the count limit. */
export function validateTags(tags: readonly Tag[], kind: 'object' | 'bucket'): void {
  const seen = new Set<string>();
  for (const { Key, Value } of tags) {
    const keyLength = [...Key].length;
    if (keyLength === 0 || keyLength > 128) throw invalidTag(keyLength === 0 ? 'The TagKey you have provided is invalid' : 'The TagKey you have provided is too long, max 128');
    if ([...Value].length > 256) throw invalidTag('The TagValue you have provided is too long, max 256');
    if (!allowed.test(Key)) throw invalidTag('The TagKey you have provided is invalid');
    if (!allowed.test(Value)) throw invalidTag('The TagValue you have provided is invalid');
    if (Key.startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
    if (seen.has(Key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(Key);
  }
  if (kind === 'object' && tags.length > maxObjectTags) throw new S3Error('BadRequest', { message: 'Object tags cannot be greater than 10' });
  if (kind === 'bucket' && tags.length > maxBucketTags) throw new S3Error('BadRequest', { message: 'Bucket tag count cannot be greater than 50' });
}

/** The tags of an `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded), validated; undefined without one. */
export function taggingHeader(value: string | string[] | undefined): Tag[] | undefined {
  if (value === undefined) return undefined;
  const raw = Array.isArray(value) ? value.join('&') : value;
  const tags: Tag[] = [];
  const keys = new Set<string>();
  for (const [Key, Value] of new URLSearchParams(raw)) {
    if (keys.has(Key)) {
      throw new S3Error('InvalidArgument', {
        message: "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        extra: { ArgumentName: 'x-amz-tagging', ArgumentValue: raw },
      });
    }
    keys.add(Key);
    tags.push({ Key, Value });
  }
  validateTags(tags, 'object');
  return tags;
}

/** Parses and validates a `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` body. */
export function parseTaggingXml(body: Buffer | string, kind: 'object' | 'bucket'): Tag[] {
  const root = parseXml(body);
  const set = root.name === 'Tagging' ? root.child('TagSet') : undefined;
  if (!set) throw new S3Error('MalformedXML');
  const tags: Tag[] = [];
  for (const el of set.children) {
    if (el.name !== 'Tag') throw new S3Error('MalformedXML');
    const Key = el.textOf('Key');
    if (Key === undefined) throw new S3Error('MalformedXML');
    tags.push({ Key, Value: el.textOf('Value') ?? '' });
  }
  validateTags(tags, kind);
  return tags;
}

/** The `<Tagging>` document of a tag set. */
export function taggingXml(tags: readonly Tag[]): string {
  let out = `<Tagging xmlns="${S3_XMLNS}"><TagSet>`;
  for (const t of tags) out += `<Tag><Key>${escapeXml(t.Key)}</Key><Value>${escapeXml(t.Value)}</Value></Tag>`;
  return `${out}</TagSet></Tagging>`;
}
