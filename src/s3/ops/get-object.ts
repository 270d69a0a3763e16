/** GetObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html */
import { authorizeObject, type Handler, ownBucket } from '../context.js';
import { hookedGetObject } from '../hook-read.js';
import { parsePartNumber } from '../multipart.js';
import { applyOverrides, checkConditions, objectHeaders } from '../object-response.js';
import { lengthHeaders, readObject, wantsNewest } from '../object-read.js';
import { customerKey, sseHeaders } from '../sse-c.js';
import { deleteMarkerRead, notFound, versionIdParam } from '../versions.js';

export const getObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const hooked = req.query.has('partNumber') ? undefined : await hookedGetObject(req, deps, bucket);
  if (hooked) return hooked;
  const partNumber = req.query.has('partNumber') ? parsePartNumber(req.query.get('partNumber')) : undefined;
  const ck = customerKey(req.headers);
  const versionId = versionIdParam(req.query);
  // A specific version needs s3:GetObjectVersion too (as on AWS).
  if (versionId !== undefined) await authorizeObject(req, deps, bucket, 's3:GetObjectVersion', req.key!);
  const read = await readObject(deps.store, bucket, req.key!, {
    rangeHeader: req.headers.range,
    partNumber,
    customerKey: ck,
    versionId,
    newest: wantsNewest(req.headers),
  });
  if (!read) throw await notFound(deps.store, bucket, req.key!, versionId);
  if (read.info.deleteMarker) {
    read.body.destroy();
    throw deleteMarkerRead(read.info);
  }
  try {
    checkConditions(req.headers, read.info);
    // A checksum describes the whole object: never send one with a partial body.
    const checksumMode = !read.range && partNumber === undefined && req.headers['x-amz-checksum-mode'] === 'ENABLED';
    const headers = { ...objectHeaders(read.info, { checksumMode }), ...sseHeaders(ck), ...lengthHeaders(read) };
    applyOverrides(headers, req.query, req.principal !== undefined);
    return { status: read.range ? 206 : 200, headers, body: read.body };
  } catch (err) {
    read.body.destroy();
    throw err;
  }
};
