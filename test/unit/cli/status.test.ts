/** `arca status` text: the summary, a row per device, a row per worker, and the progress bar of a watch. */
import test from 'ava';
import type { ClusterStatus } from '../../../src/admin/cluster-status.js';
import { type DrainState, formatBytes, progressBar, renderStatus } from '../../../src/cli/status.js';

function status(outOfPlace: number, awaiting: number): ClusterStatus {
  const time = '2026-01-01T00:00:30.000Z';
  return {
    time,
    proxy: { startedAt: time, rings: [{ name: 'object-0', partitions: 1024, replicas: 3, devices: 2, outOfPlace }], reports: { events: { pending: 0 } } },
    nodes: [
      {
        node: '127.0.0.1:6001',
        reachable: true,
        status: {
          ip: '127.0.0.1',
          port: 6001,
          startedAt: time,
          time,
          devices: [{ device: 'd1', mounted: true, size: 4 * 1024 ** 3, used: 1024 ** 3, avail: 3 * 1024 ** 3, partitions: [{ ring: 'object-0', held: 700, outOfPlace }], asyncPending: 0, quarantined: 2 }],
          workers: [
            { name: 'replicator', intervalSec: 15, last: { start: '2026-01-01T00:00:10.000Z', durationMs: 1500, stats: { dataPushed: awaiting, failures: 0 } } },
            { name: 'auditor', intervalSec: 0 },
          ],
          awaiting: { objects: awaiting, listingRows: 0, failedRequests: 0 },
        },
      },
      { node: '127.0.0.1:6002', reachable: false, error: 'ECONNREFUSED' },
    ],
    totals: {
      nodes: 2,
      nodesUp: 1,
      devices: 1,
      devicesMounted: 1,
      size: 4 * 1024 ** 3,
      used: 1024 ** 3,
      avail: 3 * 1024 ** 3,
      partitionsOutOfPlace: outOfPlace,
      awaiting: { objects: awaiting, listingRows: 0, failedRequests: 0 },
      asyncPending: 0,
      quarantined: 2,
    },
  };
}

test('the summary, devices, workers and an unreachable node', (t) => {
  const text = renderStatus(status(12, 30));
  t.regex(text, /1 of 2 nodes up, 1 of 1 devices mounted/);
  t.regex(text, /used 1\.0 GiB of 4\.0 GiB \(25\.0%\), 3\.0 GiB free/);
  t.regex(text, /partitions out of place 12, objects awaiting repair 30/);
  t.regex(text, /127\.0\.0\.1:6001 +d1 +yes +1\.0 GiB +4\.0 GiB +25% +700 +12 +0 +2/);
  t.regex(text, /127\.0\.0\.1:6002 +unreachable: ECONNREFUSED/);
  t.regex(text, /127\.0\.0\.1:6001 +replicator +15s +19s ago +1\.5 s +dataPushed=30\n/);
  t.regex(text, /127\.0\.0\.1:6001 +auditor +off +never/);
  t.regex(text, /events: pending 0/);
  t.notRegex(text, /draining/, 'no bar outside a watch');
});

test('a watch draws a bar while the work left goes down, from the most seen', (t) => {
  const drain: DrainState = { peak: 0 };
  t.notRegex(renderStatus(status(40, 60), drain), /draining/, 'nothing to compare with yet');
  t.regex(renderStatus(status(20, 30), drain), /draining \[#{15}-{15}\] 50% {2}50 of 100 left/);
  t.regex(renderStatus(status(0, 0), drain), /draining \[#{30}\] 100% {2}everything in place/);
});

test('bytes and bars', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(1536), '1.5 KiB');
  t.is(formatBytes(250 * 1024 ** 3), '250 GiB');
  t.is(formatBytes(undefined), '-');
  t.is(progressBar(0.5, 10), '[#####-----] 50%');
  t.is(progressBar(2, 4), '[####] 100%');
});
