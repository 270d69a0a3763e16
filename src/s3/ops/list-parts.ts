/** ListParts — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html */
import { checksumXmlName, type ChecksumAlgorithm } from '../../common/checksums.js';
import { timestampMillis } from '../../common/timestamp.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { getUpload, initiatorXml, intParam, parsePartName, partName, partPrefix } from '../multipart.js';
import { escapeXml, S3_XMLNS, xmlElement } from '../xml.js';

export const listParts: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const key = req.key!;
  const uploadId = req.query.get('uploadId') ?? '';
  const maxParts = Math.min(1000, intParam(req.query, 'max-parts', 1000));
  const marker = intParam(req.query, 'part-number-marker', 0);
  const { record } = await getUpload(deps.store, bucket, key, uploadId);
  const segments = await deps.store.internalBucket(bucket, 'segments');
  const page =
    maxParts === 0
      ? { entries: [], truncated: false }
      : await deps.store.listObjects(segments, {
          prefix: partPrefix(key, uploadId),
          marker: marker > 0 ? partName(key, uploadId, Math.min(marker, 99999)) : undefined,
          limit: maxParts,
        });
  let parts = '';
  let last: number | undefined;
  for (const e of page.entries) {
    if (!('key' in e)) continue;
    const parsed = parsePartName(e.key);
    if (!parsed) continue;
    last = parsed.partNumber;
    let checksums = '';
    for (const [algo, value] of Object.entries((e.listing?.checksums as Record<string, string> | undefined) ?? {})) {
      checksums += xmlElement(checksumXmlName(algo as ChecksumAlgorithm), value);
    }
    parts +=
      `<Part><PartNumber>${parsed.partNumber}</PartNumber><LastModified>${new Date(timestampMillis(e.ts)).toISOString()}</LastModified>` +
      `<ETag>&quot;${escapeXml(e.etag)}&quot;</ETag><Size>${e.size}</Size>${checksums}</Part>`;
  }
  return xmlResponse(
    `<ListPartsResult xmlns="${S3_XMLNS}"><Bucket>${escapeXml(bucket.name)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId>` +
      `${initiatorXml(record.initiator, bucket.account)}<StorageClass>STANDARD</StorageClass>` +
      `<PartNumberMarker>${marker}</PartNumberMarker>${page.truncated && last !== undefined ? `<NextPartNumberMarker>${last}</NextPartNumberMarker>` : ''}` +
      `<MaxParts>${maxParts}</MaxParts><IsTruncated>${page.truncated}</IsTruncated>` +
      xmlElement('ChecksumAlgorithm', record.checksum?.algorithm) +
      xmlElement('ChecksumType', record.checksum?.type) +
      `${parts}</ListPartsResult>`,
  );
};
