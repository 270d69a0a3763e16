/**
 * The metadata a new object takes from the request that writes it (PutObject, CreateMultipartUpload,
 * CopyObject with REPLACE, PostObject): Content-Type, the stored content headers, `x-amz-meta-*`, the tag set
 * of `x-amz-tagging`, and who may access it.
 *
 * ACL headers (`x-amz-acl`, `x-amz-grant-*`) are kept verbatim as `meta.aclHeaders`, and the writer's
 * account as `meta.owner` when it is not the bucket owner's: the access-control layer
 * (access/object-acl.ts) works the object's ACL out from them, so every way of writing an object hands them
 * over the same way.
 */
import type { BucketInfo } from '../proxy/object-store.js';
import { ownerMeta } from './access/object-acl.js';
import type { S3Request } from './context.js';
import { taggingHeader } from './tagging.js';
import { uploadHeaders } from './upload.js';

const aclHeaderNames = ['x-amz-acl', 'x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control'];

/** The ACL request headers present, or undefined when none is. */
export function aclHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of aclHeaderNames) {
    const v = headers[name];
    if (v !== undefined) (out ??= {})[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The access metadata of an object `account` writes into `bucket` with ACL headers `headers`. */
export function accessMeta(headers: Record<string, string | string[] | undefined>, account: string | undefined, bucket: BucketInfo): Record<string, unknown> {
  const acl = aclHeaders(headers);
  return { ...(acl ? { aclHeaders: acl } : {}), ...ownerMeta(account, bucket) };
}

/** Content-Type and the object metadata a write request into `bucket` sets. */
export function newObjectMeta(req: S3Request, bucket: BucketInfo): { contentType: string; meta: Record<string, unknown> } {
  const { contentType, meta } = uploadHeaders(req);
  const tags = taggingHeader(req.headers['x-amz-tagging']);
  if (tags?.length) meta.tags = tags;
  return { contentType, meta: { ...meta, ...accessMeta(req.headers, req.principal?.account, bucket) } };
}
