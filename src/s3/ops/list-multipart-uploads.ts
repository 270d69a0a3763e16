/** ListMultipartUploads — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html */
import { timestampMillis } from '../../common/timestamp.js';
import type { ObjectSummary } from '../../proxy/object-store.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { encodeName, listParams } from '../listing.js';
import { initiatorXml, intParam, parseRecordName, recordName, type UploadRecord } from '../multipart.js';
import { S3_XMLNS, xmlElement } from '../xml.js';

type Entry = { key: string; uploadId: string; row: ObjectSummary } | { prefix: string };

export const listMultipartUploads: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const { prefix, delimiter, urlEncode } = listParams(req.query);
  const maxUploads = Math.min(1000, intParam(req.query, 'max-uploads', 1000));
  const keyMarker = req.query.get('key-marker') ?? '';
  const uploadIdMarker = keyMarker ? (req.query.get('upload-id-marker') ?? '') : '';
  const uploads = await deps.store.findInternalBucket(bucket, 'uploads');
  // Records are `${key}\0${uploadId}`: after a key marker alone come the next key's records.
  let marker = keyMarker ? (uploadIdMarker ? recordName(keyMarker, uploadIdMarker) : `${keyMarker}\0\uffff`) : undefined;
  const entries: Entry[] = [];
  let truncated = false;
  // The delimiter applies to keys, not to record names, so common prefixes are rolled up here.
  scan: while (uploads && maxUploads > 0) {
    const page = await deps.store.listObjects(uploads, { prefix: prefix || undefined, marker, limit: 1000 });
    for (const row of page.entries) {
      if (!('key' in row)) continue;
      marker = row.key;
      const parsed = parseRecordName(row.key);
      // Records older than the bucket are leftovers of a deleted bucket of the same name.
      if (!parsed || row.ts < bucket.createdTs) continue;
      let entry: Entry = { ...parsed, row };
      if (delimiter) {
        const at = parsed.key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          const common = parsed.key.slice(0, at + delimiter.length);
          const lastEntry = entries[entries.length - 1];
          if ((lastEntry && 'prefix' in lastEntry && lastEntry.prefix === common) || (keyMarker && common <= keyMarker)) continue;
          entry = { prefix: common };
        }
      }
      if (entries.length === maxUploads) {
        truncated = true;
        break scan;
      }
      entries.push(entry);
    }
    if (!page.truncated || page.entries.length === 0) break;
  }
  const enc = (s: string) => encodeName(s, urlEncode);
  let body = '';
  let prefixes = '';
  for (const e of entries) {
    if ('prefix' in e) {
      prefixes += `<CommonPrefixes><Prefix>${enc(e.prefix)}</Prefix></CommonPrefixes>`;
      continue;
    }
    const initiator = e.row.listing?.initiator as UploadRecord['initiator'] | undefined;
    body +=
      `<Upload><Key>${enc(e.key)}</Key><UploadId>${e.uploadId}</UploadId>${initiatorXml(initiator, bucket.account)}` +
      `<StorageClass>STANDARD</StorageClass><Initiated>${new Date(timestampMillis(e.row.ts)).toISOString()}</Initiated></Upload>`;
  }
  const last = entries[entries.length - 1];
  const next = truncated && last ? ('prefix' in last ? { key: last.prefix, uploadId: '' } : { key: last.key, uploadId: last.uploadId }) : undefined;
  return xmlResponse(
    `<ListMultipartUploadsResult xmlns="${S3_XMLNS}"><Bucket>${enc(bucket.name)}</Bucket>` +
      `<KeyMarker>${enc(keyMarker)}</KeyMarker><UploadIdMarker>${uploadIdMarker}</UploadIdMarker>` +
      (next ? `<NextKeyMarker>${enc(next.key)}</NextKeyMarker><NextUploadIdMarker>${next.uploadId}</NextUploadIdMarker>` : '') +
      (delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '') +
      `<Prefix>${enc(prefix)}</Prefix><MaxUploads>${maxUploads}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
      (urlEncode ? xmlElement('EncodingType', 'url') : '') +
      `${body}${prefixes}</ListMultipartUploadsResult>`,
  );
};
