import test from 'ava';
import { defaultNodeThreadPoolSize, nodeSemiSpaceMiB, proxyEnv, proxyMallocEnv, proxySemiSpaceMiB, storageNodeEnv } from '../../../src/cli/process-env.js';

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
