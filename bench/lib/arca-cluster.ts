/**
 * Runs `arca cluster` as real processes for a benchmark: a temp data dir (or a kept one), free consecutive
 * ports, waits for `ready`, reports the credentials and the pids of the proxy and the nodes, and stops it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  /** Stops every process; removes the data dir unless it was given (`dataDir`), which is kept. */
  stop(): Promise<void>;
}

export interface ArcaClusterOptions {
  nodes?: number;
  policy?: string;
  /** First port to try for the proxy (nodes take the ports after it); default random in 20000..39999. */
  basePort?: number;
  /**
   * A data dir to use and keep (created when missing). A dir that already holds a cluster keeps the node ports
   * it was made with (they are stored in its cluster.json): they must be free, or this throws.
   */
  dataDir?: string;
  /** `src/cli/main.js` of the build to run (default: the one beside this file), e.g. an older commit's build for A/B runs. */
  main?: string;
  /** Let `POST /recon/run` run a worker's pass on each node now (`arca cluster --recon-run`). */
  reconRun?: boolean;
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

/** The proxy port and node ports a kept data dir was made with, if it holds a cluster. */
function storedPorts(dataDir: string): { port: number; nodePorts: number[] } | undefined {
  const file = join(dataDir, 'cluster.json');
  if (!existsSync(file)) return undefined;
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { port: number; nodePorts?: number[] };
  return { port: spec.port, nodePorts: spec.nodePorts ?? [] };
}

/**
 * Clusters started here and not stopped yet. When the process that started them exits without stopping them
 * (a script that threw), each is told to stop, so its nodes and proxy do not go on running, orphaned, beside
 * the next measurement.
 */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/** Starts a cluster of `nodes` storage nodes with `policy`, and resolves once it is ready. */
export async function startArcaCluster(opts: ArcaClusterOptions = {}): Promise<ArcaCluster> {
  const nodes = opts.nodes ?? 4;
  const kept = opts.dataDir !== undefined;
  const stored = kept ? storedPorts(opts.dataDir!) : undefined;
  let port = stored?.port ?? opts.basePort ?? 20000 + Math.floor(Math.random() * 20000);
  if (stored) {
    for (const p of [port, ...stored.nodePorts]) {
      if (!(await portsFree(p, 1))) throw new Error(`port ${p} of the kept Arca cluster in ${opts.dataDir} is in use`);
    }
  } else {
    while (!(await portsFree(port, nodes + 1))) port += nodes + 1;
  }
  const dataDir = kept ? opts.dataDir! : mkdtempSync(join(tmpdir(), 'arca-bench-'));
  if (kept) mkdirSync(dataDir, { recursive: true });
  const main = opts.main ?? fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const args = [main, 'cluster', '--data', dataDir, '--port', String(port), '--nodes', String(nodes), '--policy', opts.policy ?? 'replica-3', ...(opts.reconRun ? ['--recon-run'] : [])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let ready = false;
  // The pipes are read to the end (a full pipe would block the cluster); output is kept only until ready.
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (ready) return;
      out += d.toString();
      if (/^ready: /m.test(out)) {
        ready = true;
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (!ready) out += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`arca cluster exited ${code}: ${out}`)));
  });
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { accessKey: string; secretKey: string };
  const tree = processTree([child.pid!]).filter((p) => p.pid !== child.pid);
  const proxyPid = tree.find((p) => / proxy --config /.test(cmdline(p.pid)))?.pid;
  const nodePids = tree.filter((p) => / node --config /.test(cmdline(p.pid))).map((p) => p.pid);
  if (!proxyPid || nodePids.length !== nodes) {
    child.kill('SIGTERM');
    throw new Error(`could not find the cluster's processes: ${JSON.stringify(tree)}`);
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...creds,
    pid: child.pid!,
    proxyPid,
    nodePids,
    dataDir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => {
          if (!kept) rmSync(dataDir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
