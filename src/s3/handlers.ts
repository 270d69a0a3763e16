/**
 * The handler of every S3 operation. The table is typed over every operation name the parser can produce,
 * so a new operation without a handler (or an explicit `notImplemented`) does not compile.
 */
import { notImplemented } from './app.js';
import type { Handler } from './context.js';
import type { S3OperationName } from './operations.js';
import { abortMultipartUpload } from './ops/abort-multipart-upload.js';
import { completeMultipartUpload } from './ops/complete-multipart-upload.js';
import { createMultipartUpload } from './ops/create-multipart-upload.js';
import { listMultipartUploads } from './ops/list-multipart-uploads.js';
import { listParts } from './ops/list-parts.js';
import { uploadPart } from './ops/upload-part.js';
import { uploadPartCopy } from './ops/upload-part-copy.js';
import { createBucket } from './ops/create-bucket.js';
import { deleteBucketCors } from './ops/delete-bucket-cors.js';
import { deleteBucketOwnershipControls } from './ops/delete-bucket-ownership-controls.js';
import { deleteBucketPolicy } from './ops/delete-bucket-policy.js';
import { deletePublicAccessBlock } from './ops/delete-public-access-block.js';
import { getBucketAcl } from './ops/get-bucket-acl.js';
import { getBucketCors } from './ops/get-bucket-cors.js';
import { getBucketNotificationConfiguration } from './ops/get-bucket-notification-configuration.js';
import { putBucketNotificationConfiguration } from './ops/put-bucket-notification-configuration.js';
import { getBucketOwnershipControls } from './ops/get-bucket-ownership-controls.js';
import { getBucketPolicy } from './ops/get-bucket-policy.js';
import { getBucketPolicyStatus } from './ops/get-bucket-policy-status.js';
import { getObjectAcl } from './ops/get-object-acl.js';
import { getPublicAccessBlock } from './ops/get-public-access-block.js';
import { preflight } from './ops/preflight.js';
import { putBucketAcl } from './ops/put-bucket-acl.js';
import { putBucketCors } from './ops/put-bucket-cors.js';
import { putBucketOwnershipControls } from './ops/put-bucket-ownership-controls.js';
import { putBucketPolicy } from './ops/put-bucket-policy.js';
import { putObjectAcl } from './ops/put-object-acl.js';
import { putPublicAccessBlock } from './ops/put-public-access-block.js';
import { copyObject } from './ops/copy-object.js';
import { deleteBucket } from './ops/delete-bucket.js';
import { deleteObject } from './ops/delete-object.js';
import { deleteObjects } from './ops/delete-objects.js';
import { deleteBucketTagging } from './ops/delete-bucket-tagging.js';
import { deleteObjectTagging } from './ops/delete-object-tagging.js';
import { getBucketTagging } from './ops/get-bucket-tagging.js';
import { getObjectTagging } from './ops/get-object-tagging.js';
import { getBucketLocation } from './ops/get-bucket-location.js';
import { getBucketVersioning } from './ops/get-bucket-versioning.js';
import { getObject } from './ops/get-object.js';
import { headBucket } from './ops/head-bucket.js';
import { headObject } from './ops/head-object.js';
import { listBuckets } from './ops/list-buckets.js';
import { listObjects } from './ops/list-objects.js';
import { listObjectsV2 } from './ops/list-objects-v2.js';
import { postObject } from './ops/post-object.js';
import { putObject } from './ops/put-object.js';
import { putBucketTagging } from './ops/put-bucket-tagging.js';
import { putObjectTagging } from './ops/put-object-tagging.js';
import { getObjectLegalHold } from './ops/get-object-legal-hold.js';
import { deleteBucketLifecycle } from './ops/delete-bucket-lifecycle.js';
import { getBucketLifecycleConfiguration } from './ops/get-bucket-lifecycle-configuration.js';
import { putBucketLifecycleConfiguration } from './ops/put-bucket-lifecycle-configuration.js';
import { getObjectLockConfiguration } from './ops/get-object-lock-configuration.js';
import { getObjectRetention } from './ops/get-object-retention.js';
import { listObjectVersions } from './ops/list-object-versions.js';
import { putBucketVersioning } from './ops/put-bucket-versioning.js';
import { putObjectLegalHold } from './ops/put-object-legal-hold.js';
import { putObjectLockConfiguration } from './ops/put-object-lock-configuration.js';
import { putObjectRetention } from './ops/put-object-retention.js';

