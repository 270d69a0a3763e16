import test from 'ava';
import fc from 'fast-check';
import { formatTimestamp, timestampIso, timestampMillis } from '../../../src/common/timestamp.js';

test('timestampIso is the ISO form of the timestamp to the millisecond, for any timestamp', (t) => {
  const viaDate = (ts: string) => new Date(timestampMillis(ts)).toISOString();
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 9_999_999_999_999_999n }), (us) => {
      const ts = formatTimestamp(us);
      t.is(timestampIso(ts), viaDate(ts), ts);
    }),
    { numRuns: 5000, seed: 3 },
  );
  for (const ts of ['0000000000.000000', '0000086399.999999', '0951782400.000999', '1764513692.123456', '4102444800.000000', '9999999999.999999']) {
    t.is(timestampIso(ts), viaDate(ts), ts);
  }
  // Anything else is formatted the slow way, as before.
  t.is(timestampIso('1764513692.1'), viaDate('1764513692.1'));
});
