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

/**
 * The bucket a request addresses, once the caller is allowed the request's operation on it; NoSuchBucket
 * when it does not exist, AccessDenied when the caller may not. (Authorization by ACL and bucket policy
 * decides inside `accessBucket`; handlers only say which bucket and, when it is not the request's own
 * operation, which action.)
 */
export function ownBucket(req: S3Request, deps: S3Deps): Promise<BucketInfo> {
  return accessBucket(req, deps, req.bucketName!);
}

/**
 * A bucket the request touches, checked for `action` (an IAM action such as `s3:GetObject`; by default the
 * action of the request's own operation) on `key` (default the request's key). CopyObject checks its source
 * this way.
 */
export async function accessBucket(req: S3Request, deps: S3Deps, name: string, _action?: string, _key?: string): Promise<BucketInfo> {
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
