/** HeadObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html */
import { authorizeObject, emptyResponse, type Handler, ownBucket } from '../context.js';
import { parsePartNumber } from '../multipart.js';
import { checkConditions, objectHeaders } from '../object-response.js';
import { lengthHeaders, statObject, wantsNewest } from '../object-read.js';
import { customerKey, sseHeaders } from '../sse-c.js';
import { deleteMarkerRead, notFound, versionIdParam } from '../versions.js';

export const headObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const partNumber = req.query.has('partNumber') ? parsePartNumber(req.query.get('partNumber')) : undefined;
  const ck = customerKey(req.headers);
  const versionId = versionIdParam(req.query);
  // A specific version needs s3:GetObjectVersion too (as on AWS).
  if (versionId !== undefined) await authorizeObject(req, deps, bucket, 's3:GetObjectVersion', req.key!);
  const stat = await statObject(deps.store, bucket, req.key!, {
    rangeHeader: req.headers.range,
    partNumber,
    customerKey: ck,
    versionId,
    newest: wantsNewest(req.headers),
  });
  if (!stat) throw await notFound(deps.store, bucket, req.key!, versionId);
  if (stat.info.deleteMarker) throw deleteMarkerRead(stat.info);
  checkConditions(req.headers, stat.info);
  const checksumMode = !stat.range && partNumber === undefined && req.headers['x-amz-checksum-mode'] === 'ENABLED';
  const headers = { ...objectHeaders(stat.info, { checksumMode }), ...sseHeaders(ck), ...lengthHeaders(stat) };
  return emptyResponse(stat.range ? 206 : 200, headers);
};
