/**
 * Running the real command-line clients against a test cluster: Debian's aws CLI (/usr/bin/aws, not the
 * one first on PATH), with a throwaway HOME so no user configuration leaks in.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestCluster } from './cluster.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a clean environment plus `env`; never throws on a non-zero exit. */
export function runCommand(cmd: string, args: string[], env: Record<string, string>, opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Environment for AWS tools pointed at the cluster. */
export function awsEnv(cluster: TestCluster): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'arca-home-'));
  return {
    HOME: home,
    AWS_ACCESS_KEY_ID: cluster.accessKey,
    AWS_SECRET_ACCESS_KEY: cluster.secretKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
  };
}

/** Debian's aws CLI against the cluster. */
export function aws(cluster: TestCluster, args: string[], opts: { input?: string } = {}): Promise<RunResult> {
  return runCommand('/usr/bin/aws', ['--endpoint-url', cluster.endpoint, ...args], awsEnv(cluster), opts);
}
