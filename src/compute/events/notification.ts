/**
 * Bucket notification rules as the compute layer keeps them (bucket setting `notification`), the event names
 * S3 defines, and which rules an event matches. A rule names its destination by ARN; Arca's webhooks are
 * `arn:arca:sqs::NAME:webhook` (sns or lambda in place of sqs name the same target).
 */
import type { BucketInfo } from '../../proxy/object-store.js';
import { keyMatches } from '../hooks/bindings.js';

export const notificationMetaKey = 'notification';

/** A configuration of a NotificationConfiguration, with when it was set (events before then are not its). */
export interface StoredRule {
  id: string;
  kind: 'Queue' | 'Topic' | 'CloudFunction';
  arn: string;
  events: string[];
  prefix?: string;
  suffix?: string;
  /** Milliseconds since the epoch when the rule was configured. */
  since: number;
}

/** Every event name a configuration may name. */
export const knownEventNames = new Set([
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:LifecycleExpiration:*',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
]);

/** The webhook an ARN names, or undefined when it is not one of Arca's target ARNs. */
export function webhookOfArn(arn: string): string | undefined {
  return /^arn:arca:(?:sqs|sns|lambda)::([A-Za-z0-9_.-]{1,64}):webhook$/.exec(arn)?.[1];
}

export function webhookArn(name: string): string {
  return `arn:arca:sqs::${name}:webhook`;
}

export function rulesOf(bucket: BucketInfo): StoredRule[] {
  const v = bucket.meta[notificationMetaKey];
  return Array.isArray(v) ? (v as StoredRule[]) : [];
}

/** True when a rule takes an event (`ObjectCreated:Put`, … as records name them) on `key`. */
export function ruleMatches(rule: Pick<StoredRule, 'events' | 'prefix' | 'suffix'>, event: string, key: string): boolean {
  const full = `s3:${event}`;
  return keyMatches(rule, key) && rule.events.some((e) => e === full || (e.endsWith(':*') && full.startsWith(e.slice(0, -1))));
}
