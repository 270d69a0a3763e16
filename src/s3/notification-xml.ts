/**
 * NotificationConfiguration documents both ways:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
 */
import { randomBytes } from 'node:crypto';
import type { NotificationRule } from './compute.js';
import { S3Error } from './errors.js';
import { escapeXml, parseXml, S3_XMLNS, type XmlElement } from './xml.js';

const kinds = { QueueConfiguration: ['Queue', 'Queue'], TopicConfiguration: ['Topic', 'Topic'], CloudFunctionConfiguration: ['CloudFunction', 'CloudFunction'] } as const;

function invalid(message: string): S3Error {
  return new S3Error('InvalidArgument', { message, extra: { ArgumentName: 'NotificationConfiguration' } });
}

function filterOf(el: XmlElement): { prefix?: string; suffix?: string } {
  const out: { prefix?: string; suffix?: string } = {};
  for (const rule of el.child('Filter')?.child('S3Key')?.childrenNamed('FilterRule') ?? []) {
    const name = (rule.textOf('Name') ?? '').toLowerCase();
    const value = rule.textOf('Value') ?? '';
    if (name !== 'prefix' && name !== 'suffix') throw invalid(`FilterRule name must be either prefix or suffix, not ${name}`);
    if (out[name] !== undefined) throw invalid(`Cannot specify more than one ${name} rule in a filter.`);
    out[name] = value;
  }
  return out;
}

/** Parses a NotificationConfiguration body into rules (empty: remove the configuration). */
export function parseNotificationXml(body: Buffer): NotificationRule[] {
  const root = parseXml(body, { maxBytes: 256 * 1024 });
  if (root.name !== 'NotificationConfiguration') throw new S3Error('MalformedXML');
  const rules: NotificationRule[] = [];
  const ids = new Set<string>();
  for (const el of root.children) {
    if (el.name === 'EventBridgeConfiguration') throw invalid('EventBridge destinations are not supported');
    const kind = kinds[el.name as keyof typeof kinds];
    if (!kind) throw new S3Error('MalformedXML');
    const arn = el.textOf(kind[1])?.trim();
    if (!arn) throw new S3Error('MalformedXML');
    const events = el.childrenNamed('Event').map((e) => e.text.trim());
    if (events.length === 0) throw invalid('A notification configuration must name at least one event');
    const id = el.textOf('Id')?.trim() || randomBytes(12).toString('base64url');
    if (ids.has(id)) throw invalid(`Two configurations have the Id ${id}`);
    ids.add(id);
    rules.push({ id, kind: kind[0], arn, events, ...filterOf(el) });
  }
  return rules;
}

/** Renders rules as a NotificationConfiguration document. */
export function notificationXml(rules: NotificationRule[]): string {
  const parts = rules.map((r) => {
    const tag = `${r.kind}Configuration`;
    const filters = (['prefix', 'suffix'] as const)
      .filter((n) => r[n] !== undefined)
      .map((n) => `<FilterRule><Name>${n}</Name><Value>${escapeXml(r[n]!)}</Value></FilterRule>`)
      .join('');
    return (
      `<${tag}><Id>${escapeXml(r.id)}</Id><${r.kind}>${escapeXml(r.arn)}</${r.kind}>` +
      r.events.map((e) => `<Event>${escapeXml(e)}</Event>`).join('') +
      (filters ? `<Filter><S3Key>${filters}</S3Key></Filter>` : '') +
      `</${tag}>`
    );
  });
  return `<NotificationConfiguration xmlns="${S3_XMLNS}">${parts.join('')}</NotificationConfiguration>`;
}
