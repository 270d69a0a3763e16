/**
 * Parsing a Glance request into a typed operation before anything runs: a table of routes (path pattern,
 * method → operation kind), then `switch (op.kind)` on a discriminated union in the app. A known path with an
 * unknown method is 405; an unknown path is 404.
 * Routes follow https://docs.openstack.org/api-ref/image/v2/.
 */
import { GlanceError } from './errors.js';

export type GlanceOp =
  | { kind: 'versions' }
  | { kind: 'schema'; name: string }
  | { kind: 'listImages' }
  | { kind: 'createImage' }
  | { kind: 'showImage'; id: string }
  | { kind: 'updateImage'; id: string }
  | { kind: 'deleteImage'; id: string }
  | { kind: 'uploadData'; id: string }
  | { kind: 'downloadData'; id: string }
  | { kind: 'stageData'; id: string }
  | { kind: 'importImage'; id: string }
  | { kind: 'addLocation'; id: string }
  | { kind: 'addTag'; id: string; tag: string }
  | { kind: 'deleteTag'; id: string; tag: string }
  | { kind: 'deactivate'; id: string }
  | { kind: 'reactivate'; id: string }
  | { kind: 'listMembers'; id: string }
  | { kind: 'addMember'; id: string }
  | { kind: 'showMember'; id: string; member: string }
  | { kind: 'updateMember'; id: string; member: string }
  | { kind: 'deleteMember'; id: string; member: string }
  | { kind: 'importInfo' }
  | { kind: 'storesInfo' }
  | { kind: 'createToken' };

export type GlanceOpKind = GlanceOp['kind'];

type Build = (m: string[]) => GlanceOp;

interface Route {
  pattern: RegExp;
  methods: Record<string, Build>;
}

const SEG = '([^/]+)';
const route = (path: string, methods: Record<string, Build>): Route => ({ pattern: new RegExp(`^${path}/?$`), methods });

const ROUTES: Route[] = [
  route('', { GET: () => ({ kind: 'versions' }) }),
  route('/versions', { GET: () => ({ kind: 'versions' }) }),
  route('/v2', { GET: () => ({ kind: 'versions' }) }),
  route(`/v2/schemas/${SEG}`, { GET: (m) => ({ kind: 'schema', name: m[1] }) }),
  route('/v2/images', { GET: () => ({ kind: 'listImages' }), POST: () => ({ kind: 'createImage' }) }),
  route(`/v2/images/${SEG}`, {
    GET: (m) => ({ kind: 'showImage', id: m[1] }),
    PATCH: (m) => ({ kind: 'updateImage', id: m[1] }),
    DELETE: (m) => ({ kind: 'deleteImage', id: m[1] }),
  }),
  route(`/v2/images/${SEG}/file`, {
    PUT: (m) => ({ kind: 'uploadData', id: m[1] }),
    GET: (m) => ({ kind: 'downloadData', id: m[1] }),
    HEAD: (m) => ({ kind: 'downloadData', id: m[1] }),
  }),
  route(`/v2/images/${SEG}/stage`, { PUT: (m) => ({ kind: 'stageData', id: m[1] }) }),
  route(`/v2/images/${SEG}/import`, { POST: (m) => ({ kind: 'importImage', id: m[1] }) }),
  route(`/v2/images/${SEG}/locations`, { POST: (m) => ({ kind: 'addLocation', id: m[1] }) }),
  route(`/v2/images/${SEG}/tags/${SEG}`, {
    PUT: (m) => ({ kind: 'addTag', id: m[1], tag: m[2] }),
    DELETE: (m) => ({ kind: 'deleteTag', id: m[1], tag: m[2] }),
  }),
  route(`/v2/images/${SEG}/actions/deactivate`, { POST: (m) => ({ kind: 'deactivate', id: m[1] }) }),
  route(`/v2/images/${SEG}/actions/reactivate`, { POST: (m) => ({ kind: 'reactivate', id: m[1] }) }),
  route(`/v2/images/${SEG}/members`, { GET: (m) => ({ kind: 'listMembers', id: m[1] }), POST: (m) => ({ kind: 'addMember', id: m[1] }) }),
  route(`/v2/images/${SEG}/members/${SEG}`, {
    GET: (m) => ({ kind: 'showMember', id: m[1], member: m[2] }),
    PUT: (m) => ({ kind: 'updateMember', id: m[1], member: m[2] }),
    DELETE: (m) => ({ kind: 'deleteMember', id: m[1], member: m[2] }),
  }),
  route('/v2/info/import', { GET: () => ({ kind: 'importInfo' }) }),
  route('/v2/info/stores', { GET: () => ({ kind: 'storesInfo' }) }),
  route('/arca/v1/tokens', { POST: () => ({ kind: 'createToken' }) }),
];

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GlanceError('BadRequest', 'Malformed percent-encoding in the request path.');
  }
}

/** The operation a method and path ask for; 404 for an unknown path, 405 for a known path's unknown method. */
export function operationOf(method: string, path: string): GlanceOp {
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const build = r.methods[method];
    if (!build) throw new GlanceError('MethodNotAllowed', `The method ${method} is not allowed for this resource.`, { allow: Object.keys(r.methods).join(', ') });
    return build(m.map((s, i) => (i === 0 ? s : decode(s))));
  }
  throw new GlanceError('NotFound', 'The resource could not be found.');
}

/** Operations answered without a token. */
export function isAnonymous(op: GlanceOp): boolean {
  return op.kind === 'versions' || op.kind === 'schema' || op.kind === 'createToken';
}
