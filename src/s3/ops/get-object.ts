/** GetObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html */
import { isArcaError } from '../../common/errors.js';
import { type Handler, ownBucket } from '../context.js';
import { S3Error } from '../errors.js';
import { applyOverrides, checkConditions, invalidRange, objectHeaders, parseRange } from '../object-response.js';

export const getObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const rangeHeader = req.headers.range;
  const range = parseRange(rangeHeader);
  let result: Awaited<ReturnType<typeof deps.store.getObject>>;
  try {
    result = await deps.store.getObject(bucket, req.key!, { range });
  } catch (err) {
    if (isArcaError(err, 'RangeNotSatisfiable')) throw invalidRange(rangeHeader, Number(err.detail.size));
    throw err;
  }
  if (!result) throw new S3Error('NoSuchKey', { extra: { Key: req.key! } });
  const { info, body } = result;
  try {
    checkConditions(req.headers, info);
    // A checksum describes the whole object: never send one with a partial body.
    const headers = objectHeaders(info, { checksumMode: !result.range && req.headers['x-amz-checksum-mode'] === 'ENABLED' });
    applyOverrides(headers, req.query, req.principal !== undefined);
    if (result.range) {
      const { start, end } = result.range;
      headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
      headers['content-length'] = end - start + 1;
      return { status: 206, headers, body };
    }
    headers['content-length'] = info.size;
    return { status: 200, headers, body };
  } catch (err) {
    body.destroy();
    throw err;
  }
};
