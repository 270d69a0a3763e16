/**
 * What every S3 handler receives: the parsed request (operation, bucket, key, query, headers, caller) and the
 * service's dependencies, plus the small response helpers that keep handlers thin translations between S3
 * and the ObjectStore.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { IdentityProvider, Principal } from '../common/identity.js';
import type { BucketInfo, ObjectStore } from '../proxy/object-store.js';
import { actions, type IamAction, operationActions } from './access/actions.js';
import { isAllowed } from './access/authorize.js';
import type { ConditionKeys } from './access/conditions.js';
import { checkRequestAcl } from './access/request-acl.js';
import type { S3Compute } from './compute.js';
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
  /** Milliseconds a client may stall while its request body is read (ProxyConfig.clientIdleTimeoutMs); none when unset. */
  clientIdleTimeoutMs?: number;
  log: (line: string) => void;
  /** Event notifications and compute hooks (compute.ts); without it, notifications are NotImplemented and no hooks run. */
  compute?: S3Compute;
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
  /** The client's address (bucket-policy condition `aws:SourceIp`). */
  sourceIp?: string;
  /** True when the request came over TLS to this process (`aws:SecureTransport`). */
  secureTransport?: boolean;
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
 * when it does not exist, AccessDenied when the caller may not. Every handler of a bucket or object
 * operation calls this (or {@link accessBucket}) first: it is where authorization happens.
 */
export function ownBucket(req: S3Request, deps: S3Deps): Promise<BucketInfo> {
  return accessBucket(req, deps, req.bucketName!);
}

/** Operations that write a new object and may carry `x-amz-acl` / `x-amz-grant-*` for it. */
const objectWrites = new Set<S3OperationName>(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'PostObject']);

/**
 * A bucket the request touches, once the caller is allowed `action` (an IAM action such as `s3:GetObject`;
 * by default the action of the request's own operation, see access/actions.ts) on `key` (default the
 * request's key). For an object action without a key (DeleteObjects, PostObject before its form is read)
 * this only checks that the caller may do it to some key: the handler MUST then check every key with
 * `accessBucket(req, deps, bucket.name, action, key)` or {@link authorizeObject}. CopyObject checks its
 * source this way: `accessBucket(req, deps, sourceBucket, 's3:GetObject', sourceKey)`.
 *
 * For the request's own operation, an object write's ACL headers are checked here too (grantees exist,
 * BucketOwnerEnforced, BlockPublicAcls), so no write stores an ACL that could not be set.
 *
 * Buckets of Arca's system accounts (names starting with `.`) do not exist as far as S3 is concerned.
 */
export async function accessBucket(req: S3Request, deps: S3Deps, name: string, action?: IamAction, key?: string): Promise<BucketInfo> {
  const bucket = name.startsWith('.') ? undefined : await deps.store.getBucket(name);
  if (!bucket || bucket.account.startsWith('.')) throw new S3Error('NoSuchBucket', { extra: { BucketName: name } });
  // x-amz-expected-bucket-owner (x-amz-source-expected-bucket-owner for a copy source) guards against
  // writing to or reading from a bucket someone else owns.
  const expectedOwner = req.headers[action === undefined ? 'x-amz-expected-bucket-owner' : 'x-amz-source-expected-bucket-owner'];
  if (expectedOwner !== undefined && expectedOwner !== bucket.account) throw new S3Error('AccessDenied');
  const wanted = action ?? operationActions[req.op];
  if (!wanted) {
    // Operations without an IAM action (unknown ones) are for the owner only.
    if (!req.principal?.isRoot && req.principal?.account !== bucket.account) throw new S3Error('AccessDenied');
    return bucket;
  }
  await authorizeObject(req, deps, bucket, wanted, action === undefined ? req.key : key);
  if (action === undefined && objectWrites.has(req.op)) {
    await checkRequestAcl(req.headers, bucket, req.principal?.account ?? bucket.account, deps.identity);
  }
  return bucket;
}

/**
 * Checks `action` on `bucket` (and `key`, for object actions): resolves when allowed, AccessDenied
 * otherwise. DeleteObjects calls it per key; object ACLs are read only when they must decide.
 */
export async function authorizeObject(req: S3Request, deps: S3Deps, bucket: BucketInfo, action: IamAction, key?: string): Promise<void> {
  const allowed = await isAllowed({
    principal: req.principal,
    bucket,
    action,
    key: actions[action].scope === 'object' ? key : undefined,
    keys: conditionKeys(req),
    objectMeta: key === undefined ? undefined : async () => (await deps.store.headObject(bucket, key))?.meta,
  });
  if (!allowed) throw new S3Error('AccessDenied');
}

const listOperations = new Set<S3OperationName>(['ListObjects', 'ListObjectsV2', 'ListObjectVersions']);

/** The condition keys bucket-policy conditions can test (access/conditions.ts), from a request. */
export function conditionKeys(req: S3Request): ConditionKeys {
  const p = req.principal;
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const keys: ConditionKeys = {
    'aws:securetransport': String(req.secureTransport === true),
    'aws:sourceip': req.sourceIp,
    'aws:principaltype': p ? (p.isRoot ? 'Account' : 'User') : 'Anonymous',
    'aws:principalaccount': p?.account,
    'aws:username': p?.user,
    'aws:userid': p?.user,
    'aws:principalarn': p ? `arn:aws:iam::${p.account}:${p.isRoot ? 'root' : `user/${p.user}`}` : undefined,
    'aws:useragent': header('user-agent'),
    'aws:referer': header('referer'),
    's3:x-amz-acl': header('x-amz-acl'),
  };
  if (listOperations.has(req.op)) {
    keys['s3:prefix'] = req.query.get('prefix') ?? '';
    keys['s3:delimiter'] = req.query.get('delimiter') ?? undefined;
    keys['s3:max-keys'] = req.query.get('max-keys') ?? undefined;
  }
  return keys;
}

/** The canonical ID an account shows as an owner in S3 responses. */
export function ownerXml(account: string): string {
  return `<Owner><ID>${account}</ID><DisplayName>${account}</DisplayName></Owner>`;
}
