/** CompleteMultipartUpload — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html */
import { checksumXmlName } from '../../common/checksums.js';
import type { ObjectInfo } from '../../proxy/object-store.js';
import { checkWriteConditions, writeConditions } from '../conditional-write.js';
import { type Handler, ownBucket, type S3Request, xmlResponse } from '../context.js';
import { writeLock } from '../object-lock.js';
import { versionHeaders } from '../versions.js';
import { deleteParts, deleteRecord, findUpload, noSuchUpload, partPrefix } from '../multipart.js';
import { assembleParts, parseCompleteXml } from '../multipart-complete.js';
import { readSmallBody } from '../request-body.js';
import { escapeXml, S3_XMLNS, xmlElement } from '../xml.js';

/** Largest part list accepted (10,000 parts with checksums fit). */
const maxBodyBytes = 4 * 1024 * 1024;

function resultXml(req: S3Request, info: ObjectInfo): string {
  const path = `/${info.bucket}/${info.key}`.split('/').map(encodeURIComponent).join('/');
  let checksum = '';
  for (const [algo, value] of Object.entries((info.meta.checksums as Record<string, string> | undefined) ?? {})) {
    checksum += xmlElement(checksumXmlName(algo as Parameters<typeof checksumXmlName>[0]), value);
  }
  if (checksum) checksum += xmlElement('ChecksumType', info.meta.checksumType as string | undefined);
  return (
    `<CompleteMultipartUploadResult xmlns="${S3_XMLNS}"><Location>http://${escapeXml(String(req.headers.host ?? ''))}${escapeXml(path)}</Location>` +
    `<Bucket>${escapeXml(info.bucket)}</Bucket><Key>${escapeXml(info.key)}</Key><ETag>&quot;${info.etag}&quot;</ETag>${checksum}` +
    '</CompleteMultipartUploadResult>'
  );
}

export const completeMultipartUpload: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const key = req.key!;
  const uploadId = req.query.get('uploadId') ?? '';
  const body = await readSmallBody(req, maxBodyBytes);
  const found = await findUpload(deps.store, bucket, key, uploadId);
  if (!found) {
    // A retried Complete whose first attempt succeeded answers the same again.
    const existing = await deps.store.headObject(bucket, key, { newest: true });
    if ((existing?.meta.multipart as { uploadId?: string } | undefined)?.uploadId === uploadId) return xmlResponse(resultXml(req, existing!));
    throw noSuchUpload(uploadId);
  }
  const { record } = found;
  const assembly = await assembleParts(deps.store, bucket, record, parseCompleteXml(body), req.headers);
  const conditions = writeConditions(req.headers);
  await checkWriteConditions(deps.store, bucket, key, conditions);
  // The bucket's default retention counts from completion when the upload named none.
  const meta: Record<string, unknown> = { ...writeLock({}, bucket), ...record.objectMeta, multipart: { uploadId } };
  if (assembly.checksum) {
    meta.checksums = { [assembly.checksum.algorithm]: assembly.checksum.value };
    meta.checksumType = assembly.checksum.type;
  }
  // The segments are this upload's parts, under a prefix no other object uses: the store deletes them
  // when the object is overwritten or deleted.
  const info = await deps.store.putManifest(bucket, key, {
    segments: assembly.segments,
    segmentPrefix: partPrefix(key, uploadId),
    contentType: record.contentType,
    etag: assembly.etag,
    meta,
    event: 'ObjectCreated:CompleteMultipartUpload',
  });
  await deleteRecord(deps.store, bucket, key, uploadId);
  // Parts uploaded but not named in the list are dropped now; anything missed, the janitor collects.
  try {
    await deleteParts(deps.store, bucket, key, uploadId, new Set(assembly.segments.map((s) => s.key)));
  } catch (err) {
    deps.log(`${req.requestId} dropping unused parts of ${uploadId}: ${(err as Error).message}`);
  }
  return xmlResponse(resultXml(req, info), 200, versionHeaders(info));
};
