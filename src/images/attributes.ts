/**
 * Setting image attributes from a create request or a JSON patch, with Glance's rules: read-only and reserved
 * names (403), types and enums of the served schema (400), admin-only attributes (403), formats that may change
 * only while the image is queued (403), property and tag quotas (413).
 *
 * JSON patch is Glance's v2.1 media type `application/openstack-images-v2.1-json-patch`: a list of
 * `{op: add|replace|remove, path: "/attr", value}`; paths are JSON pointers (`~1` is `/`, `~0` is `~`).
 */
import type { Principal } from '../common/identity.js';
import { isAdmin } from './access.js';
import { GlanceError } from './errors.js';
import { BASE_ATTRIBUTES, CONTAINER_FORMATS, DISK_FORMATS, type ImageRecord, READ_ONLY_ATTRIBUTES, RESERVED_ATTRIBUTES, VISIBILITIES } from './record.js';

/** Glance's default `image_property_quota` and `image_tag_quota`. */
export const PROPERTY_QUOTA = 128;
export const TAG_QUOTA = 128;
const MAX_STRING = 255;
const MAX_PROPERTY_VALUE = 65_535;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export type PatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

function badSchema(detail: string): GlanceError {
  return new GlanceError('BadRequest', `Provided object does not match schema 'image': ${detail}`);
}

function str(name: string, v: unknown, nullable: boolean): string | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'string') throw badSchema(`${JSON.stringify(v)} is not of type ${nullable ? "'null', 'string'" : "'string'"} (${name})`);
  if (v.length > MAX_STRING) throw badSchema(`'${name}' is too long`);
  return v;
}

function enumValue<T extends string>(name: string, v: unknown, allowed: readonly T[], nullable: boolean): T | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw badSchema(`${JSON.stringify(v)} is not one of [${allowed.map((a) => `'${a}'`).join(', ')}] (${name})`);
  return v as T;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw badSchema(`${JSON.stringify(v)} is not of type 'boolean' (${name})`);
  return v;
}

function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badSchema(`${JSON.stringify(v)} is not a non-negative integer (${name})`);
  return v;
}

/** Tags: unique strings of at most 255 characters, at most TAG_QUOTA of them. */
export function checkTags(v: unknown): string[] {
  if (!Array.isArray(v)) throw badSchema(`${JSON.stringify(v)} is not of type 'array' (tags)`);
  const tags = [...new Set(v.map((t) => str('tags', t, false) as string))];
  if (tags.length > TAG_QUOTA) throw new GlanceError('RequestEntityTooLarge', `Attempted: ${tags.length}, Maximum: ${TAG_QUOTA}`);
  return tags;
}

/** Throws unless `name` may be written by this caller at all. */
function checkWritable(name: string, creating: boolean): void {
  if (RESERVED_ATTRIBUTES.has(name) || name.startsWith('os_glance')) throw new GlanceError('Forbidden', `Attribute '${name}' is reserved.`);
  if (READ_ONLY_ATTRIBUTES.has(name) || (name === 'id' && !creating)) throw new GlanceError('Forbidden', `Attribute '${name}' is read-only.`);
  if (name === 'locations') throw new GlanceError('Forbidden', "It's not allowed to update locations if locations are invisible.");
}

