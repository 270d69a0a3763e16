/** bench/profile/cpuprofile: self time by function and category from a V8 profile. */
import test from 'ava';
import { type CpuProfile, categoryOf, renderSummary, shortUrl, summarize } from '../../../../bench/profile/cpuprofile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

// (root) → handler (storage-nodes) → fsync callback (node:fs); plus idle and GC.
const profile: CpuProfile = {
  startTime: 0,
  endTime: 10_000, // 10 ms in µs
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
    { id: 2, callFrame: frame('handlePut', 'file:///w/dist/storage-nodes/object-server.js', 41), children: [3] },
    { id: 3, callFrame: frame('fsync', 'node:fs', 9) },
    { id: 4, callFrame: frame('(idle)') },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  // Sample i is charged timeDeltas[i + 1] µs.
  samples: [2, 3, 3, 4, 5, 2],
  timeDeltas: [0, 1000, 2000, 1000, 4000, 1000],
};

test('self time follows the samples; idle is set apart', (t) => {
  const s = summarize(profile);
  t.is(s.totalMs, 10);
  t.is(s.idleMs, 4);
  const handle = s.functions.find((f) => f.name === 'handlePut');
  t.is(handle?.selfMs, 1);
  t.is(handle?.where, 'storage-nodes/object-server.js:42');
  t.is(s.functions.find((f) => f.name === 'fsync')?.selfMs, 3);
  t.deepEqual(
    s.categories.map((c) => c.category),
    ['fs (JS side)', 'Arca storage-nodes/', 'GC'],
  );
});

test('without samples, hit counts share the duration', (t) => {
  const s = summarize({
    startTime: 0,
    endTime: 4000,
    nodes: [
      { id: 1, callFrame: frame('(root)'), hitCount: 0 },
      { id: 2, callFrame: frame('a', 'node:net'), hitCount: 3 },
      { id: 3, callFrame: frame('(idle)'), hitCount: 1 },
    ],
  });
  t.is(s.idleMs, 1);
  t.is(s.categories[0].category, 'http/net/streams');
  t.is(s.categories[0].selfMs, 3);
});

test('categories and short urls', (t) => {
  t.is(categoryOf(frame('x', 'file:///a/node_modules/koa/lib/application.js')), 'koa');
  t.is(categoryOf(frame('x', 'file:///a/node_modules/classic-level/index.js')), 'level');
  t.is(categoryOf(frame('digest', 'node:internal/crypto/hash')), 'crypto');
  t.is(categoryOf(frame('x', 'file:///a/dist/src/s3/app.js')), 'Arca src/s3/');
  t.is(categoryOf(frame('(program)')), 'native (V8/libuv, outside JS)');
  t.is(categoryOf(frame('fsync')), 'fs binding calls');
  t.is(categoryOf(frame('writeLatin1String')), 'socket writes');
  t.is(categoryOf(frame('fsync', 'file:///a/dist/storage-nodes/x.js')), 'Arca storage-nodes/');
  t.is(shortUrl('file:///a/node_modules/koa/lib/x.js'), 'koa/lib/x.js');
  t.is(shortUrl('node:fs'), 'node:fs');
});

test('renderSummary prints both tables', (t) => {
  const md = renderSummary(summarize(profile), 2);
  t.regex(md, /main thread busy 6\.0 ms \(60\.0 %\), idle 4\.0 ms/);
  t.regex(md, /\| fs \(JS side\) \| 3\.0 \| 50\.0 % \|/);
  t.is(md.split('\n').filter((l) => l.startsWith('| ') && l.includes('.js')).length, 1); // top 2: fsync and handlePut, one with a .js file
});
