/** HeadObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { lengthHeaders, requestedRead, statObject } from '../object-read.js';
import { checkConditions, objectHeaders } from '../object-response.js';
import { sseHeaders } from '../sse-c.js';
import { deleteMarkerRead, notFound } from '../versions.js';

export const headObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const opts = await requestedRead(req, deps, bucket);
  const stat = await statObject(deps.store, bucket, req.key!, opts);
  if (!stat) throw await notFound(deps.store, bucket, req.key!, opts.versionId);
  if (stat.info.deleteMarker) throw deleteMarkerRead(stat.info);
  checkConditions(req.headers, stat.info);
  const checksumMode = !stat.range && opts.partNumber === undefined && req.headers['x-amz-checksum-mode'] === 'ENABLED';
  const headers = { ...objectHeaders(stat.info, { checksumMode }), ...sseHeaders(opts.customerKey), ...lengthHeaders(stat) };
  return emptyResponse(stat.range ? 206 : 200, headers);
};
