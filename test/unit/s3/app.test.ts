import test from 'ava';
import { requestIds } from '../../../src/s3/app.js';

test('request ids: 16 upper-case hex digits, a per-app random prefix and a counter', (t) => {
  const a = requestIds();
  const b = requestIds();
  const first = a();
  const second = a();
  t.regex(first, /^[0-9A-F]{16}$/);
  t.is(second.slice(0, 6), first.slice(0, 6));
  t.is(Number.parseInt(second.slice(6), 16), Number.parseInt(first.slice(6), 16) + 1);
  // Another app (process) draws another prefix: 2^-24 odds of a clash.
  t.not(b().slice(0, 6), first.slice(0, 6));
});
