/** UploadPartCopy — https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html */
import { type ChecksumAlgorithm, checksumXmlName } from '../../common/checksums.js';
import { timestampMillis } from '../../common/timestamp.js';
import { copyStream, openCopySource, parseCopyRange } from '../copy-source.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { getUpload, parsePartNumber, uploadSse, writePart } from '../multipart.js';
import { customerKey, requireUploadKey, sseHeaders } from '../sse-c.js';
import { S3_XMLNS, xmlElement } from '../xml.js';

export const uploadPartCopy: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const partNumber = parsePartNumber(req.query.get('partNumber'));
  const { record } = await getUpload(deps.store, bucket, req.key!, req.query.get('uploadId') ?? '');
  const ck = customerKey(req.headers);
  requireUploadKey(uploadSse(record), ck);
  const range = parseCopyRange(req.headers['x-amz-copy-source-range']);
  const { read, length } = await openCopySource(req, deps, range);
  try {
    const copied = copyStream(read.body, length, record.checksum?.algorithm);
    const info = await writePart(deps.store, bucket, record, partNumber, copied.body, copied.finish, ck);
    let checksums = '';
    for (const [algo, value] of Object.entries((info.meta.checksums as Record<string, string> | undefined) ?? {})) {
      checksums += xmlElement(checksumXmlName(algo as ChecksumAlgorithm), value);
    }
    return xmlResponse(
      `<CopyPartResult xmlns="${S3_XMLNS}"><LastModified>${new Date(timestampMillis(info.ts)).toISOString()}</LastModified>` +
        `<ETag>&quot;${info.etag}&quot;</ETag>${checksums}</CopyPartResult>`,
      200,
      sseHeaders(ck),
    );
  } catch (err) {
    read.body.destroy();
    throw err;
  }
};
