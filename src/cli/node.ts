/** `arca node --config FILE`: runs a storage node until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { loadNodeConfig } from '../common/config.js';
import { startStorageNode } from '../../storage-nodes/server.js';
import { untilSignal } from './signals.js';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (!values.config) throw new ArcaError('InvalidConfig', 'usage: arca node --config FILE');
  const node = await startStorageNode(loadNodeConfig(values.config));
  process.stdout.write(`ready node ${node.port}\n`);
  await untilSignal();
  await node.close();
  return 0;
}
