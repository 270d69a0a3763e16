/**
 * Every S3 operation Arca knows by name, and how a request maps to one: by method, by whether a bucket and
 * a key are present, and by the sub-resource in the query string. Parsing happens before anything else
 * runs; the dispatcher's handler table is typed over these names, so an operation without a handler
 * (or an explicit NotImplemented) does not compile.
 */

/** Sub-resources that pick an operation, with the operation per method, for bucket requests. */
const bucketSubresources = {
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  cors: { GET: 'GetBucketCors', PUT: 'PutBucketCors', DELETE: 'DeleteBucketCors' },
  policy: { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  policyStatus: { GET: 'GetBucketPolicyStatus' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'DeleteBucketTagging' },
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  versions: { GET: 'ListObjectVersions' },
  location: { GET: 'GetBucketLocation' },
  lifecycle: { GET: 'GetBucketLifecycleConfiguration', PUT: 'PutBucketLifecycleConfiguration', DELETE: 'DeleteBucketLifecycle' },
  'object-lock': { GET: 'GetObjectLockConfiguration', PUT: 'PutObjectLockConfiguration' },
  notification: { GET: 'GetBucketNotificationConfiguration', PUT: 'PutBucketNotificationConfiguration' },
  publicAccessBlock: { GET: 'GetPublicAccessBlock', PUT: 'PutPublicAccessBlock', DELETE: 'DeletePublicAccessBlock' },
  ownershipControls: { GET: 'GetBucketOwnershipControls', PUT: 'PutBucketOwnershipControls', DELETE: 'DeleteBucketOwnershipControls' },
  encryption: { GET: 'GetBucketEncryption', PUT: 'PutBucketEncryption', DELETE: 'DeleteBucketEncryption' },
  uploads: { GET: 'ListMultipartUploads' },
  delete: { POST: 'DeleteObjects' },
  website: { GET: 'GetBucketWebsite', PUT: 'PutBucketWebsite', DELETE: 'DeleteBucketWebsite' },
  logging: { GET: 'GetBucketLogging', PUT: 'PutBucketLogging' },
  replication: { GET: 'GetBucketReplication', PUT: 'PutBucketReplication', DELETE: 'DeleteBucketReplication' },
  accelerate: { GET: 'GetBucketAccelerateConfiguration', PUT: 'PutBucketAccelerateConfiguration' },
  requestPayment: { GET: 'GetBucketRequestPayment', PUT: 'PutBucketRequestPayment' },
  analytics: { GET: 'GetBucketAnalyticsConfiguration', PUT: 'PutBucketAnalyticsConfiguration', DELETE: 'DeleteBucketAnalyticsConfiguration' },
  metrics: { GET: 'GetBucketMetricsConfiguration', PUT: 'PutBucketMetricsConfiguration', DELETE: 'DeleteBucketMetricsConfiguration' },
  inventory: { GET: 'GetBucketInventoryConfiguration', PUT: 'PutBucketInventoryConfiguration', DELETE: 'DeleteBucketInventoryConfiguration' },
  'intelligent-tiering': {
    GET: 'GetBucketIntelligentTieringConfiguration',
    PUT: 'PutBucketIntelligentTieringConfiguration',
    DELETE: 'DeleteBucketIntelligentTieringConfiguration',
  },
} as const;

/** Sub-resources that pick an operation for object requests. */
const objectSubresources = {
  acl: { GET: 'GetObjectAcl', PUT: 'PutObjectAcl' },
  tagging: { GET: 'GetObjectTagging', PUT: 'PutObjectTagging', DELETE: 'DeleteObjectTagging' },
  retention: { GET: 'GetObjectRetention', PUT: 'PutObjectRetention' },
  'legal-hold': { GET: 'GetObjectLegalHold', PUT: 'PutObjectLegalHold' },
  attributes: { GET: 'GetObjectAttributes' },
  torrent: { GET: 'GetObjectTorrent' },
  restore: { POST: 'RestoreObject' },
  select: { POST: 'SelectObjectContent' },
  uploads: { POST: 'CreateMultipartUpload' },
} as const;

type Values<T> = T[keyof T];
type SubOps<T> = Values<{ [K in keyof T]: Values<T[K]> }>;

/** The name of every operation the parser can produce. */
export type S3OperationName =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'PostObject'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'ListParts'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PreflightRequest'
  | 'UnknownOperation'
  | SubOps<typeof bucketSubresources>
  | SubOps<typeof objectSubresources>;

function bySubresource(table: Record<string, Record<string, string>>, method: string, query: URLSearchParams): string | undefined {
  for (const sub of Object.keys(table)) {
    if (query.has(sub)) return table[sub][method] ?? 'UnknownOperation';
  }
  return undefined;
}

/**
 * The operation a request names. `bucket` and `key` are what addressing resolved (path-style or
 * virtual-host-style); `query` the parsed query string; `headers` lower-case.
 */
export function operationOf(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
): S3OperationName {
  if (method === 'OPTIONS' && bucket !== undefined) return 'PreflightRequest';
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : 'UnknownOperation';
  if (key === undefined) {
    const sub = bySubresource(bucketSubresources, method, query);
    if (sub) return sub as S3OperationName;
    switch (method) {
      case 'PUT':
        return 'CreateBucket';
      case 'HEAD':
        return 'HeadBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'GET':
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'POST':
        return String(headers['content-type'] ?? '').startsWith('multipart/form-data') ? 'PostObject' : 'UnknownOperation';
      default:
        return 'UnknownOperation';
    }
  }
  if (query.has('uploadId')) {
    switch (method) {
      case 'PUT':
        if (!query.has('partNumber')) return 'UnknownOperation';
        return headers['x-amz-copy-source'] !== undefined ? 'UploadPartCopy' : 'UploadPart';
      case 'GET':
        return 'ListParts';
      case 'POST':
        return 'CompleteMultipartUpload';
      case 'DELETE':
        return 'AbortMultipartUpload';
      default:
        return 'UnknownOperation';
    }
  }
  const sub = bySubresource(objectSubresources, method, query);
  if (sub) return sub as S3OperationName;
  switch (method) {
    case 'PUT':
      return headers['x-amz-copy-source'] !== undefined ? 'CopyObject' : 'PutObject';
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return 'DeleteObject';
    default:
      return 'UnknownOperation';
  }
}
