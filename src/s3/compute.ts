/**
 * What the S3 dialect asks of the compute layer (src/compute implements it; the proxy root wires it in):
 * bucket notification configurations, and the WebAssembly hooks bound to PUT and GET. S3 owns the XML and
 * the errors; the compute layer owns targets, hooks and delivery.
 */
import type { Readable } from 'node:stream';
import type { BucketInfo, ObjectInfo } from '../proxy/object-store.js';

/** One configuration of a NotificationConfiguration (Queue, Topic or CloudFunction). */
export interface NotificationRule {
  id: string;
  kind: 'Queue' | 'Topic' | 'CloudFunction';
  /** The destination's ARN, e.g. `arn:arca:sqs::NAME:webhook`. */
  arn: string;
  /** Event names as configured (`s3:ObjectCreated:*`, …). */
  events: string[];
  prefix?: string;
  suffix?: string;
}

/** A PUT body run through a put hook. */
export interface HookedUpload {
  /** The bytes to store. */
  body: Readable;
  /** Once `body` has ended: the bytes the client sent, and what the hook made of them. */
  result(): { inputBytes: number; transformed: boolean; etag: string; meta: Record<string, string> };
}

/** A GET hook about to transform an object's bytes. */
export interface ReadHook {
  name: string;
  /** Set for block-wise hooks: Range GETs read only the blocks covering the range. */
  blockSize?: number;
  /** Runs the hook over `body` (the object's bytes from `offset`), dropping `skip` output bytes, passing `length`. */
  run(body: Readable, ctx: { info: ObjectInfo; offset: number; skip: number; length?: number }): Promise<Readable>;
}

export interface S3Compute {
  /** The bucket's notification rules (empty: none). */
  notification(bucket: BucketInfo): NotificationRule[];
  /** Checks (targets exist and answer a test event) and stores rules; a message when a destination is invalid. */
  putNotification(bucket: BucketInfo, rules: NotificationRule[], requestId: string): Promise<string | undefined>;
  /** The put hook bound to `key`, applied to a body; undefined when none is bound. */
  putHook(bucket: BucketInfo, key: string, input: { body: Readable; contentType: string; size?: number; userMeta: Record<string, string> }): Promise<HookedUpload | undefined>;
  /** True when a put hook is bound to `key` (writes that cannot run it are refused). */
  hasPutHook(bucket: BucketInfo, key: string): boolean;
  /** The GET hook for `key`: the one named by the request, else the bucket's binding; undefined when none. */
  getHook(bucket: BucketInfo, key: string, named?: { name: string; params?: string }): Promise<ReadHook | undefined>;
}
