/**
 * The OpenStack Swift peer for side-by-side benchmarks: Debian's Swift 2.30 packages started by the shared
 * peers' `swift/start.sh` (4 devices, 3 replicas, s3api + tempauth on loopback) and stopped by `stop.sh`.
 * The scripts are called where they are (never copied); their directory is configurable because other
 * machines have it at `../shared/peers/swift/` next to the checkout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pidsFromDir } from './proc.js';

/** Debian packages the peer needs (start.sh also uses curl). */
export const SWIFT_PACKAGES = ['swift', 'swift-proxy', 'swift-object', 'swift-container', 'swift-account', 'python3-swiftclient', 'memcached', 'rsync', 'curl'];

export interface SwiftPeerOptions {
  /** Directory holding start.sh and stop.sh. */
  scriptsDir: string;
  /** The peer's data dir (configs, rings, devices, logs, pid files); kept between runs. */
  dataDir: string;
  port: number;
  basePort: number;
  memcachedPort: number;
  /** Interpreter with the swift package; default /usr/bin/python3. */
  python?: string;
  /** Seconds start.sh may take; default 240. */
  timeoutSec?: number;
  /** Also run the replicators and updaters (start.sh --with-daemons), as Arca's nodes always run theirs. */
  withDaemons?: boolean;
}

export interface SwiftPeer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Swift account of `accessKey` (tempauth `test:tester` → `AUTH_test`). */
  account: string;
  dataDir: string;
  python: string;
  /** Every server process start.sh recorded (memcached included); their forked workers are descendants. */
  pids(): number[];
  /** Pids by role: `proxy-server`, `object-server-1`, … as named by the run/*.pid files. */
  pidsByRole(): Map<string, number>;
  stop(): Promise<void>;
}

/** Is Swift (the packages start.sh runs) installed for `python`? */
export function swiftInstalled(python = '/usr/bin/python3'): boolean {
  const hasServer = spawnSync('sh', ['-c', 'command -v swift-proxy-server && command -v memcached && command -v curl'], { stdio: 'ignore' }).status === 0;
  return hasServer && spawnSync(python, ['-c', 'import swift.common.ring'], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs the Swift packages with apt-get when they are missing (as root, or through `sudo -n`).
 * Returns undefined when Swift is (now) installed, else why not.
 */
export function ensureSwiftInstalled(python: string, log: (line: string) => void): string | undefined {
  if (swiftInstalled(python)) return undefined;
  const root = process.getuid?.() === 0;
  const prefix = root ? [] : ['sudo', '-n'];
  log(`Swift is not installed; trying: ${[...prefix, 'apt-get', 'install', '-y', ...SWIFT_PACKAGES].join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => spawnSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 900_000 });
  let r = run([...prefix, 'apt-get', 'install', '-y', '--no-install-recommends', ...SWIFT_PACKAGES]);
  if (r.status !== 0) {
    run([...prefix, 'apt-get', 'update']);
    r = run([...prefix, 'apt-get', 'install', '-y', '--no-install-recommends', ...SWIFT_PACKAGES]);
  }
  if (r.status !== 0) return `apt-get install failed (${r.error?.message ?? `exit ${r.status}`})`;
  return swiftInstalled(python) ? undefined : 'the packages installed but swift still does not import';
}

/**
 * Stops whatever the peer in `dataDir` still runs (stop.sh) and deletes its object data (`srv/N/node/sdbN/
 * objects*`, `async_pending*`, `tmp`), keeping configs, rings and the container and account databases. The
 * peer runs without replicators, so data a PUT left on a handoff (a primary timed out under load) is never
 * moved back or deleted by a later DELETE, which goes to the primaries: without this, a kept data dir grows by
 * such leftovers on every run. A benchmark keeps only listings between runs, never objects.
 */
export function dropSwiftObjects(scriptsDir: string, dataDir: string): void {
  if (!existsSync(join(dataDir, 'srv'))) return;
  spawnSync(join(scriptsDir, 'stop.sh'), [dataDir], { stdio: 'ignore' });
  for (const n of readdirSync(join(dataDir, 'srv'))) {
    const nodeDir = join(dataDir, 'srv', n, 'node');
    if (!existsSync(nodeDir)) continue;
    for (const dev of readdirSync(nodeDir)) {
      for (const entry of readdirSync(join(nodeDir, dev))) {
        if (/^(objects|async_pending)(-\d+)?$|^tmp$/.test(entry)) rmSync(join(nodeDir, dev, entry), { recursive: true, force: true });
      }
    }
  }
}

/** Runs start.sh (keeping the data dir) and resolves once the peer answers authenticated requests. */
export async function startSwiftPeer(o: SwiftPeerOptions): Promise<SwiftPeer> {
  const start = join(o.scriptsDir, 'start.sh');
  const stop = join(o.scriptsDir, 'stop.sh');
  if (!existsSync(start) || !existsSync(stop)) throw new Error(`no start.sh/stop.sh in ${o.scriptsDir}`);
  const python = o.python ?? '/usr/bin/python3';
  const args = [o.dataDir, '--port', String(o.port), '--base-port', String(o.basePort), '--memcached-port', String(o.memcachedPort), '--python', python];
  args.push('--timeout', String(o.timeoutSec ?? 240));
  if (o.withDaemons) args.push('--with-daemons');
  const child = spawn(start, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ((o.timeoutSec ?? 240) + 30) * 1000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`start.sh exited ${code}: ${err.trim().split('\n').slice(-8).join(' | ')}`);
  const env = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const runDir = join(o.dataDir, 'run');
  const peer: SwiftPeer = {
    endpoint: env.S3_ENDPOINT ?? `http://127.0.0.1:${o.port}`,
    accessKey: env.S3_ACCESS_KEY ?? 'test:tester',
    secretKey: env.S3_SECRET_KEY ?? 'testing',
    account: `AUTH_${(env.S3_ACCESS_KEY ?? 'test:tester').split(':')[0]}`,
    dataDir: o.dataDir,
    python,
    pids: () => pidsFromDir(runDir),
    pidsByRole: () => {
      const m = new Map<string, number>();
      for (const f of readdirSync(runDir)) {
        if (!f.endsWith('.pid')) continue;
        const pid = Number(readFileSync(join(runDir, f), 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0) m.set(f.slice(0, -4), pid);
      }
      return m;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const s = spawn(stop, [o.dataDir], { stdio: ['ignore', 'ignore', 'ignore'] });
        s.once('exit', () => resolve());
        s.once('error', () => resolve());
      }),
  };
  return peer;
}
