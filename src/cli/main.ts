/**
 * The `arca` command: one sub-command per process kind or admin task. Each sub-command module exports
 * `run(args)`, resolving to the process exit code; errors that reach here are printed as one line.
 */
import { isArcaError } from '../common/errors.js';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  cluster: { summary: 'run a local cluster: rings, 1 proxy and N storage nodes', load: () => import('./cluster.js') },
  proxy: { summary: 'run a proxy (--config FILE)', load: () => import('./proxy.js') },
  node: { summary: 'run a storage node (--config FILE)', load: () => import('./node.js') },
  ring: { summary: 'build and inspect rings (create|add|remove|set-weight|rebalance|show)', load: () => import('./ring.js') },
  status: { summary: "a cluster's nodes, devices, repair and workers (--json, --watch)", load: () => import('./status.js') },
  hook: { summary: 'WebAssembly hooks (deploy|list|show|delete|bind|bindings|unbind)', load: () => import('./hook.js') },
  events: { summary: 'event notification delivery (status|replay)', load: () => import('./events.js') },
  user: { summary: "manage a cluster's users (create|list|show|delete)", load: () => import('./user.js') },
  key: { summary: "manage users' access keys (create|list|delete)", load: () => import('./key.js') },
  token: { summary: 'get a token for the image API (create)', load: () => import('./token.js') },
  image: { summary: 'signed image URLs for QEMU, S3 objects as images (url|import)', load: () => import('./image.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: arca <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`arca: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    const message = isArcaError(err) || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? (err as Error).message : String((err as Error)?.stack ?? err);
    process.stderr.write(`arca ${name}: ${message}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
