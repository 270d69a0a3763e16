/**
 * A PutObject through a put hook (compute.ts): the client's bytes are checked as sent (Content-MD5,
 * checksums, length), the hook sees them as they stream, and what is stored is the hook's output with its
 * own ETag — or, for a validating hook, the bytes as sent. Metadata the hook sets becomes user metadata.
 */
import type { PutFinish } from '../proxy/object-store.js';
import type { HookedUpload } from './compute.js';
import type { S3Request } from './context.js';
import type { PreparedUpload } from './upload.js';

/** The size the client declared for its body, when it did. */
export function declaredSize(req: S3Request): number | undefined {
  const v = req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'];
  const n = Number(v);
  return v !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** What a hooked upload stores, once its body has ended. */
export async function hookedFinish(upload: PreparedUpload, hooked: HookedUpload): Promise<PutFinish> {
  const r = hooked.result();
  const f = await upload.finish({ size: r.inputBytes });
  // Checksums describe the client's bytes: kept only when those are what is stored.
  const meta: Record<string, unknown> = r.transformed ? {} : { ...f.meta };
  if (Object.keys(r.meta).length) {
    const userMeta: Record<string, string> = { ...(upload.meta.userMeta as Record<string, string> | undefined) };
    for (const [k, v] of Object.entries(r.meta)) userMeta[k.toLowerCase()] = v;
    meta.userMeta = userMeta;
  }
  return { etag: r.transformed ? r.etag : f.etag, meta };
}
