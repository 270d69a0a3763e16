/**
 * What S3 handlers share about versions: the `versionId` parameter, the version headers of a response
 * (`x-amz-version-id`, `x-amz-delete-marker`), and the errors AWS answers for versions. How versions are
 * kept is the store's (src/proxy/versioning.ts, docs/versioning.md).
 */
import { type BucketInfo, isValidVersionId, type ObjectInfo, type ObjectStore, versioningOf } from '../proxy/object-store.js';
import { S3Error } from './errors.js';

/** The request's `versionId` (or `undefined`); a malformed one is InvalidArgument, as AWS answers it. */
export function versionIdParam(query: URLSearchParams, name = 'versionId'): string | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!isValidVersionId(v)) throw new S3Error('InvalidArgument', { message: 'Invalid version id specified', extra: { ArgumentName: name, ArgumentValue: v } });
  return v;
}

/** NoSuchVersion (or NoSuchKey when no version was asked for). */
export function missing(key: string, versionId: string | undefined): S3Error {
  return versionId === undefined ? new S3Error('NoSuchKey', { extra: { Key: key } }) : new S3Error('NoSuchVersion', { extra: { Key: key, VersionId: versionId } });
}

/**
 * The error for a key not found: NoSuchVersion with a version id; otherwise NoSuchKey, which in a versioned
 * bucket whose latest version of the key is a delete marker carries `x-amz-delete-marker` and its id, as AWS.
 */
export async function notFound(store: ObjectStore, bucket: BucketInfo, key: string, versionId: string | undefined): Promise<S3Error> {
  if (versionId !== undefined || !isVersioned(bucket)) return missing(key, versionId);
  const first = (await store.listObjectVersions(bucket, { prefix: key, limit: 1 })).entries[0];
  if (!first || !('key' in first) || first.key !== key || !first.deleteMarker) return missing(key, versionId);
  return new S3Error('NoSuchKey', { extra: { Key: key }, headers: versionHeaders(first) });
}

/** `x-amz-version-id` (and `x-amz-delete-marker`) of a version. */
export function versionHeaders(info: { versionId?: string; deleteMarker?: boolean }): Record<string, string> {
  const h: Record<string, string> = {};
  if (info.versionId !== undefined) h['x-amz-version-id'] = info.versionId;
  if (info.deleteMarker) h['x-amz-delete-marker'] = 'true';
  return h;
}

/** GET/HEAD of a delete marker by its version id: 405, as AWS. */
export function deleteMarkerRead(info: ObjectInfo): S3Error {
  return new S3Error('MethodNotAllowed', {
    message: 'The specified method is not allowed against this resource.',
    extra: { Method: 'GET', ResourceType: 'DeleteMarker' },
    headers: { ...versionHeaders(info), 'last-modified': new Date(Number(info.ts.split('.')[0]) * 1000).toUTCString() },
  });
}

/** True when the bucket has (or had) versioning configured. */
export function isVersioned(bucket: BucketInfo): boolean {
  return versioningOf(bucket) !== undefined;
}
