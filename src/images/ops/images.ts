/**
 * Image records: create, list, show, update, delete, tags, deactivate/reactivate.
 * https://docs.openstack.org/api-ref/image/v2/#images
 */
import { parsePatch } from '../attributes.js';
import { caller, empty, type Handler, json, readJson } from '../context.js';
import { GlanceError } from '../errors.js';
import { pageLinks } from '../listing.js';
import { imageView } from '../record.js';

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

/** POST /v2/images → 201 with the image and its Location. */
export const createImage: Handler<'createImage'> = async (req, { images }) => {
  const r = await images.create(caller(req), (await readJson(req)) ?? {});
  return json(201, imageView(r), { location: `${req.baseUrl}/v2/images/${r.id}` });
};

/** GET /v2/images → `{images, schema, first, next?}`. */
export const listImages: Handler<'listImages'> = async (req, { images }) => {
  const { images: page, nextMarker } = await images.list(caller(req), req.query);
  return json(200, { images: page.map(imageView), schema: '/v2/schemas/images', ...pageLinks(req.query, nextMarker) });
};

/** GET /v2/images/{id}. */
export const showImage: Handler<'showImage'> = async (req, { images }) => json(200, imageView(await images.visible(caller(req), req.op.id)));

/** PATCH /v2/images/{id} with a v2.1 JSON patch → 200 with the image. */
export const updateImage: Handler<'updateImage'> = async (req, { images }) => {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== PATCH_TYPE) {
    throw new GlanceError('UnsupportedMediaType', `Content type ${type || '(none)'} is not supported; use ${PATCH_TYPE}.`, { 'accept-patch': PATCH_TYPE });
  }
  const r = await images.update(caller(req), req.op.id, parsePatch(await readJson(req)));
  return json(200, imageView(r));
};

/** DELETE /v2/images/{id} → 204. */
export const deleteImage: Handler<'deleteImage'> = async (req, { images }) => {
  await images.delete(caller(req), req.op.id);
  return empty(204);
};

/** PUT /v2/images/{id}/tags/{tag} → 204. */
export const addTag: Handler<'addTag'> = async (req, { images }) => {
  await images.addTag(caller(req), req.op.id, req.op.tag);
  return empty(204);
};

/** DELETE /v2/images/{id}/tags/{tag} → 204. */
export const deleteTag: Handler<'deleteTag'> = async (req, { images }) => {
  await images.deleteTag(caller(req), req.op.id, req.op.tag);
  return empty(204);
};

/** POST /v2/images/{id}/actions/deactivate → 204. */
export const deactivate: Handler<'deactivate'> = async (req, { images }) => {
  await images.setActive(caller(req), req.op.id, false);
  return empty(204);
};

/** POST /v2/images/{id}/actions/reactivate → 204. */
export const reactivate: Handler<'reactivate'> = async (req, { images }) => {
  await images.setActive(caller(req), req.op.id, true);
  return empty(204);
};
