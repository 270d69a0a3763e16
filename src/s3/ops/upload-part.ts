/** UploadPart — https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html */
import { checksumHeaderName } from '../../common/checksums.js';
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { getUpload, maxPartBytes, parsePartNumber, uploadSse, writePart } from '../multipart.js';
import { customerKey, requireUploadKey, sseHeaders } from '../sse-c.js';
import { prepareUpload } from '../upload.js';

export const uploadPart: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const partNumber = parsePartNumber(req.query.get('partNumber'));
  const { record } = await getUpload(deps.store, bucket, req.key!, req.query.get('uploadId') ?? '');
  const ck = customerKey(req.headers);
  requireUploadKey(uploadSse(record), ck);
  const upload = prepareUpload(req, maxPartBytes, { checksum: record.checksum?.algorithm });
  const info = await writePart(deps.store, bucket, record, partNumber, upload.body, upload.finish, ck);
  const headers: Record<string, string> = { etag: `"${info.etag}"`, ...sseHeaders(ck) };
  const checksums = info.meta.checksums as Record<string, string> | undefined;
  if (upload.checksum && checksums?.[upload.checksum]) headers[checksumHeaderName(upload.checksum)] = checksums[upload.checksum];
  return emptyResponse(200, headers);
};