/** Sets one attribute on `r` (a copy the caller owns). */
export function setAttribute(r: ImageRecord, name: string, value: unknown, p: Principal, creating: boolean): void {
  checkWritable(name, creating);
  switch (name) {
    case 'id': {
      if (typeof value !== 'string' || !UUID.test(value)) throw badSchema(`${JSON.stringify(value)} does not match the id pattern`);
      r.id = value.toLowerCase();
      return;
    }
    case 'name':
      r.name = str(name, value, true);
      return;
    case 'owner':
      if (!isAdmin(p) && value !== r.owner) throw new GlanceError('Forbidden', 'Only an administrator may set the owner of an image.');
      r.owner = str(name, value, false)!;
      return;
    case 'visibility': {
      const v = enumValue(name, value, VISIBILITIES, false)!;
      if (v === 'public' && r.visibility !== 'public' && !isAdmin(p)) throw new GlanceError('Forbidden', 'You are not authorized to complete publicize_image action.');
      r.visibility = v;
      return;
    }
    case 'protected':
      r.protected = bool(name, value);
      return;
    case 'os_hidden':
      r.os_hidden = bool(name, value);
      return;
    case 'min_ram':
    case 'min_disk':
      r[name] = nonNegativeInt(name, value);
      return;
    case 'disk_format':
    case 'container_format': {
      const v = enumValue(name, value, name === 'disk_format' ? DISK_FORMATS : CONTAINER_FORMATS, true);
      if (!creating && r.status !== 'queued' && v !== r[name]) throw new GlanceError('Forbidden', `Attribute ${name} can be only replaced for a queued image.`);
      r[name] = v;
      return;
    }
    case 'tags':
      r.tags = checkTags(value);
      return;
    default: {
      if (BASE_ATTRIBUTES.has(name)) throw new GlanceError('Forbidden', `Attribute '${name}' is read-only.`);
      if (name.length === 0 || name.length > MAX_STRING) throw badSchema(`property name '${name}' is empty or too long`);
      if (typeof value !== 'string') throw badSchema(`${JSON.stringify(value)} is not of type 'string' (${name})`);
      if (value.length > MAX_PROPERTY_VALUE) throw badSchema(`'${name}' is too long`);
      if (!(name in r.properties) && Object.keys(r.properties).length >= PROPERTY_QUOTA) {
        throw new GlanceError('RequestEntityTooLarge', `Attempted: ${Object.keys(r.properties).length + 1}, Maximum: ${PROPERTY_QUOTA}`);
      }
      r.properties[name] = value;
    }
  }
}

/** Parses a JSON patch document; 400 for anything but a list of add/replace/remove on one-level paths. */
export function parsePatch(body: unknown): PatchOp[] {
  if (!Array.isArray(body)) throw new GlanceError('BadRequest', 'Request body must be a JSON array of operation objects.');
  return body.map((raw) => {
    if (typeof raw !== 'object' || raw === null) throw new GlanceError('BadRequest', 'Operations must be JSON objects.');
    const o = raw as Record<string, unknown>;
    if (o.op !== 'add' && o.op !== 'replace' && o.op !== 'remove') throw new GlanceError('BadRequest', `Invalid operation: ${JSON.stringify(o.op)}`);
    if (typeof o.path !== 'string' || !/^\/[^/]+$/.test(o.path)) throw new GlanceError('BadRequest', `Invalid JSON pointer for this resource: '${String(o.path)}'`);
    const path = o.path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
    if (o.op === 'remove') return { op: 'remove', path };
    if (!('value' in o)) throw new GlanceError('BadRequest', `Operation "${o.op}" requires a member named "value".`);
    return { op: o.op, path, value: o.value };
  });
}

/** Applies parsed patch operations to `r` (a copy) as `p`. */
export function applyPatch(r: ImageRecord, ops: PatchOp[], p: Principal): void {
  for (const op of ops) {
    const name = op.path;
    const isProperty = !BASE_ATTRIBUTES.has(name) && !READ_ONLY_ATTRIBUTES.has(name) && !RESERVED_ATTRIBUTES.has(name) && !name.startsWith('os_glance');
    if (op.op === 'remove') {
      checkWritable(name, false);
      if (!isProperty) throw new GlanceError('Forbidden', `Attribute '${name}' can't be removed.`);
      if (!(name in r.properties)) throw new GlanceError('Conflict', `Property ${name} does not exist.`);
      delete r.properties[name];
      continue;
    }
    if (op.op === 'replace' && isProperty && !(name in r.properties)) throw new GlanceError('Conflict', `Property ${name} does not exist.`);
    setAttribute(r, name, op.value, p, false);
  }
}

/** Builds a create request's attributes onto a new record. */
export function applyCreate(r: ImageRecord, body: unknown, p: Principal): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GlanceError('BadRequest', 'Request body must be a JSON object.');
  for (const [name, value] of Object.entries(body)) setAttribute(r, name, value, p, true);
}
