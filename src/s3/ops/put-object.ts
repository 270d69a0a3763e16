/** PutObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html */
import { checksumHeaderName } from '../../common/checksums.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { maxSinglePutBytes, prepareUpload } from '../upload.js';

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
  const upload = prepareUpload(req, maxSinglePutBytes);
  const info = await deps.store.putObject(bucket, key, {
    body: upload.body,
    contentType: upload.contentType,
    meta: upload.meta,
    finish: upload.finish,
  });
  const headers: Record<string, string> = { etag: `"${info.etag}"` };
  const checksums = info.meta.checksums as Record<string, string> | undefined;
  if (upload.checksum && checksums?.[upload.checksum]) headers[checksumHeaderName(upload.checksum)] = checksums[upload.checksum];
  return emptyResponse(200, headers);
};
