/**
 * An image as Arca keeps it (one JSON record per image, see {@link ImageRepo}) and as Glance shows it.
 * Base attributes are fields; everything else a user sets is a string in `properties` (Glance's "extra
 * properties"). Where the bytes live is `locations`: each an object in a bucket of one storage policy (a Glance
 * "store"), so the same bytes are readable through S3.
 */
import type { ImageStatus } from './status.js';

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Where one copy of an image's bytes is: an object in a bucket, of a storage policy (the store). */
export interface ImageLocation {
  /** The storage policy (Glance store id) of the bucket. */
  store: string;
  bucket: string;
  key: string;
  /** ETag of the object when the location was recorded; a read that finds another refuses to serve it. */
  etag: string;
  /** A user's S3 object registered as this image (`arca image import`): never deleted with the image. */
  external?: boolean;
}

/** Data staged for the import workflow (`PUT …/stage`), waiting for `POST …/import`. */
export interface StagedData extends ImageLocation {
  size: number;
  checksum: string;
  sha512: string;
  virtualSize: number | null;
  /** The format the bytes were found to be, checked against disk_format at import. */
  format: string;
}

export interface ImageRecord {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: boolean;
  os_hidden: boolean;
  /** The owning Arca account. */
  owner: string;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  virtual_size: number | null;
  min_ram: number;
  min_disk: number;
  disk_format: string | null;
  container_format: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
  /** Extra properties (all strings, as the schema's additionalProperties says). */
  properties: Record<string, string>;
  locations: ImageLocation[];
  /** Staged data (status `uploading`), not yet an image location. */
  staged?: StagedData;
}

/** Attributes that are record fields rather than extra properties. */
export const BASE_ATTRIBUTES = new Set([
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'owner', 'checksum', 'os_hash_algo', 'os_hash_value', 'size',
  'virtual_size', 'min_ram', 'min_disk', 'disk_format', 'container_format', 'tags', 'created_at', 'updated_at', 'locations',
]);

/** Attributes no user may set (Glance answers 403 "Attribute '…' is read-only."). */
export const READ_ONLY_ATTRIBUTES = new Set([
  'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size', 'created_at', 'updated_at', 'self', 'file', 'schema',
  'direct_url', 'stores',
]);

/** Attributes Glance reserves (403 "Attribute '…' is reserved."). */
export const RESERVED_ATTRIBUTES = new Set(['deleted', 'deleted_at', 'location']);

/** Glance's timestamp form: seconds, UTC, `Z`. */
export function glanceTime(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A new queued image. */
export function newImageRecord(id: string, owner: string, now = new Date()): ImageRecord {
  const t = glanceTime(now);
  return {
    id,
    name: null,
    status: 'queued',
    visibility: 'shared',
    protected: false,
    os_hidden: false,
    owner,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    size: null,
    virtual_size: null,
    min_ram: 0,
    min_disk: 0,
    disk_format: null,
    container_format: null,
    tags: [],
    created_at: t,
    updated_at: t,
    properties: {},
    locations: [],
  };
}

/** The image as the v2 API shows it (Glance's ImageSchema serialisation: extra properties flattened in). */
export function imageView(r: ImageRecord): Record<string, unknown> {
  const view: Record<string, unknown> = { ...r.properties };
  Object.assign(view, {
    id: r.id,
    name: r.name,
    status: r.status,
    visibility: r.visibility,
    protected: r.protected,
    os_hidden: r.os_hidden,
    owner: r.owner,
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    size: r.size,
    virtual_size: r.virtual_size,
    min_ram: r.min_ram,
    min_disk: r.min_disk,
    disk_format: r.disk_format,
    container_format: r.container_format,
    tags: r.tags,
    created_at: r.created_at,
    updated_at: r.updated_at,
    self: `/v2/images/${r.id}`,
    file: `/v2/images/${r.id}/file`,
    schema: '/v2/schemas/image',
  });
  if (r.locations.length > 0) view.stores = [...new Set(r.locations.map((l) => l.store))].join(',');
  return view;
}

/** An attribute's value for filtering and sorting: a base field or an extra property. */
export function attributeOf(r: ImageRecord, name: string): unknown {
  return BASE_ATTRIBUTES.has(name) ? (r as unknown as Record<string, unknown>)[name] : r.properties[name];
}
