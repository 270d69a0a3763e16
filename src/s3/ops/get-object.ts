/** GetObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html */
import { type Handler, ownBucket } from '../context.js';
import { hookedGetObject } from '../hook-read.js';
import { lengthHeaders, readObject, requestedRead } from '../object-read.js';
import { applyOverrides, checkConditions, objectHeaders } from '../object-response.js';
import { sseHeaders } from '../sse-c.js';
import { deleteMarkerRead, notFound } from '../versions.js';

export const getObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const hooked = req.query.has('partNumber') ? undefined : await hookedGetObject(req, deps, bucket);
  if (hooked) return hooked;
  const opts = await requestedRead(req, deps, bucket);
  const read = await readObject(deps.store, bucket, req.key!, opts);
  if (!read) throw await notFound(deps.store, bucket, req.key!, opts.versionId);
  if (read.info.deleteMarker) {
    read.body.destroy();
    throw deleteMarkerRead(read.info);
  }
  try {
    checkConditions(req.headers, read.info);
    // A checksum describes the whole object: never send one with a partial body.
    const checksumMode = !read.range && opts.partNumber === undefined && req.headers['x-amz-checksum-mode'] === 'ENABLED';
    const headers = { ...objectHeaders(read.info, { checksumMode }), ...sseHeaders(opts.customerKey), ...lengthHeaders(read) };
    applyOverrides(headers, req.query, req.principal !== undefined);
    return { status: read.range ? 206 : 200, headers, body: read.body };
  } catch (err) {
    read.body.destroy();
    throw err;
  }
};
