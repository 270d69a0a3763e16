/**
 * The IAM action of every S3 operation — what bucket policies name in `Action` — and, per action, the
 * resource it is checked on and the ACL permission that grants it. Typed over every operation name, so a new
 * operation does not compile until it says which action it needs.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 */
import type { S3OperationName } from '../operations.js';

/** An ACL permission (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions). */
export type AclPermission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';

/**
 * What an action is checked on:
 * - `service`: no bucket (ListAllMyBuckets, CreateBucket);
 * - `bucket`: the bucket ARN, for the bucket's contents (list, delete the bucket);
 * - `config`: the bucket ARN, for the bucket's settings: the owning account may always use these, even
 *   against an explicit Deny in its own bucket policy, so a policy cannot lock its owner out;
 * - `object`: the object ARN `arn:aws:s3:::bucket/key`.
 */
export type ActionScope = 'service' | 'bucket' | 'config' | 'object';

export interface ActionInfo {
  scope: ActionScope;
  /** The ACL that can grant the action: the bucket's or the object's, and which permission. */
  acl?: { on: 'bucket' | 'object'; permission: AclPermission };
}

const bucketRead = { on: 'bucket', permission: 'READ' } as const;
const bucketWrite = { on: 'bucket', permission: 'WRITE' } as const;

/** Every IAM action Arca checks. */
export const actions = {
  's3:ListAllMyBuckets': { scope: 'service' },
  's3:CreateBucket': { scope: 'service' },
  's3:DeleteBucket': { scope: 'bucket' },
  's3:ListBucket': { scope: 'bucket', acl: bucketRead },
  's3:ListBucketVersions': { scope: 'bucket', acl: bucketRead },
  's3:ListBucketMultipartUploads': { scope: 'bucket', acl: bucketRead },
  's3:GetBucketLocation': { scope: 'config' },
  's3:GetBucketAcl': { scope: 'config', acl: { on: 'bucket', permission: 'READ_ACP' } },
  's3:PutBucketAcl': { scope: 'config', acl: { on: 'bucket', permission: 'WRITE_ACP' } },
  's3:GetBucketCORS': { scope: 'config' },
  's3:PutBucketCORS': { scope: 'config' },
  's3:GetBucketPolicy': { scope: 'config' },
  's3:PutBucketPolicy': { scope: 'config' },
  's3:DeleteBucketPolicy': { scope: 'config' },
  's3:GetBucketPolicyStatus': { scope: 'config' },
  's3:GetBucketPublicAccessBlock': { scope: 'config' },
  's3:PutBucketPublicAccessBlock': { scope: 'config' },
  's3:GetBucketOwnershipControls': { scope: 'config' },
  's3:PutBucketOwnershipControls': { scope: 'config' },
  's3:GetBucketTagging': { scope: 'config' },
  's3:PutBucketTagging': { scope: 'config' },
  's3:GetBucketVersioning': { scope: 'config' },
  's3:PutBucketVersioning': { scope: 'config' },
  's3:GetLifecycleConfiguration': { scope: 'config' },
  's3:PutLifecycleConfiguration': { scope: 'config' },
  's3:GetBucketObjectLockConfiguration': { scope: 'config' },
  's3:PutBucketObjectLockConfiguration': { scope: 'config' },
  's3:GetBucketNotification': { scope: 'config' },
  's3:PutBucketNotification': { scope: 'config' },
  's3:GetEncryptionConfiguration': { scope: 'config' },
  's3:PutEncryptionConfiguration': { scope: 'config' },
  's3:GetBucketWebsite': { scope: 'config' },
  's3:PutBucketWebsite': { scope: 'config' },
  's3:DeleteBucketWebsite': { scope: 'config' },
  's3:GetBucketLogging': { scope: 'config' },
  's3:PutBucketLogging': { scope: 'config' },
  's3:GetReplicationConfiguration': { scope: 'config' },
  's3:PutReplicationConfiguration': { scope: 'config' },
  's3:GetAccelerateConfiguration': { scope: 'config' },
  's3:PutAccelerateConfiguration': { scope: 'config' },
  's3:GetBucketRequestPayment': { scope: 'config' },
  's3:PutBucketRequestPayment': { scope: 'config' },
  's3:GetAnalyticsConfiguration': { scope: 'config' },
  's3:PutAnalyticsConfiguration': { scope: 'config' },
  's3:GetMetricsConfiguration': { scope: 'config' },
  's3:PutMetricsConfiguration': { scope: 'config' },
  's3:GetInventoryConfiguration': { scope: 'config' },
  's3:PutInventoryConfiguration': { scope: 'config' },
  's3:GetIntelligentTieringConfiguration': { scope: 'config' },
  's3:PutIntelligentTieringConfiguration': { scope: 'config' },
  's3:GetObject': { scope: 'object', acl: { on: 'object', permission: 'READ' } },
  's3:GetObjectTorrent': { scope: 'object', acl: { on: 'object', permission: 'READ' } },
  's3:GetObjectAttributes': { scope: 'object' },
  // Writing and deleting objects is granted by the bucket's ACL, as in S3.
  's3:PutObject': { scope: 'object', acl: bucketWrite },
  's3:DeleteObject': { scope: 'object', acl: bucketWrite },
  's3:AbortMultipartUpload': { scope: 'object', acl: bucketWrite },
  's3:ListMultipartUploadParts': { scope: 'object', acl: bucketWrite },
  's3:GetObjectAcl': { scope: 'object', acl: { on: 'object', permission: 'READ_ACP' } },
  's3:PutObjectAcl': { scope: 'object', acl: { on: 'object', permission: 'WRITE_ACP' } },
  's3:GetObjectTagging': { scope: 'object' },
  's3:PutObjectTagging': { scope: 'object' },
  's3:DeleteObjectTagging': { scope: 'object' },
  's3:GetObjectRetention': { scope: 'object' },
  's3:PutObjectRetention': { scope: 'object' },
  's3:GetObjectLegalHold': { scope: 'object' },
  's3:PutObjectLegalHold': { scope: 'object' },
  's3:BypassGovernanceRetention': { scope: 'object' },
  's3:GetObjectVersion': { scope: 'object', acl: { on: 'object', permission: 'READ' } },
  's3:DeleteObjectVersion': { scope: 'object', acl: bucketWrite },
  's3:RestoreObject': { scope: 'object' },
} as const satisfies Record<string, ActionInfo>;

