/** ListObjectsV2 — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { encodeName, entriesXml, lastName, listParams, readPage } from '../listing.js';
import { escapeXml, S3_XMLNS, xmlElement } from '../xml.js';

/** Continuation tokens are opaque to clients: the name to continue after, base64url-encoded. */
function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (Buffer.from(name, 'utf8').toString('base64url') !== token) {
    throw new S3Error('InvalidArgument', { message: 'The continuation token provided is incorrect', extra: { ArgumentName: 'continuation-token' } });
  }
  return name;
}

export const listObjectsV2: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const p = listParams(req.query);
  const token = req.query.get('continuation-token');
  const startAfter = req.query.get('start-after') ?? '';
  // A continuation token wins over start-after, which only applies to the first page.
  const marker = token ? decodeToken(token) : startAfter;
  const page = await readPage(deps.store, bucket, p, marker);
  const enc = (s: string) => encodeName(s, p.urlEncode);
  const next = page.truncated ? lastName(page) : undefined;
  const fetchOwner = req.query.get('fetch-owner') === 'true';
  return xmlResponse(
    `<ListBucketResult xmlns="${S3_XMLNS}"><Name>${escapeXml(bucket.name)}</Name><Prefix>${enc(p.prefix)}</Prefix>` +
      `${p.delimiter ? `<Delimiter>${enc(p.delimiter)}</Delimiter>` : ''}<MaxKeys>${p.maxKeys}</MaxKeys>` +
      `<KeyCount>${page.entries.length}</KeyCount><IsTruncated>${page.truncated}</IsTruncated>` +
      `${token ? xmlElement('ContinuationToken', token) : ''}` +
      `${next === undefined ? '' : xmlElement('NextContinuationToken', Buffer.from(next, 'utf8').toString('base64url'))}` +
      `${startAfter ? `<StartAfter>${enc(startAfter)}</StartAfter>` : ''}${p.urlEncode ? xmlElement('EncodingType', 'url') : ''}` +
      entriesXml(page, p.urlEncode, fetchOwner ? bucket.account : undefined) +
      '</ListBucketResult>',
  );
};
