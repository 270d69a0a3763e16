/**
 * Runs `arca cluster` as real processes for a benchmark: a temp data dir, free consecutive ports, waits for
 * `ready`, reports the credentials and the pids of the proxy and the nodes, and stops it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree } from './proc.js';

export interface ArcaCluster {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** The `arca cluster` process. */
  pid: number;
  proxyPid: number;
  nodePids: number[];
  dataDir: string;
  stop(): Promise<void>;
}

function portsFree(base: number, n: number): Promise<boolean> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(false));
        s.listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
      }),
    ),
  ).then((all) => all.every(Boolean));
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Starts a cluster of `nodes` storage nodes with `policy`, and resolves once it is ready. */
export async function startArcaCluster(opts: { nodes?: number; policy?: string; basePort?: number } = {}): Promise<ArcaCluster> {
  const nodes = opts.nodes ?? 4;
  let port = opts.basePort ?? 20000 + Math.floor(Math.random() * 20000);
  while (!(await portsFree(port, nodes + 1))) port += nodes + 1;
  const dataDir = mkdtempSync(join(tmpdir(), 'arca-bench-'));
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const args = [main, 'cluster', '--data', dataDir, '--port', String(port), '--nodes', String(nodes), '--policy', opts.policy ?? 'replica-3'];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready: /m.test(out)) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`arca cluster exited ${code}: ${out}`)));
  });
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { accessKey: string; secretKey: string };
  const tree = processTree([child.pid!]).filter((p) => p.pid !== child.pid);
  const proxyPid = tree.find((p) => / proxy --config /.test(cmdline(p.pid)))?.pid;
  const nodePids = tree.filter((p) => / node --config /.test(cmdline(p.pid))).map((p) => p.pid);
  if (!proxyPid || nodePids.length !== nodes) throw new Error(`could not find the cluster's processes: ${JSON.stringify(tree)}`);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...creds,
    pid: child.pid!,
    proxyPid,
    nodePids,
    dataDir,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dataDir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
