/** ListObjects (v1) — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { encodeName, entriesXml, lastName, listParams, readPage } from '../listing.js';
import { S3_XMLNS, xmlElement } from '../xml.js';

export const listObjects: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const p = listParams(req.query);
  const marker = req.query.get('marker') ?? '';
  const page = await readPage(deps.store, bucket, p, marker);
  const enc = (s: string) => encodeName(s, p.urlEncode);
  // AWS returns NextMarker only with a delimiter; without one, clients continue from the last key.
  const next = page.truncated && p.delimiter ? lastName(page) : undefined;
  return xmlResponse(
    `<ListBucketResult xmlns="${S3_XMLNS}"><Name>${enc(bucket.name)}</Name><Prefix>${enc(p.prefix)}</Prefix>` +
      `<Marker>${enc(marker)}</Marker>${next === undefined ? '' : `<NextMarker>${enc(next)}</NextMarker>`}` +
      `<MaxKeys>${p.maxKeys}</MaxKeys>${p.delimiter ? `<Delimiter>${enc(p.delimiter)}</Delimiter>` : ''}` +
      `<IsTruncated>${page.truncated}</IsTruncated>${p.urlEncode ? xmlElement('EncodingType', 'url') : ''}` +
      entriesXml(page, p.urlEncode, bucket.account) +
      '</ListBucketResult>',
  );
};
