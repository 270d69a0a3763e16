/**
 * A GetObject through a GET hook (compute.ts): the hook the request names (`x-arca-hook: NAME`, parameters
 * in `x-arca-hook-params` as a query string) or the bucket's binding transforms the bytes on the way out.
 * A block-wise hook keeps Range working: only the blocks covering the range are read and transformed, and
 * the answer is cut to the range. Other hooks transform the whole object, and a Range is ignored (200).
 * The stored ETag and checksums describe the stored bytes, so a transformed answer carries neither.
 */
import type { BucketInfo } from '../proxy/object-store.js';
import type { S3Deps, S3Request, S3Response } from './context.js';
import { S3Error } from './errors.js';
import { applyOverrides, checkConditions, objectHeaders } from './object-response.js';
import { readObject, statObject, wantsNewest } from './object-read.js';
import { customerKey, sseHeaders } from './sse-c.js';

export const hookHeader = 'x-arca-hook';
export const hookParamsHeader = 'x-arca-hook-params';

/** The answer through a hook, or undefined when no hook applies to this GET. */
export async function hookedGetObject(req: S3Request, deps: S3Deps, bucket: BucketInfo): Promise<S3Response | undefined> {
  if (!deps.compute) return undefined;
  const name = req.headers[hookHeader] as string | undefined;
  const params = req.headers[hookParamsHeader] as string | undefined;
  const hook = await deps.compute.getHook(bucket, req.key!, name ? { name: name.trim(), params } : undefined);
  if (!hook) return undefined;
  const key = req.key!;
  const ck = customerKey(req.headers);
  const newest = wantsNewest(req.headers);
  const bs = hook.blockSize;
  let rangeHeader: string | undefined;
  let cut: { start: number; end: number } | undefined;
  if (bs && req.headers.range) {
    const stat = await statObject(deps.store, bucket, key, { rangeHeader: req.headers.range, customerKey: ck, newest });
    if (!stat) throw new S3Error('NoSuchKey', { extra: { Key: key } });
    if (stat.range) {
      cut = stat.range;
      rangeHeader = `bytes=${Math.floor(cut.start / bs) * bs}-${Math.min(stat.info.size - 1, Math.ceil((cut.end + 1) / bs) * bs - 1)}`;
    }
  }
  const read = await readObject(deps.store, bucket, key, { rangeHeader, customerKey: ck, newest });
  if (!read) throw new S3Error('NoSuchKey', { extra: { Key: key } });
  try {
    checkConditions(req.headers, read.info);
    const offset = read.range?.start ?? 0;
    const body = await hook.run(read.body, { info: read.info, offset, skip: cut ? cut.start - offset : 0, length: cut ? cut.end - cut.start + 1 : undefined });
    const headers: Record<string, string | number> = { ...objectHeaders(read.info, { checksumMode: false }), ...sseHeaders(ck), 'x-arca-hook': hook.name };
    delete headers.etag;
    if (!bs) delete headers['accept-ranges'];
    if (cut) {
      headers['content-range'] = `bytes ${cut.start}-${cut.end}/${read.info.size}`;
      headers['content-length'] = cut.end - cut.start + 1;
    } else if (bs) headers['content-length'] = read.info.size;
    applyOverrides(headers, req.query, req.principal !== undefined);
    return { status: cut ? 206 : 200, headers, body };
  } catch (err) {
    read.body.destroy();
    throw err;
  }
}
