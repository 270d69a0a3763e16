import { execFileSync } from 'node:child_process';
import test from 'ava';
import { applyNodeHeapGrowth, defaultNodeThreadPoolSize, nodeSemiSpaceMiB, proxyEnv, proxyMallocEnv, proxySemiSpaceMiB, storageNodeEnv } from '../../../src/cli/process-env.js';

test('a storage node gets a larger thread pool unless its environment names a size', (t) => {
  t.is(storageNodeEnv({ PATH: '/bin' }).UV_THREADPOOL_SIZE, String(defaultNodeThreadPoolSize));
  t.is(storageNodeEnv({ UV_THREADPOOL_SIZE: '8' }).UV_THREADPOOL_SIZE, '8');
  t.is(storageNodeEnv({ PATH: '/bin' }).MALLOC_TRIM_THRESHOLD_, undefined);
});

test('a storage node gets a small V8 young generation, added to NODE_OPTIONS unless they name one', (t) => {
  t.is(storageNodeEnv({}).NODE_OPTIONS, `--max-semi-space-size=${nodeSemiSpaceMiB}`);
  t.is(storageNodeEnv({ NODE_OPTIONS: '--enable-source-maps' }).NODE_OPTIONS, `--enable-source-maps --max-semi-space-size=${nodeSemiSpaceMiB}`);
  t.is(storageNodeEnv({ NODE_OPTIONS: '--max-semi-space-size=16' }).NODE_OPTIONS, '--max-semi-space-size=16');
  t.is(proxyEnv({}).NODE_OPTIONS, `--max-semi-space-size=${proxySemiSpaceMiB}`, 'the proxy gets its own size');
  t.is(proxyEnv({ NODE_OPTIONS: '--max-semi-space-size=1' }).NODE_OPTIONS, '--max-semi-space-size=1');
});

test('the proxy gets the malloc thresholds unless its environment names either', (t) => {
  const env = proxyEnv({ PATH: '/bin' });
  t.is(env.PATH, '/bin');
  t.is(env.MALLOC_TRIM_THRESHOLD_, proxyMallocEnv.MALLOC_TRIM_THRESHOLD_);
  t.is(env.MALLOC_MMAP_THRESHOLD_, proxyMallocEnv.MALLOC_MMAP_THRESHOLD_);
  t.is(Number(env.MALLOC_TRIM_THRESHOLD_), 64 * 1024 * 1024);
  t.is(proxyEnv({ MALLOC_TRIM_THRESHOLD_: '1' }).MALLOC_TRIM_THRESHOLD_, '1');
  t.is(proxyEnv({ MALLOC_TRIM_THRESHOLD_: '1' }).MALLOC_MMAP_THRESHOLD_, undefined, 'an environment naming either keeps its own');
  t.is(proxyEnv({}).UV_THREADPOOL_SIZE, undefined);
});

/**
 * The peak heap of a child process that makes old-generation garbage (objects that live through two
 * scavenges, then die) with a fixed amount of allocation; `apply` runs `applyNodeHeapGrowth` first.
 */
function peakHeapMiB(apply: boolean): number {
  const moduleUrl = new URL('../../../src/cli/process-env.js', import.meta.url).href;
  const script = `
    const { applyNodeHeapGrowth } = await import(${JSON.stringify(moduleUrl)});
    if (${apply}) applyNodeHeapGrowth();
    const ring = new Array(20000);
    let peak = 0;
    for (let i = 0; i < 1_000_000; i++) {
      ring[i % ring.length] = { a: 'x'.repeat(200) + i, b: [i, i + 1], c: { d: i } };
      if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
      if (i % 1000 === 0) peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    process.stdout.write(String(peak / 1048576));`;
  return Number(execFileSync(process.execPath, ['--max-semi-space-size=2', '--input-type=module', '-e', script], { encoding: 'utf8' }));
}

test('a storage node holds its heap closer to what lives (heap growing factor), unless its command line names one', (t) => {
  t.false(applyNodeHeapGrowth(['--heap-growing-percent=300']), 'a command line naming the factor keeps it');
  t.false(applyNodeHeapGrowth(['--heap_growing_percent=300']));
  const before = peakHeapMiB(false);
  const after = peakHeapMiB(true);
  t.log(`peak heap of the same garbage: ${before.toFixed(0)} MiB by default, ${after.toFixed(0)} MiB with the node's factor`);
  t.true(after < before * 0.8, `${after} < 0.8 × ${before}`);
});
