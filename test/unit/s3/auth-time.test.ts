import test from 'ava';
import { formatAmzDate, parseAmzDate } from '../../../src/s3/auth/time.js';

test('parseAmzDate: the basic ISO form only, no rolled-over fields; format gives the same text back', (t) => {
  const text = '20261201T035959Z';
  const a = parseAmzDate(text);
  t.is(a?.toISOString(), '2026-12-01T03:59:59.000Z');
  t.is(formatAmzDate(a!), text);
  // The second parse of the same text (the requests of one second) gives an equal Date of its own.
  const b = parseAmzDate(text);
  t.not(a, b);
  t.is(b?.getTime(), a?.getTime());
  b!.setTime(0);
  t.is(parseAmzDate(text)?.toISOString(), '2026-12-01T03:59:59.000Z');
  for (const bad of ['20261301T000000Z', '20261232T000000Z', '20261201T240000Z', '20261201T236000Z', '20261201T235960Z', '2026-12-01T03:59:59Z', '20261201T035959', '']) {
    t.is(parseAmzDate(bad), undefined, bad);
  }
  t.is(parseAmzDate(text)?.getTime(), a?.getTime());
});
