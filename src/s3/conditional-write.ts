/**
 * Conditional writes (PutObject, CompleteMultipartUpload, CopyObject's destination):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 *
 * `If-None-Match: *` succeeds only when the key holds no object; `If-Match: "etag"` only when it holds one
 * with that ETag (NoSuchKey when it holds none). Writers check twice: before the body is read (so a doomed
 * upload fails before sending gigabytes) and again once the body has ended, just before the write commits.
 * The race window is what remains between that second check and the commit on the storage nodes (one
 * round trip): two conditional writers inside it may both succeed, and the newer timestamp wins, as for
 * any two writes. A compare-and-swap on the nodes would close it; this is the documented gap.
 */
import type { BucketInfo, ObjectStore } from '../proxy/object-store.js';
import { S3Error } from './errors.js';

export interface WriteConditions {
  ifNoneMatch?: '*';
  /** The If-Match list as sent. */
  ifMatch?: string;
}

/** The write conditions of a request, or undefined when it has none. */
export function writeConditions(headers: Record<string, string | string[] | undefined>): WriteConditions | undefined {
  const ifNoneMatch = headers['if-none-match'] as string | undefined;
  const ifMatch = headers['if-match'] as string | undefined;
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', { message: 'A header you provided implies functionality that is not implemented', extra: { Header: 'If-None-Match' } });
  }
  return { ifNoneMatch: ifNoneMatch === undefined ? undefined : '*', ifMatch };
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^"|"$/g, '') === etag;
  });
}

/** Throws PreconditionFailed (or NoSuchKey for If-Match on nothing) unless `conditions` hold now. */
export async function checkWriteConditions(store: ObjectStore, bucket: BucketInfo, key: string, conditions: WriteConditions | undefined): Promise<void> {
  if (!conditions) return;
  const current = await store.headObject(bucket, key, { newest: true });
  if (conditions.ifNoneMatch && current) throw new S3Error('PreconditionFailed', { extra: { Condition: 'If-None-Match' } });
  if (conditions.ifMatch !== undefined) {
    if (!current) throw new S3Error('NoSuchKey', { extra: { Key: key } });
    if (!etagListMatches(conditions.ifMatch, current.etag)) throw new S3Error('PreconditionFailed', { extra: { Condition: 'If-Match' } });
  }
}
