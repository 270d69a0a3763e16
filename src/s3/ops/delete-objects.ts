/** DeleteObjects — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html */
import { authorizeObject, type Handler, ownBucket, xmlResponse } from '../context.js';
import { isArcaError } from '../../common/errors.js';
import type { DeleteResult } from '../../proxy/object-store.js';
import { isValidVersionId } from '../../proxy/object-store.js';
import { S3Error, toS3Error } from '../errors.js';
import { bypassGovernance } from '../object-lock.js';
import { mapLimit } from '../multipart.js';
import { readSmallBody, requireBodyDigest } from '../request-body.js';
import { escapeXml, parseXml, S3_XMLNS, xmlElement } from '../xml.js';

/** Most keys one request may name. */
const maxKeys = 1000;
/** 1,000 keys of 1,024 bytes with their markup fit. */
const maxBodyBytes = 2 * 1024 * 1024;

interface Target {
  key: string;
  versionId?: string;
}

/** Parses `<Delete><Quiet/>?<Object><Key/><VersionId/>?</Object>…</Delete>` (1–1,000 objects). */
function parseDelete(body: Buffer): { quiet: boolean; targets: Target[] } {
  const root = parseXml(body);
  if (root.name !== 'Delete') throw new S3Error('MalformedXML');
  const objects = root.childrenNamed('Object');
  if (objects.length === 0 || objects.length > maxKeys) throw new S3Error('MalformedXML');
  const targets = objects.map((o) => {
    const key = o.textOf('Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    return { key, versionId: o.textOf('VersionId') };
  });
  return { quiet: root.textOf('Quiet')?.trim().toLowerCase() === 'true', targets };
}

export const deleteObjects: Handler = async (req, deps) => {
  const bucket = await ownBucket(req, deps);
  requireBodyDigest(req);
  const { quiet, targets } = parseDelete(await readSmallBody(req, maxBodyBytes));
  const results: Array<DeleteResult | undefined> = targets.map(() => undefined);
  const outcomes = await mapLimit(targets, 16, async (t): Promise<S3Error | undefined> => {
    try {
      if (Buffer.byteLength(t.key) > 1024) throw new S3Error('KeyTooLongError');
      await authorizeObject(req, deps, bucket, 's3:DeleteObject', t.key);
      if (t.versionId !== undefined) await authorizeObject(req, deps, bucket, 's3:DeleteObjectVersion', t.key);
      if (t.versionId !== undefined && !isValidVersionId(t.versionId)) throw new S3Error('NoSuchVersion', { message: 'The specified version does not exist.' });
      const bypass = t.versionId !== undefined && (await bypassGovernance(req, deps, bucket, t.key));
      // As DeleteObject: deleting what is not there succeeds.
      results[targets.indexOf(t)] = await deps.store.deleteObject(bucket, t.key, { versionId: t.versionId, bypassGovernance: bypass });
      return undefined;
    } catch (err) {
      const e = isArcaError(err, 'Locked') ? new S3Error('AccessDenied', { message: 'Access Denied because object protected by object lock.' }) : toS3Error(err);
      if (e.code === 'NoSuchBucket') throw e;
      if (e.code === 'InternalError') deps.log(`${req.requestId} DeleteObjects ${bucket.name}/${t.key}: ${(err as Error)?.stack ?? err}`);
      return e;
    }
  });
  let body = '';
  targets.forEach((t, i) => {
    const e = outcomes[i];
    if (e) {
      body += `<Error><Key>${escapeXml(t.key)}</Key>${xmlElement('VersionId', t.versionId)}<Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error>`;
    } else if (!quiet) {
      const r = results[i];
      const marker = r?.deleteMarker ? `<DeleteMarker>true</DeleteMarker>${t.versionId === undefined ? xmlElement('DeleteMarkerVersionId', r.versionId) : ''}` : '';
      body += `<Deleted><Key>${escapeXml(t.key)}</Key>${xmlElement('VersionId', t.versionId)}${marker}</Deleted>`;
    }
  });
  return xmlResponse(`<DeleteResult xmlns="${S3_XMLNS}">${body}</DeleteResult>`);
};