const notYet: Handler = () => notImplemented();

export const handlers: Record<S3OperationName, Handler> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  GetBucketVersioning: getBucketVersioning,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,

  PostObject: postObject,
  CopyObject: copyObject,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  ListParts: listParts,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  CreateMultipartUpload: createMultipartUpload,
  ListMultipartUploads: listMultipartUploads,
  DeleteObjects: deleteObjects,
  PreflightRequest: preflight,
  UnknownOperation: notYet,
  GetBucketAcl: getBucketAcl,
  PutBucketAcl: putBucketAcl,
  GetBucketCors: getBucketCors,
  PutBucketCors: putBucketCors,
  DeleteBucketCors: deleteBucketCors,
  GetBucketPolicy: getBucketPolicy,
  PutBucketPolicy: putBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  GetBucketTagging: getBucketTagging,
  PutBucketTagging: putBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
  PutBucketVersioning: putBucketVersioning,
  ListObjectVersions: listObjectVersions,
  GetBucketLifecycleConfiguration: getBucketLifecycleConfiguration,
  PutBucketLifecycleConfiguration: putBucketLifecycleConfiguration,
  DeleteBucketLifecycle: deleteBucketLifecycle,
  GetObjectLockConfiguration: getObjectLockConfiguration,
  PutObjectLockConfiguration: putObjectLockConfiguration,
  GetBucketNotificationConfiguration: getBucketNotificationConfiguration,
  PutBucketNotificationConfiguration: putBucketNotificationConfiguration,
  GetPublicAccessBlock: getPublicAccessBlock,
  PutPublicAccessBlock: putPublicAccessBlock,
  DeletePublicAccessBlock: deletePublicAccessBlock,
  GetBucketOwnershipControls: getBucketOwnershipControls,
  PutBucketOwnershipControls: putBucketOwnershipControls,
  DeleteBucketOwnershipControls: deleteBucketOwnershipControls,
  GetBucketEncryption: notYet,
  PutBucketEncryption: notYet,
  DeleteBucketEncryption: notYet,
  GetBucketWebsite: notYet,
  PutBucketWebsite: notYet,
  DeleteBucketWebsite: notYet,
  GetBucketLogging: notYet,
  PutBucketLogging: notYet,
  GetBucketReplication: notYet,
  PutBucketReplication: notYet,
  DeleteBucketReplication: notYet,
  GetBucketAccelerateConfiguration: notYet,
  PutBucketAccelerateConfiguration: notYet,
  GetBucketRequestPayment: notYet,
  PutBucketRequestPayment: notYet,
  GetBucketAnalyticsConfiguration: notYet,
  PutBucketAnalyticsConfiguration: notYet,
  DeleteBucketAnalyticsConfiguration: notYet,
  GetBucketMetricsConfiguration: notYet,
  PutBucketMetricsConfiguration: notYet,
  DeleteBucketMetricsConfiguration: notYet,
  GetBucketInventoryConfiguration: notYet,
  PutBucketInventoryConfiguration: notYet,
  DeleteBucketInventoryConfiguration: notYet,
  GetBucketIntelligentTieringConfiguration: notYet,
  PutBucketIntelligentTieringConfiguration: notYet,
  DeleteBucketIntelligentTieringConfiguration: notYet,
  GetObjectAcl: getObjectAcl,
  PutObjectAcl: putObjectAcl,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  GetObjectRetention: getObjectRetention,
  PutObjectRetention: putObjectRetention,
  GetObjectLegalHold: getObjectLegalHold,
  PutObjectLegalHold: putObjectLegalHold,
  GetObjectAttributes: notYet,
  GetObjectTorrent: notYet,
  RestoreObject: notYet,
  SelectObjectContent: notYet,
};
