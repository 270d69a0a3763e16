/** CopyObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html */
import { type ChecksumAlgorithm, checksumXmlName, parseChecksumAlgorithm } from '../../common/checksums.js';
import { timestampMillis } from '../../common/timestamp.js';
import { copyStream, openCopySource, parseCopySource } from '../copy-source.js';
import { type Handler, ownBucket, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { accessMeta, newObjectMeta } from '../object-meta.js';
import { customerKey, encryptUpload, refuseManagedEncryption, sealFor, sseHeaders, type StoredSse } from '../sse-c.js';
import { taggingHeader } from '../tagging.js';
import { writeLock } from '../object-lock.js';
import { versionHeaders } from '../versions.js';
import { S3_XMLNS, xmlElement } from '../xml.js';
import { checkKey } from './put-object.js';

/** `x-amz-metadata-directive` / `x-amz-tagging-directive`: COPY (the default) or REPLACE. */
function directive(value: string | string[] | undefined, what: 'metadata' | 'tagging'): 'COPY' | 'REPLACE' {
  if (value === undefined) return 'COPY';
  if (value === 'COPY' || value === 'REPLACE') return value;
  throw new S3Error('InvalidArgument', {
    message: `Unknown ${what} directive.`,
    extra: { ArgumentName: `x-amz-${what}-directive`, ArgumentValue: String(value) },
  });
}

export const copyObject: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  const key = req.key!;
  checkKey(key);
  refuseManagedEncryption(req.headers);
  const metadata = directive(req.headers['x-amz-metadata-directive'], 'metadata');
  const tagging = directive(req.headers['x-amz-tagging-directive'], 'tagging');
  const destKey = customerKey(req.headers);
  const target = parseCopySource(req.headers['x-amz-copy-source']);
  const replaceTags = tagging === 'REPLACE' ? (taggingHeader(req.headers['x-amz-tagging']) ?? []) : undefined;
  const requestedAlgo = req.headers['x-amz-checksum-algorithm'] as string | undefined;
  const algoOverride = requestedAlgo === undefined ? undefined : parseChecksumAlgorithm(requestedAlgo);
  if (requestedAlgo !== undefined && !algoOverride) {
    throw new S3Error('InvalidRequest', { message: 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]' });
  }
  const { read, length } = await openCopySource(req, deps);
  try {
    const src = read.info;
    const sourceSse = src.meta.sse as StoredSse | undefined;
    // Copying onto itself must change something: metadata (REPLACE) or the encryption.
    if (target.bucket === bucket.name && target.key === key && target.versionId === undefined && metadata !== 'REPLACE' && !destKey && !sourceSse) {
      throw new S3Error('InvalidRequest', {
        message:
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      });
    }
    let contentType: string;
    let meta: Record<string, unknown>;
    if (metadata === 'REPLACE') {
      ({ contentType, meta } = newObjectMeta(req, bucket));
      delete meta.tags;
    } else {
      contentType = src.contentType;
      meta = {};
      if (src.meta.headers) meta.headers = src.meta.headers;
      if (src.meta.userMeta) meta.userMeta = src.meta.userMeta;
      // The copy is a new object: its ACL comes from this request, never from the source.
      Object.assign(meta, accessMeta(req.headers, req.principal?.account, bucket));
    }
    // A copy is a new version: its lock comes from this request (or the bucket's default), never from the source.
    Object.assign(meta, writeLock(req.headers, bucket));
    const tags = replaceTags ?? (src.meta.tags as unknown[] | undefined);
    if (tags?.length) meta.tags = tags;
    const sourceAlgo = Object.keys((src.meta.checksums as Record<string, string> | undefined) ?? {})[0] as ChecksumAlgorithm | undefined;
    const copied = copyStream(read.body, length, algoOverride ?? sourceAlgo);
    let write: { body: typeof copied.body | ReturnType<typeof encryptUpload>['body']; finish: typeof copied.finish } = copied;
    if (destKey) {
      const sealed = encryptUpload(copied.body, destKey, sealFor(destKey));
      write = { body: sealed.body, finish: (i) => sealed.finish(copied.finish(i)) };
    }
    const info = await deps.store.putObject(bucket, key, { body: write.body, contentType, meta, finish: write.finish, event: 'ObjectCreated:Copy' });
    let checksums = '';
    for (const [algo, value] of Object.entries((info.meta.checksums as Record<string, string> | undefined) ?? {})) {
      checksums += xmlElement(checksumXmlName(algo as ChecksumAlgorithm), value);
    }
    return xmlResponse(
      `<CopyObjectResult xmlns="${S3_XMLNS}"><LastModified>${new Date(timestampMillis(info.ts)).toISOString()}</LastModified>` +
        `<ETag>&quot;${info.etag}&quot;</ETag>${checksums}</CopyObjectResult>`,
      200,
      { ...sseHeaders(destKey), ...versionHeaders(info), ...(src.versionId !== undefined ? { 'x-amz-copy-source-version-id': src.versionId } : {}) },
    );
  } catch (err) {
    read.body.destroy();
    throw err;
  }
};
