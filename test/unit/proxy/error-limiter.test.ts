/** The proxy's error limiting for reads and writes (Swift's error_suppression_limit and _interval), and its config fields. */
import test from 'ava';
import { parseProxyConfig } from '../../../src/common/config.js';
import { ErrorLimiter } from '../../../src/common/error-limiter.js';
import { candidates, type PlacementRing, ReadAffinity, type RingDevice, withStandIns } from '../../../src/proxy/placement.js';

const dev = (port: number, device = `d${port}`): RingDevice => ({ id: port, ip: '127.0.0.1', port, device, zone: 1, region: 1, weight: 1 });

test('more than `limit` failures, each within the interval of the last, hold a device back until the interval has passed', (t) => {
  let now = 0;
  const limiter = new ErrorLimiter({ limit: 3, intervalMs: 1000, now: () => now });
  const a = dev(6001);
  const b = dev(6002);
  for (let i = 0; i < 3; i++) {
    limiter.failed(a);
    now += 900;
  }
  t.false(limiter.limited(a), 'three failures: not yet');
  limiter.failed(a);
  t.true(limiter.limited(a), 'the fourth');
  t.false(limiter.limited(b), 'another device is not');
  t.false(limiter.limited(dev(6001, 'other')), 'nor another device of the same node');
  now += 1000;
  t.true(limiter.limited(a), 'still, at the interval');
  now += 1;
  t.false(limiter.limited(a), 'offered again after it');
  limiter.failed(a);
  t.false(limiter.limited(a), 'and its count started again');

  // Failures further apart than the interval never add up.
  for (let i = 0; i < 10; i++) {
    limiter.failed(b);
    now += 1001;
  }
  t.false(limiter.limited(b));
});

test('a limit of 0 limits nothing', (t) => {
  const limiter = new ErrorLimiter({ limit: 0, intervalMs: 1000 });
  for (let i = 0; i < 100; i++) limiter.failed(dev(6001));
  t.false(limiter.limited(dev(6001)));
});

test('candidates: limited primaries after the others (after the read affinity), before the handoffs', (t) => {
  let now = 0;
  const limiter = new ErrorLimiter({ limit: 1, intervalMs: 1000, now: () => now });
  const ring: PlacementRing = {
    replicaCount: 3,
    partition: () => 0,
    primaries: () => [dev(6003), dev(6001), dev(6002)],
    handoffs: () => [dev(6004), dev(6005)],
  };
  const ports = (order: Parameters<typeof candidates>[3]) => [...candidates(ring, 0, 2, order)].map((d) => d.port);
  const affinity = new ReadAffinity(['127.0.0.1:6001', '127.0.0.1:6002', '127.0.0.1:6003']);
  t.deepEqual(ports({ affinity, limiter }), [6001, 6002, 6003, 6004, 6005]);
  limiter.failed(dev(6001));
  limiter.failed(dev(6001));
  t.deepEqual(ports({ affinity, limiter }), [6002, 6003, 6001, 6004, 6005]);
  t.deepEqual(ports({ limiter }), [6003, 6002, 6001, 6004, 6005]);
  now = 2000;
  t.deepEqual(ports({ affinity, limiter }), [6001, 6002, 6003, 6004, 6005]);
});

test('withStandIns: failures are counted; a limited primary gives its share to a spare, a limited spare is passed over', async (t) => {
  const limiter = new ErrorLimiter({ limit: 1, intervalMs: 60_000 });
  const primaries = [dev(6001), dev(6002), dev(6003)];
  const spares = () => [dev(6004), dev(6005), dev(6006)][Symbol.iterator]();
  const asked: number[] = [];
  // 6001 throws, 6002 answers a 5xx (undefined), the rest succeed.
  const write = async (d: RingDevice) => {
    asked.push(d.port);
    if (d.port === 6001) throw new Error('ECONNREFUSED');
    return d.port === 6002 ? undefined : d.port;
  };
  t.deepEqual(await withStandIns(primaries, spares(), write, limiter), [6004, 6005, 6003]);
  t.deepEqual(asked.sort(), [6001, 6002, 6003, 6004, 6005]);
  t.false(limiter.limited(dev(6001)), 'one failure each: under the limit');

  asked.length = 0;
  await withStandIns(primaries, spares(), write, limiter);
  t.true(limiter.limited(dev(6001)) && limiter.limited(dev(6002)), 'two failures: over the limit of 1');

  // Both limited primaries go straight to spares; nothing asks them.
  asked.length = 0;
  t.deepEqual(await withStandIns(primaries, spares(), write, limiter), [6004, 6005, 6003]);
  t.deepEqual(asked.sort(), [6003, 6004, 6005]);

  // A limited spare is passed over for the next one.
  limiter.failed(dev(6004));
  limiter.failed(dev(6004));
  asked.length = 0;
  t.deepEqual(await withStandIns(primaries, spares(), write, limiter), [6005, 6006, 6003]);
  t.deepEqual(asked.sort(), [6003, 6005, 6006]);

  // With no spare left, a limited primary is asked after all.
  asked.length = 0;
  const answer = async (d: RingDevice) => {
    asked.push(d.port);
    return d.port;
  };
  t.deepEqual(await withStandIns(primaries, [][Symbol.iterator](), answer, limiter), [6001, 6002, 6003]);
  t.deepEqual(asked.sort(), [6001, 6002, 6003]);

  // Without a limiter, nothing is counted or passed over.
  asked.length = 0;
  t.deepEqual(await withStandIns(primaries, spares(), write), [6004, 6005, 6003]);
  t.deepEqual(asked.sort(), [6001, 6002, 6003, 6004, 6005]);
});

test('config: errorSuppressionLimit 10 and errorSuppressionIntervalSec 60 by default; bad values are InvalidConfig naming the field', (t) => {
  const base = { ringDir: '/r', port: 8080, rootAccessKey: 'a', rootSecretKey: 'b', policies: [{ index: 0, name: 'replica-3' }] };
  t.like(parseProxyConfig(base), { errorSuppressionLimit: 10, errorSuppressionIntervalSec: 60, nodeFrames: true });
  t.like(parseProxyConfig({ ...base, errorSuppressionLimit: 0, errorSuppressionIntervalSec: 5, nodeFrames: false }), {
    errorSuppressionLimit: 0,
    errorSuppressionIntervalSec: 5,
    nodeFrames: false,
  });
  for (const [field, bad] of [
    ['errorSuppressionLimit', -1],
    ['errorSuppressionLimit', 'ten'],
    ['errorSuppressionIntervalSec', 0],
    ['nodeFrames', 'yes'],
  ] as const) {
    const err = t.throws(() => parseProxyConfig({ ...base, [field]: bad }), undefined, `${field}: ${bad}`);
    t.is((err as { code?: string }).code, 'InvalidConfig');
    t.regex(err!.message, new RegExp(field));
  }
});
