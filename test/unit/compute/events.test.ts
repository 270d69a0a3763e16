import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { ruleMatches, webhookOfArn } from '../../../src/compute/events/notification.js';
import { sequencerOf } from '../../../src/compute/events/records.js';
import { signBody } from '../../../src/compute/events/webhook.js';
import { parseManifest } from '../../../src/compute/hooks/manifest.js';
import { checkModule, importedMemoryLimits } from '../../../src/compute/sandbox/abi.js';
import { notificationXml, parseNotificationXml } from '../../../src/s3/notification-xml.js';

test('event names match by wildcard, prefix and suffix', (t) => {
  const rule = { events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:Delete'], prefix: 'img/', suffix: '.png' };
  t.true(ruleMatches(rule, 'ObjectCreated:Put', 'img/a.png'));
  t.true(ruleMatches(rule, 'ObjectCreated:CompleteMultipartUpload', 'img/a.png'));
  t.true(ruleMatches(rule, 'ObjectRemoved:Delete', 'img/a.png'));
  t.false(ruleMatches(rule, 'ObjectRemoved:DeleteMarkerCreated', 'img/a.png'));
  t.false(ruleMatches(rule, 'ObjectCreated:Put', 'doc/a.png'));
  t.false(ruleMatches(rule, 'ObjectCreated:Put', 'img/a.jpg'));
  t.is(webhookOfArn('arn:arca:sqs::sink:webhook'), 'sink');
  t.is(webhookOfArn('arn:aws:sqs:us-east-1:123:queue'), undefined);
});

test('sequencers grow with the version timestamp, fixed width', (t) => {
  const a = sequencerOf('1700000000.000001');
  const b = sequencerOf('1700000000.000002');
  const c = sequencerOf('1700000001.000000');
  t.is(a.length, 16);
  t.true(a < b && b < c);
  t.is(signBody('k', Buffer.from('x')), `sha256=${createHmac('sha256', 'k').update('x').digest('hex')}`);
});

test('NotificationConfiguration XML both ways', (t) => {
  const xml = Buffer.from(
    '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><QueueConfiguration><Id>q1</Id><Queue>arn:arca:sqs::sink:webhook</Queue>' +
      '<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>Prefix</Name><Value>a/</Value></FilterRule></S3Key></Filter></QueueConfiguration>' +
      '<TopicConfiguration><Topic>arn:arca:sns::other:webhook</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration></NotificationConfiguration>',
  );
  const rules = parseNotificationXml(xml);
  t.is(rules.length, 2);
  t.like(rules[0], { id: 'q1', kind: 'Queue', arn: 'arn:arca:sqs::sink:webhook', events: ['s3:ObjectCreated:*'], prefix: 'a/' });
  t.is(rules[1].kind, 'Topic');
  t.true(rules[1].id.length > 0, 'an Id is made up when none is given');
  t.deepEqual(parseNotificationXml(Buffer.from(notificationXml(rules))), rules);
  t.deepEqual(parseNotificationXml(Buffer.from('<NotificationConfiguration/>')), []);
  t.throws(() => parseNotificationXml(Buffer.from('<NotificationConfiguration><QueueConfiguration><Queue>x</Queue></QueueConfiguration></NotificationConfiguration>')));
});

test('manifests and modules are checked at deploy', (t) => {
  t.like(parseManifest({ triggers: ['get'], blockSize: 4096 }), { abi: 1, triggers: ['get'], mode: 'transform', blockSize: 4096 });
  t.throws(() => parseManifest({ triggers: ['sometimes'] }));
  t.throws(() => parseManifest({ memoryMiB: 0 }));
  const bytes = readFileSync(new URL('../../../hooks/redact-email.wasm', import.meta.url));
  const limits = importedMemoryLimits(bytes);
  t.truthy(limits && limits.min >= 1);
  t.deepEqual(checkModule(new WebAssembly.Module(bytes), bytes), limits);
  // A module importing anything else (here: a made-up clock) is refused.
  const clock = Buffer.from('0061736d01000000010501600001' + '7e' + '020d0103656e7605636c6f636b0000', 'hex');
  t.throws(() => checkModule(new WebAssembly.Module(clock), clock), { message: /imports function env.clock/ });
});
