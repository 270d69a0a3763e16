/** ListBuckets — https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html */
import { timestampMillis } from '../../common/timestamp.js';
import { type Handler, ownerXml, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { escapeXml, S3_XMLNS } from '../xml.js';

export const listBuckets: Handler = async (req, deps) => {
  if (!req.principal) throw new S3Error('AccessDenied');
  const buckets = await deps.store.listBuckets(req.principal.account);
  const items = buckets
    .map((b) => `<Bucket><Name>${escapeXml(b.name)}</Name><CreationDate>${new Date(timestampMillis(b.createdTs)).toISOString()}</CreationDate></Bucket>`)
    .join('');
  return xmlResponse(`<ListAllMyBucketsResult xmlns="${S3_XMLNS}">${ownerXml(req.principal.account)}<Buckets>${items}</Buckets></ListAllMyBucketsResult>`);
};
