/** `arca node --config FILE`: runs a storage node until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { loadNodeConfig } from '../common/config.js';
import { startStorageNode } from '../../storage-nodes/server.js';
import { untilSignal } from './signals.js';
import { applyNodeHeapGrowth, defaultNodeThreadPoolSize } from './process-env.js';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (!values.config) throw new ArcaError('InvalidConfig', 'usage: arca node --config FILE');
  if (!process.env.UV_THREADPOOL_SIZE) {
    // Too late to change here: the pool started with the process (process-env.ts).
    process.stderr.write(`arca node: UV_THREADPOOL_SIZE is not set, so libuv's thread pool has 4 threads; start nodes with UV_THREADPOOL_SIZE=${defaultNodeThreadPoolSize} (arca cluster does)\n`);
  }
  applyNodeHeapGrowth();
  const node = await startStorageNode(loadNodeConfig(values.config));
  process.stdout.write(`ready node ${node.port}\n`);
  await untilSignal();
  await node.close();
  return 0;
}
