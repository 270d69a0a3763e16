/**
 * Versions, schemas, discovery (`/v2/info/*`), the import call, and Arca's token endpoint.
 * https://docs.openstack.org/api-ref/image/v2/#versions, #image-schemas, #interoperable-image-import
 */
import { caller, empty, type Handler, json, readJson } from '../context.js';
import { GlanceError } from '../errors.js';
import { IMPORT_METHODS } from '../imports.js';
import { SCHEMAS } from '../schemas.js';
import type { TokenRequest } from '../signing.js';

/** The API versions Glance lists; this service speaks 2.16 (older 2.x clients are served the same). */
const VERSIONS = ['2.16', '2.15', '2.14', '2.13', '2.12', '2.11', '2.10', '2.9', '2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'];

/** GET / and /versions → 300, as Glance answers them. */
export const versions: Handler<'versions'> = async (req) =>
  json(300, {
    versions: VERSIONS.map((v, i) => ({ id: `v${v}`, status: i === 0 ? 'CURRENT' : 'SUPPORTED', links: [{ rel: 'self', href: `${req.baseUrl}/v2/` }] })),
  });

/** GET /v2/schemas/{name}: image(s), member(s). */
export const schema: Handler<'schema'> = async (req) => {
  const s = SCHEMAS[req.op.name];
  if (!s) throw new GlanceError('NotFound', `No schema named ${req.op.name}`);
  return json(200, s);
};

/** GET /v2/info/import. */
export const importInfo: Handler<'importInfo'> = async (req) => {
  caller(req);
  return json(200, { 'import-methods': { description: 'Import methods available.', type: 'array', value: [...IMPORT_METHODS] } });
};

/** GET /v2/info/stores: the storage policies, the default first. */
export const storesInfo: Handler<'storesInfo'> = async (req, { images }) => {
  caller(req);
  const stores = await images.stores.ids();
  return json(200, { stores: stores.map((s) => ({ id: s.id, description: `Arca storage policy ${s.id}`, ...(s.isDefault ? { default: true } : {}) })) });
};

/** POST /v2/images/{id}/import → 202 (the import runs in the background). */
export const importImage: Handler<'importImage'> = async (req, { imports }) => {
  await imports.start(caller(req), req.op.id, await readJson(req));
  return empty(202);
};

/** POST /arca/v1/tokens with a signed request (signing.ts) → 201 `{token, expires_at, account, user}`. */
export const createToken: Handler<'createToken'> = async (req, { tokens }) => {
  const body = await readJson(req);
  if (typeof body !== 'object' || body === null) throw new GlanceError('BadRequest', 'A token request is a JSON object.');
  const t = await tokens.issueFor(body as TokenRequest);
  return json(201, { token: t.token, expires_at: t.expiresAt, account: t.principal.account, user: t.principal.user }, { 'x-subject-token': t.token });
};
