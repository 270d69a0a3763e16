import test from 'ava';
import { decideRange } from '../../../storage-nodes/range.js';

test('RFC 9110 single ranges', (t) => {
  t.deepEqual(decideRange(undefined, 10), { kind: 'whole' });
  t.deepEqual(decideRange('bytes=0-4', 10), { kind: 'partial', start: 0, end: 4 });
  t.deepEqual(decideRange('bytes=5-', 10), { kind: 'partial', start: 5, end: 9 });
  t.deepEqual(decideRange('bytes=5-1000', 10), { kind: 'partial', start: 5, end: 9 }, 'end clamped');
  t.deepEqual(decideRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 }, 'suffix');
  t.deepEqual(decideRange('bytes=-30', 10), { kind: 'partial', start: 0, end: 9 }, 'suffix longer than the body');
  t.deepEqual(decideRange('bytes=9-9', 10), { kind: 'partial', start: 9, end: 9 });
  t.deepEqual(decideRange('bytes=10-', 10), { kind: 'unsatisfiable' });
  t.deepEqual(decideRange('bytes=-0', 10), { kind: 'unsatisfiable' });
  t.deepEqual(decideRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  t.deepEqual(decideRange('bytes=-5', 0), { kind: 'unsatisfiable' });
  t.deepEqual(decideRange('bytes=5-2', 10), { kind: 'whole' }, 'invalid: ignored');
  t.deepEqual(decideRange('bytes=0-1,3-4', 10), { kind: 'whole' }, 'multiple ranges: ignored');
  t.deepEqual(decideRange('items=0-1', 10), { kind: 'whole' });
  t.deepEqual(decideRange('bytes=-', 10), { kind: 'whole' });
});
