/**
 * Event records in AWS's format (eventVersion 2.1): https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 * `s3.object.sequencer` is the version's timestamp in microseconds as 16 hex digits: it grows with every
 * later version of a key, as AWS's does, so consumers can order and deduplicate.
 */
import { timestampMillis } from '../../common/timestamp.js';
import type { BucketInfo, ChangeRecord } from '../../proxy/object-store.js';

export interface EventRecord {
  eventVersion: '2.1';
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: Record<string, string>;
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

/** The sequencer of a version timestamp (`SSSSSSSSSS.UUUUUU`). */
export function sequencerOf(ts: string): string {
  const [s, us] = ts.split('.');
  return (BigInt(s) * 1_000_000n + BigInt(us ?? 0)).toString(16).toUpperCase().padStart(16, '0');
}

/** S3 event keys are URL-encoded as in a form (space as `+`). */
function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+');
}

export function eventRecord(bucket: BucketInfo, change: ChangeRecord, configurationId: string, region: string): EventRecord {
  const object: EventRecord['s3']['object'] = { key: encodeKey(change.key), sequencer: sequencerOf(change.ts) };
  if (!change.deleted) {
    object.size = change.size ?? 0;
    if (change.etag !== undefined) object.eTag = change.etag;
  }
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: new Date(timestampMillis(change.ts)).toISOString(),
    eventName: change.event,
    userIdentity: { principalId: bucket.account },
    requestParameters: { sourceIPAddress: '' },
    responseElements: {},
    s3: {
      s3SchemaVersion: '1.0',
      configurationId,
      bucket: { name: bucket.name, ownerIdentity: { principalId: bucket.account }, arn: `arn:aws:s3:::${bucket.name}` },
      object,
    },
  };
}

/** The message AWS sends to a destination when a configuration names it. */
export function testEvent(bucket: string, requestId: string): Record<string, string> {
  return { Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: bucket, RequestId: requestId, HostId: requestId };
}
