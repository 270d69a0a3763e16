/** CreateMultipartUpload — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { createUpload, newUploadId, requestedUploadChecksum, type UploadRecord } from '../multipart.js';
import { newObjectMeta } from '../object-meta.js';
import { writeLock } from '../object-lock.js';
import { customerKey, refuseManagedEncryption, sealFor, sseHeaders } from '../sse-c.js';
import { escapeXml, S3_XMLNS } from '../xml.js';
import { checkKey } from './put-object.js';

export const createMultipartUpload: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const key = req.key!;
  checkKey(key);
  refuseManagedEncryption(req.headers);
  const { contentType, meta } = newObjectMeta(req, bucket);
  Object.assign(meta, writeLock(req.headers, bucket));
  const ck = customerKey(req.headers);
  if (ck) meta.sse = sealFor(ck);
  const checksum = requestedUploadChecksum(req);
  const record: UploadRecord = {
    key,
    uploadId: newUploadId(),
    contentType,
    objectMeta: meta,
    checksum,
    initiator: { account: req.principal?.account ?? 'anonymous', user: req.principal?.user ?? 'anonymous' },
  };
  await createUpload(deps.store, bucket, record);
  const headers: Record<string, string> = { ...sseHeaders(ck) };
  if (checksum) {
    headers['x-amz-checksum-algorithm'] = checksum.algorithm;
    headers['x-amz-checksum-type'] = checksum.type;
  }
  return xmlResponse(
    `<InitiateMultipartUploadResult xmlns="${S3_XMLNS}"><Bucket>${escapeXml(bucket.name)}</Bucket>` +
      `<Key>${escapeXml(key)}</Key><UploadId>${record.uploadId}</UploadId></InitiateMultipartUploadResult>`,
    200,
    headers,
  );
};
