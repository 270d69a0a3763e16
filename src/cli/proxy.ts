/** `arca proxy --config FILE`: runs a proxy until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { loadProxyConfig } from '../common/config.js';
import { startProxy } from './proxy-root.js';
import { untilSignal } from './signals.js';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (!values.config) throw new ArcaError('InvalidConfig', 'usage: arca proxy --config FILE');
  const proxy = await startProxy(loadProxyConfig(values.config, process.env));
  process.stdout.write(`ready proxy ${proxy.port}\n`);
  await untilSignal();
  await proxy.close();
  return 0;
}
