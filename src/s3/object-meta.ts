/**
 * The metadata a new object takes from the request that writes it (PutObject, CreateMultipartUpload,
 * CopyObject with REPLACE, PostObject): Content-Type, the stored content headers, `x-amz-meta-*`, the tag set
 * of `x-amz-tagging`, and the ACL request headers.
 *
 * ACL headers (`x-amz-acl`, `x-amz-grant-*`) are kept verbatim as `meta.aclHeaders`: the access-control
 * layer reads them from there, so every way of writing an object hands them over the same way.
 */
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

/** Content-Type and the object metadata a write request sets. */
export function newObjectMeta(req: S3Request): { contentType: string; meta: Record<string, unknown> } {
  const { contentType, meta } = uploadHeaders(req);
  const tags = taggingHeader(req.headers['x-amz-tagging']);
  if (tags?.length) meta.tags = tags;
  const acl = aclHeaders(req.headers);
  if (acl) meta.aclHeaders = acl;
  return { contentType, meta };
}