/** An IAM action Arca knows; an unknown one does not compile. */
export type IamAction = keyof typeof actions;

/**
 * The action each operation needs (undefined: checked elsewhere or not at all — CORS preflight, unknown
 * operations). CopyObject and UploadPartCopy also need `s3:GetObject` on their source, which their handlers
 * check with `accessBucket(req, deps, source, 's3:GetObject', sourceKey)`.
 */
export const operationActions: Record<S3OperationName, IamAction | undefined> = {
  ListBuckets: 's3:ListAllMyBuckets',
  CreateBucket: 's3:CreateBucket',
  HeadBucket: 's3:ListBucket',
  DeleteBucket: 's3:DeleteBucket',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  PostObject: 's3:PutObject',
  PutObject: 's3:PutObject',
  CopyObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
  DeleteObjects: 's3:DeleteObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  UploadPartCopy: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  PreflightRequest: undefined,
  UnknownOperation: undefined,
  GetBucketLocation: 's3:GetBucketLocation',
  GetBucketAcl: 's3:GetBucketAcl',
  PutBucketAcl: 's3:PutBucketAcl',
  GetBucketCors: 's3:GetBucketCORS',
  PutBucketCors: 's3:PutBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  GetBucketPolicy: 's3:GetBucketPolicy',
  PutBucketPolicy: 's3:PutBucketPolicy',
  DeleteBucketPolicy: 's3:DeleteBucketPolicy',
  GetBucketPolicyStatus: 's3:GetBucketPolicyStatus',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetBucketOwnershipControls: 's3:GetBucketOwnershipControls',
  PutBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  GetBucketTagging: 's3:GetBucketTagging',
  PutBucketTagging: 's3:PutBucketTagging',
  DeleteBucketTagging: 's3:PutBucketTagging',
  GetBucketVersioning: 's3:GetBucketVersioning',
  PutBucketVersioning: 's3:PutBucketVersioning',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
  PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
  GetBucketNotificationConfiguration: 's3:GetBucketNotification',
  PutBucketNotificationConfiguration: 's3:PutBucketNotification',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  GetBucketWebsite: 's3:GetBucketWebsite',
  PutBucketWebsite: 's3:PutBucketWebsite',
  DeleteBucketWebsite: 's3:DeleteBucketWebsite',
  GetBucketLogging: 's3:GetBucketLogging',
  PutBucketLogging: 's3:PutBucketLogging',
  GetBucketReplication: 's3:GetReplicationConfiguration',
  PutBucketReplication: 's3:PutReplicationConfiguration',
  DeleteBucketReplication: 's3:PutReplicationConfiguration',
  GetBucketAccelerateConfiguration: 's3:GetAccelerateConfiguration',
  PutBucketAccelerateConfiguration: 's3:PutAccelerateConfiguration',
  GetBucketRequestPayment: 's3:GetBucketRequestPayment',
  PutBucketRequestPayment: 's3:PutBucketRequestPayment',
  GetBucketAnalyticsConfiguration: 's3:GetAnalyticsConfiguration',
  PutBucketAnalyticsConfiguration: 's3:PutAnalyticsConfiguration',
  DeleteBucketAnalyticsConfiguration: 's3:PutAnalyticsConfiguration',
  GetBucketMetricsConfiguration: 's3:GetMetricsConfiguration',
  PutBucketMetricsConfiguration: 's3:PutMetricsConfiguration',
  DeleteBucketMetricsConfiguration: 's3:PutMetricsConfiguration',
  GetBucketInventoryConfiguration: 's3:GetInventoryConfiguration',
  PutBucketInventoryConfiguration: 's3:PutInventoryConfiguration',
  DeleteBucketInventoryConfiguration: 's3:PutInventoryConfiguration',
  GetBucketIntelligentTieringConfiguration: 's3:GetIntelligentTieringConfiguration',
  PutBucketIntelligentTieringConfiguration: 's3:PutIntelligentTieringConfiguration',
  DeleteBucketIntelligentTieringConfiguration: 's3:PutIntelligentTieringConfiguration',
  GetObjectAcl: 's3:GetObjectAcl',
  PutObjectAcl: 's3:PutObjectAcl',
  GetObjectTagging: 's3:GetObjectTagging',
  PutObjectTagging: 's3:PutObjectTagging',
  DeleteObjectTagging: 's3:DeleteObjectTagging',
  GetObjectRetention: 's3:GetObjectRetention',
  PutObjectRetention: 's3:PutObjectRetention',
  GetObjectLegalHold: 's3:GetObjectLegalHold',
  PutObjectLegalHold: 's3:PutObjectLegalHold',
  GetObjectAttributes: 's3:GetObjectAttributes',
  GetObjectTorrent: 's3:GetObjectTorrent',
  RestoreObject: 's3:RestoreObject',
  SelectObjectContent: 's3:GetObject',
};

/** The scope and ACL mapping of an action. */
export function actionInfo(action: IamAction): ActionInfo {
  return actions[action];
}
