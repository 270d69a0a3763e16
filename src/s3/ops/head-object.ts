/** HeadObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html */
import { emptyResponse, type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { checkConditions, invalidRange, objectHeaders, parseRange, resolveRange } from '../object-response.js';

export const headObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const info = await deps.store.headObject(bucket, req.key!);
  if (!info) throw new S3Error('NoSuchKey', { extra: { Key: req.key! } });
  checkConditions(req.headers, info);
  const range = parseRange(req.headers.range);
  const headers = objectHeaders(info, { checksumMode: !range && req.headers['x-amz-checksum-mode'] === 'ENABLED' });
  if (range) {
    const r = resolveRange(range, info.size);
    if (!r) throw invalidRange(req.headers.range, info.size);
    headers['content-range'] = `bytes ${r.start}-${r.end}/${info.size}`;
    headers['content-length'] = r.end - r.start + 1;
    return emptyResponse(206, headers);
  }
  headers['content-length'] = info.size;
  return emptyResponse(200, headers);
};
