/**
 * CompleteMultipartUpload's work: reading the part list (tolerant XML: with or without the S3 namespace,
 * ETags quoted, entity-quoted or bare), checking every named part against what is stored, and computing
 * the object's ETag (`md5(concat(part md5s))-N`) and checksum (COMPOSITE `checksum(concat(part checksums))-N`,
 * or FULL_OBJECT: the CRC of the whole object, combined from the part CRCs without reading a byte).
 */
import {
  type ChecksumAlgorithm,
  CHECKSUM_ALGORITHMS,
  checksumAlgorithmFromHeader,
  checksumXmlName,
  combineCrcChecksums,
  compositeChecksum,
  type CrcAlgorithm,
  multipartEtag,
} from '../common/checksums.js';
import type { BucketInfo, ObjectStore, SegmentRef } from '../proxy/object-store.js';
import { S3Error } from './errors.js';
import { type ChecksumType, mapLimit, maxObjectBytes, maxParts, minPartBytes, parsePartNumber, partName, type UploadRecord } from './multipart.js';
import type { StoredSse } from './sse-c.js';
import { parseXml } from './xml.js';

/** One `<Part>` of the request. */
export interface RequestedPart {
  partNumber: number;
  /** Without quotes. */
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** An ETag as clients send it in the part list: `"abc"`, `&quot;abc&quot;` (decoded by then) or `abc`. */
function bareEtag(s: string): string {
  return s.trim().replace(/^"(.*)"$/s, '$1');
}

/** Parses the `<CompleteMultipartUpload>` body: 1–10,000 parts in ascending order. */
export function parseCompleteXml(body: Buffer): RequestedPart[] {
  const root = parseXml(body);
  if (root.name !== 'CompleteMultipartUpload') throw new S3Error('MalformedXML');
  const elements = root.childrenNamed('Part');
  if (elements.length === 0 || elements.length > maxParts) throw new S3Error('MalformedXML');
  const parts: RequestedPart[] = [];
  for (const el of elements) {
    const number = el.textOf('PartNumber');
    const etag = el.textOf('ETag');
    if (number === undefined || etag === undefined) throw new S3Error('MalformedXML');
    const partNumber = parsePartNumber(number.trim());
    if (parts.length && partNumber <= parts[parts.length - 1].partNumber) throw new S3Error('InvalidPartOrder');
    const checksums: RequestedPart['checksums'] = {};
    for (const algo of CHECKSUM_ALGORITHMS) {
      const v = el.textOf(checksumXmlName(algo));
      if (v !== undefined) checksums[algo] = v.trim();
    }
    parts.push({ partNumber, etag: bareEtag(etag), checksums });
  }
  return parts;
}

/** What completing an upload writes. */
export interface Assembly {
  segments: SegmentRef[];
  etag: string;
  size: number;
  checksum?: { algorithm: ChecksumAlgorithm; type: ChecksumType; value: string };
}

function invalidPart(uploadId: string, p: RequestedPart): S3Error {
  return new S3Error('InvalidPart', { extra: { UploadId: uploadId, PartNumber: String(p.partNumber), ETag: p.etag } });
}

/**
 * Checks the requested parts against the stored ones (each read directly, not from a listing, so a part
 * stored a moment ago is seen) and computes the object's segments, ETag and checksum. `headers` are the
 * Complete request's: a full-object checksum header there is verified.
 */
export async function assembleParts(
  store: ObjectStore,
  bucket: BucketInfo,
  record: UploadRecord,
  requested: RequestedPart[],
  headers: Record<string, string | string[] | undefined>,
): Promise<Assembly> {
  const segBucket = await store.internalBucket(bucket, 'segments');
  const names = requested.map((p) => partName(record.key, record.uploadId, p.partNumber));
  // Newest: a part uploaded again under its number may still be the older one on some device.
  const infos = await mapLimit(names, 32, (name) => store.headObject(segBucket, name, { newest: true }));
  requested.forEach((p, i) => {
    if (!infos[i] || infos[i].etag !== p.etag) throw invalidPart(record.uploadId, p);
  });
  let size = 0;
  requested.forEach((p, i) => {
    const partSize = infos[i]!.size;
    if (i < requested.length - 1 && partSize < minPartBytes) {
      throw new S3Error('EntityTooSmall', {
        extra: { ProposedSize: String(partSize), MinSizeAllowed: String(minPartBytes), PartNumber: String(p.partNumber), ETag: p.etag },
      });
    }
    size += partSize;
  });
  if (size > maxObjectBytes) throw new S3Error('EntityTooLarge', { extra: { ProposedSize: String(size), MaxSizeAllowed: String(maxObjectBytes) } });
  const algorithm = record.checksum?.algorithm;
  const partChecksums = infos.map((info) => (info!.meta.checksums as Record<string, string> | undefined)?.[algorithm ?? '']);
  const segments: SegmentRef[] = infos.map((info, i) => {
    const extra: Record<string, unknown> = { partNumber: requested[i].partNumber };
    const iv = (info!.meta.sse as StoredSse | undefined)?.iv;
    if (iv) extra.iv = iv;
    if (partChecksums[i]) extra.checksum = partChecksums[i];
    return { key: names[i], size: info!.size, etag: info!.etag, extra };
  });
  const assembly: Assembly = { segments, etag: multipartEtag(infos.map((info) => info!.etag)), size };
  if (algorithm && record.checksum) {
    const { type } = record.checksum;
    requested.forEach((p, i) => {
      const given = p.checksums[algorithm];
      if (given === undefined && type === 'COMPOSITE') {
        throw new S3Error('InvalidRequest', {
          message: `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`,
        });
      }
      if (!partChecksums[i] || (given !== undefined && given !== partChecksums[i])) throw invalidPart(record.uploadId, p);
    });
    const values = partChecksums as string[];
    const value =
      type === 'COMPOSITE'
        ? compositeChecksum(algorithm, values)
        : combineCrcChecksums(
            algorithm as CrcAlgorithm,
            values.map((checksum, i) => ({ checksum, size: infos[i]!.size })),
          );
    if (type === 'FULL_OBJECT') {
      for (const [name, v] of Object.entries(headers)) {
        if (checksumAlgorithmFromHeader(name) === algorithm && v !== value) {
          throw new S3Error('BadDigest', { message: `The ${algorithm.toLowerCase()} you specified did not match the calculated checksum.` });
        }
      }
    }
    assembly.checksum = { algorithm, type, value };
  }
  const declaredSize = headers['x-amz-mp-object-size'] as string | undefined;
  if (declaredSize !== undefined && declaredSize !== String(size)) {
    throw new S3Error('InvalidRequest', { message: `The provided 'x-amz-mp-object-size' header value ${declaredSize} does not match what was computed: ${size}` });
  }
  return assembly;
}
