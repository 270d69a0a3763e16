/**
 * Image data: upload, download (with single ranges, for QEMU and nbdkit), stage, and S3 locations.
 * https://docs.openstack.org/api-ref/image/v2/#image-data
 *
 * A download carries what the clients check: `Content-MD5` (hex, as Glance sends it; openstacksdk verifies it)
 * on a whole-image response, an exact `Content-Length`, and `Accept-Ranges: bytes` (QEMU's curl driver refuses a
 * server without it). A range past the end is clamped to the last byte (nbdkit asks for one byte too many).
 */
import { caller, declaredLength, empty, type Handler, json, readJson, requireOctetStream } from '../context.js';
import { parseRange } from '../../common/byte-range.js';
import { imageView } from '../record.js';


/** PUT /v2/images/{id}/file → 204 once the image is active. */
export const uploadData: Handler<'uploadData'> = async (req, { data }) => {
  requireOctetStream(req);
  await data.upload(caller(req), req.op.id, req.req, declaredLength(req));
  return empty(204);
};

/** PUT /v2/images/{id}/stage → 204; the image waits in `uploading` for an import. */
export const stageData: Handler<'stageData'> = async (req, { data }) => {
  requireOctetStream(req);
  await data.stage(caller(req), req.op.id, req.req, declaredLength(req));
  return empty(204);
};

/** GET or HEAD /v2/images/{id}/file → 200, 206 for a range, 204 when the image has no data. */
export const downloadData: Handler<'downloadData'> = async (req, { data }) => {
  const head = req.method === 'HEAD';
  const got = await data.open(caller(req), req.op.id, { head, range: head ? undefined : parseRange(req.headers.range) });
  if (got.size === undefined) return empty(204);
  const { record, size, body, range } = got;
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['content-length'] = range.end - range.start + 1;
    return { status: 206, headers, body };
  }
  if (record.checksum) headers['content-md5'] = record.checksum;
  headers['content-length'] = size;
  return { status: 200, headers, body };
};

/** POST /v2/images/{id}/locations with `{"url": "s3://bucket/key"}` → 202; the image is active at once. */
export const addLocation: Handler<'addLocation'> = async (req, { data }) => {
  const r = await data.addLocation(caller(req), req.op.id, await readJson(req));
  return json(202, imageView(r));
};
