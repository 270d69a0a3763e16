import test from 'ava';
import fc from 'fast-check';
import { rowOf, type StoredRow } from '../../../storage-nodes/listing-merge.js';
import { rowEntryJson } from '../../../storage-nodes/listing-page.js';

const ts = '1700000001.000002';

test('a stored row spliced into a page entry is the text JSON.stringify makes of the row, whatever its shape', (t) => {
  const text = fc.string({ unit: 'binary', maxLength: 12 });
  const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.integer(), text, fc.boolean(), fc.constant(null), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
    object: fc.dictionary(fc.oneof(text, fc.constantFrom('seq', 'ts', 'name')), tie('value'), { maxKeys: 4 }),
  })).value;
  const field = fc.oneof(
    fc.constant(['seq', 0] as [string, unknown]),
    fc.nat().map((n) => ['seq', n] as [string, unknown]),
    fc.nat().map((n) => ['size', n] as [string, unknown]),
    text.map((s) => ['etag', s] as [string, unknown]),
    text.map((s) => ['contentType', s] as [string, unknown]),
    fc.dictionary(fc.oneof(text, fc.constant('seq')), json, { maxKeys: 4 }).map((v) => ['value', v] as [string, unknown]),
  );
  fc.assert(
    fc.property(text.filter((s) => s !== ''), fc.uniqueArray(field, { selector: ([k]) => k, maxLength: 6 }), fc.boolean(), (name, fields, seqLast) => {
      // Any order of fields, `seq` anywhere or last (as rows are written), `ts` first.
      const ordered = seqLast ? [...fields.filter(([k]) => k !== 'seq'), ...fields.filter(([k]) => k === 'seq')] : fields;
      const row = Object.fromEntries([['ts', ts], ...ordered]) as unknown as StoredRow;
      const stored = JSON.stringify(row);
      t.is(rowEntryJson(name, stored), JSON.stringify(rowOf(name, JSON.parse(stored) as StoredRow)), stored);
    }),
    { numRuns: 2000, seed: 11 },
  );
});

test('rows as the listing stores write them are spliced, not parsed', (t) => {
  const stored = '{"ts":"1700000001.000002","size":3,"etag":"\\",\\"seq\\":1}","value":{"seq":2},"seq":17}';
  const parse = JSON.parse;
  let parsed = 0;
  JSON.parse = ((...args: Parameters<typeof JSON.parse>) => {
    parsed++;
    return parse(...args);
  }) as typeof JSON.parse;
  try {
    t.is(rowEntryJson('k"1', stored), '{"name":"k\\"1","ts":"1700000001.000002","size":3,"etag":"\\",\\"seq\\":1}","value":{"seq":2}}');
  } finally {
    JSON.parse = parse;
  }
  t.is(parsed, 0);
});
