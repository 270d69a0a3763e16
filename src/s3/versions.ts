/**
 * What S3 handlers share about versions: the `versionId` parameter, the version headers of a response
 * (`x-amz-version-id`, `x-amz-delete-marker`), and the errors AWS answers for versions. How versions are
 * kept is the store's (src/proxy/versioning.ts, docs/versioning.md).
 */
import { type BucketInfo, isValidVersionId, type ObjectInfo, versioningOf } from '../proxy/object-store.js';
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
