/**
 * What every S3 handler receives: the parsed request (operation, bucket, key, query, headers, caller) and the
 * service's dependencies, plus the small response helpers that keep handlers thin translations between S3
 * and the ObjectStore.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { IdentityProvider, Principal } from '../common/identity.js';
import type { BucketInfo, ObjectStore } from '../proxy/object-store.js';
import { S3Error } from './errors.js';
import type { S3OperationName } from './operations.js';
import { XML_PROLOG } from './xml.js';

import type { PayloadMode } from './auth/index.js';
import type { DecodedBody } from './request-body.js';

export interface S3Deps {
  store: ObjectStore;
  identity: IdentityProvider;
  /** The region this service answers for (GetBucketLocation, SigV4 scopes). */
  region: string;
  virtualHostDomains: readonly string[];
  log: (line: string) => void;
}

export interface S3Request {
  op: S3OperationName;
  method: string;
  rawUrl: string;
  rawPath: string;
  bucketName?: string;
  key?: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  requestId: string;
  /** The authenticated caller; undefined for anonymous requests. */
  principal?: Principal;
  payload: PayloadMode;
  /** The raw request, whose body a handler may stream (through `requestBody()`). */
  req: IncomingMessage;
  /** The body, decoded as the signature and framing say (aws-chunked removed, trailers kept). */
  body(): DecodedBody;
}

/** What a handler answers: a status, headers and a body (string, Buffer or stream). */
export interface S3Response {
  status: number;
  headers: Record<string, string | number>;
  body?: string | Buffer | Readable;
}

export type Handler = (req: S3Request, deps: S3Deps) => Promise<S3Response>;

/** An XML response with the standard prolog. */
export function xmlResponse(body: string, status = 200, headers: Record<string, string | number> = {}): S3Response {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body: XML_PROLOG + body };
}

/** An empty response. */
export function emptyResponse(status = 200, headers: Record<string, string | number> = {}): S3Response {
  return { status, headers };
}

/** The caller's bucket, or NoSuchBucket; AccessDenied when the caller may not touch it. */
export async function ownBucket(req: S3Request, deps: S3Deps): Promise<BucketInfo> {
  const name = req.bucketName!;
  const bucket = await deps.store.getBucket(name);
  if (!bucket) throw new S3Error('NoSuchBucket', { extra: { BucketName: name } });
  const p = req.principal;
  if (!p || (!p.isRoot && p.account !== bucket.account)) throw new S3Error('AccessDenied');
  return bucket;
}

/** The canonical ID an account shows as an owner in S3 responses. */
export function ownerXml(account: string): string {
  return `<Owner><ID>${account}</ID><DisplayName>${account}</DisplayName></Owner>`;
}
