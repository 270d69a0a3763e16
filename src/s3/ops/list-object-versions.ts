/** ListObjectVersions — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html */
import { timestampIso } from '../../common/timestamp.js';
import type { ObjectVersionSummary } from '../../proxy/object-store.js';
import { type Handler, ownBucket, ownerXml, xmlResponse } from '../context.js';
import { encodeName, listParams } from '../listing.js';
import { versionIdParam } from '../versions.js';
import { escapeXml, S3_XMLNS, xmlElement } from '../xml.js';

export const listObjectVersions: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const p = listParams(req.query);
  const keyMarker = req.query.get('key-marker') ?? '';
  const versionIdMarker = keyMarker ? versionIdParam(req.query, 'version-id-marker') : undefined;
  const page = await deps.store.listObjectVersions(bucket, {
    prefix: p.prefix,
    delimiter: p.delimiter,
    keyMarker: keyMarker || undefined,
    versionIdMarker,
    limit: p.maxKeys,
  });
  const enc = (s: string) => encodeName(s, p.urlEncode);
  let entries = '';
  for (const e of page.entries) {
    if ('prefix' in e) entries += `<CommonPrefixes><Prefix>${enc(e.prefix)}</Prefix></CommonPrefixes>`;
    else entries += versionXml(e, enc, bucket.account);
  }
  return xmlResponse(
    `<ListVersionsResult xmlns="${S3_XMLNS}"><Name>${escapeXml(bucket.name)}</Name><Prefix>${enc(p.prefix)}</Prefix>` +
      `<KeyMarker>${enc(keyMarker)}</KeyMarker><VersionIdMarker>${escapeXml(versionIdMarker ?? '')}</VersionIdMarker>` +
      `${page.next ? `<NextKeyMarker>${enc(page.next.keyMarker)}</NextKeyMarker>${xmlElement('NextVersionIdMarker', page.next.versionIdMarker)}` : ''}` +
      `<MaxKeys>${p.maxKeys}</MaxKeys>${p.delimiter ? `<Delimiter>${enc(p.delimiter)}</Delimiter>` : ''}` +
      `<IsTruncated>${page.truncated}</IsTruncated>${p.urlEncode ? xmlElement('EncodingType', 'url') : ''}${entries}</ListVersionsResult>`,
  );
};

function versionXml(e: ObjectVersionSummary, enc: (s: string) => string, owner: string): string {
  const common =
    `<Key>${enc(e.key)}</Key><VersionId>${escapeXml(e.versionId)}</VersionId><IsLatest>${e.isLatest}</IsLatest>` +
    `<LastModified>${timestampIso(e.ts)}</LastModified>`;
  if (e.deleteMarker) return `<DeleteMarker>${common}${ownerXml(owner)}</DeleteMarker>`;
  const storageClass = (e.listing?.storageClass as string | undefined) ?? 'STANDARD';
  return `<Version>${common}<ETag>&quot;${escapeXml(e.etag)}&quot;</ETag><Size>${e.size}</Size><StorageClass>${storageClass}</StorageClass>${ownerXml(owner)}</Version>`;
}
