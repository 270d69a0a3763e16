import test from 'ava';
import type { S3Error } from '../../../src/s3/errors.js';
import { isDue, lifecycleXml, parseLifecycleXml, ruleMatches } from '../../../src/s3/lifecycle.js';

const classes = ['STANDARD', 'ec-4+2'];
const xml = (rules: string) => Buffer.from(`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as S3Error).code;
  }
  return 'none';
};

test('rules parse, render and parse again to the same rules', (t) => {
  const rules = parseLifecycleXml(
    xml(
      '<Rule><ID>a</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status>' +
        '<Expiration><Days>30</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>' +
        '<Rule><Prefix>old/</Prefix><Status>Disabled</Status><Transition><Date>2030-01-01T00:00:00Z</Date><StorageClass>ec-4+2</StorageClass></Transition>' +
        '<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>' +
        '<Rule><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>',
    ),
    classes,
  );
  t.deepEqual(rules[0], {
    id: 'a',
    enabled: true,
    filter: { prefix: 'logs/', tags: [{ Key: 'k', Value: 'v' }] },
    expiration: { days: 30 },
    noncurrentExpiration: { days: 7, newer: 3 },
  });
  t.deepEqual(rules[1].transitions, [{ date: Date.UTC(2030, 0, 1), storageClass: 'ec-4+2' }]);
  t.is(rules[1].abortIncompleteDays, 2);
  t.true(rules[2].expiration?.expiredObjectDeleteMarker);
  t.deepEqual(parseLifecycleXml(Buffer.from(lifecycleXml(rules)), classes), rules);
});

test('bad configurations: the exact S3 error', (t) => {
  const rule = (body: string) => () => parseLifecycleXml(xml(`<Rule><Filter><Prefix></Prefix></Filter>${body}</Rule>`), classes);
  t.is(code(() => parseLifecycleXml(xml(''), classes)), 'MalformedXML');
  t.is(code(() => parseLifecycleXml(Buffer.from('<Lifecycle/>'), classes)), 'MalformedXML');
  t.is(code(rule('<Status>Enabled</Status><Expiration><Days>0</Days></Expiration>')), 'InvalidArgument');
  t.is(code(rule('<Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>')), 'MalformedXML');
  t.is(code(rule('<Status>Enabled</Status><Expiration><Date>2030-01-01T01:00:00Z</Date></Expiration>')), 'InvalidArgument');
  t.is(code(rule('<Status>Maybe</Status><Expiration><Days>1</Days></Expiration>')), 'MalformedXML');
  t.is(code(rule('<Status>Enabled</Status>')), 'InvalidRequest');
  t.is(code(rule('<Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>')), 'InvalidStorageClass');
  t.is(code(rule('<Status>Enabled</Status><Expiration><Days>x</Days></Expiration>')), 'MalformedXML');
  const twice = '<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>';
  t.is(code(() => parseLifecycleXml(xml(twice + twice), classes)), 'InvalidArgument');
});

test('matching by prefix, size and tags; due dates', async (t) => {
  const [rule] = parseLifecycleXml(
    xml('<Rule><Filter><And><Prefix>a/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>'),
    classes,
  );
  const tags = async () => [{ Key: 't', Value: '1' }];
  t.true(await ruleMatches(rule, 'a/x', 11, tags));
  t.false(await ruleMatches(rule, 'b/x', 11, tags));
  t.false(await ruleMatches(rule, 'a/x', 10, tags));
  t.false(await ruleMatches(rule, 'a/x', 11, async () => []));
  const day = 86_400_000;
  t.false(isDue({ days: 2 }, 0, 2 * day - 1));
  t.true(isDue({ days: 2 }, 0, 2 * day));
  t.true(isDue({ date: day }, 0, day));
});
