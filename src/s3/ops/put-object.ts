/** PutObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html */
import { checksumHeaderName } from '../../common/checksums.js';
import type { PutFinish } from '../../proxy/object-store.js';
import { checkWriteConditions, writeConditions } from '../conditional-write.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { accessMeta } from '../object-meta.js';
import { customerKey, encryptUpload, refuseManagedEncryption, sealFor, sseHeaders } from '../sse-c.js';
import { taggingHeader } from '../tagging.js';
import { deleteAt } from '../expiry.js';
import { writeLock } from '../object-lock.js';
import { versionHeaders } from '../versions.js';
import { maxSinglePutBytes, prepareUpload } from '../upload.js';
import { declaredSize, hookedFinish } from '../hook-write.js';
import type { Readable } from 'node:stream';

/** S3 keys are at most 1,024 bytes of UTF-8. */
export function checkKey(key: string): void {
  if (Buffer.byteLength(key) > 1024) {
    throw new S3Error('KeyTooLongError', { extra: { Size: String(Buffer.byteLength(key)), MaxSizeAllowed: '1024' } });
  }
}

export const putObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const key = req.key!;
  checkKey(key);
  refuseManagedEncryption(req.headers);
  const tags = taggingHeader(req.headers['x-amz-tagging']);
  const ck = customerKey(req.headers);
  const conditions = writeConditions(req.headers);
  // A doomed conditional write fails before its body is read; it is checked again before it commits.
  await checkWriteConditions(deps.store, bucket, key, conditions);
  const upload = prepareUpload(req, maxSinglePutBytes);
  const meta: Record<string, unknown> = { ...upload.meta, ...accessMeta(req.headers, req.principal?.account, bucket), ...writeLock(req.headers, bucket), ...deleteAt(req.headers, bucket) };
  if (tags?.length) meta.tags = tags;
  let write: { body: Readable; finish(i: { size: number }): Promise<PutFinish> } = upload;
  const userMeta = (upload.meta.userMeta ?? {}) as Record<string, string>;
  const hooked = await deps.compute?.putHook(bucket, key, { body: upload.body, contentType: upload.contentType, size: declaredSize(req), userMeta });
  if (hooked) write = { body: hooked.body, finish: () => hookedFinish(upload, hooked) };
  if (ck) {
    const inner = write;
    const sealed = encryptUpload(inner.body, ck, sealFor(ck));
    write = { body: sealed.body, finish: async (i) => sealed.finish(await inner.finish(i)) };
  }
  const info = await deps.store.putObject(bucket, key, {
    body: write.body,
    contentType: upload.contentType,
    meta,
    finish: async (i) => {
      const f = await write.finish(i);
      await checkWriteConditions(deps.store, bucket, key, conditions);
      return f;
    },
  });
  const headers: Record<string, string> = { etag: `"${info.etag}"`, ...sseHeaders(ck), ...versionHeaders(info) };
  const checksums = info.meta.checksums as Record<string, string> | undefined;
  if (upload.checksum && checksums?.[upload.checksum]) headers[checksumHeaderName(upload.checksum)] = checksums[upload.checksum];
  return emptyResponse(200, headers);
};
