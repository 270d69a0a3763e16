/**
 * Running the real clients against a test cluster, each from Debian's packages with a throwaway HOME so no
 * user configuration leaks in: the aws CLI (/usr/bin/aws, not the one first on PATH), rclone, s3cmd, and
 * boto3 scripts under /usr/bin/python3 (not the python3 first on PATH). CLIENTS.md §0 has the traps.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

/** Environment for rclone with a remote `arca:` pointing at the cluster (no config file; CLIENTS.md §0). */
export function rcloneEnv(cluster: TestCluster): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'arca-rclone-'));
  writeFileSync(join(home, 'rclone.conf'), '');
  return {
    HOME: home,
    RCLONE_CONFIG: join(home, 'rclone.conf'),
    RCLONE_CONFIG_ARCA_TYPE: 's3',
    RCLONE_CONFIG_ARCA_PROVIDER: 'Other',
    RCLONE_CONFIG_ARCA_ACCESS_KEY_ID: cluster.accessKey,
    RCLONE_CONFIG_ARCA_SECRET_ACCESS_KEY: cluster.secretKey,
    RCLONE_CONFIG_ARCA_ENDPOINT: cluster.endpoint,
    RCLONE_CONFIG_ARCA_REGION: 'us-east-1',
    RCLONE_CONFIG_ARCA_FORCE_PATH_STYLE: 'true',
  };
}

/**
 * Debian's rclone against the cluster as remote `arca:`. The environment is clean, so `AWS_CA_BUNDLE` (which
 * makes rclone 1.60 fail, CLIENTS.md §0) is never set.
 */
export function rclone(cluster: TestCluster, args: string[]): Promise<RunResult> {
  return runCommand('/usr/bin/rclone', ['--retries', '1', '--low-level-retries', '1', ...args], rcloneEnv(cluster));
}

/** A throwaway HOME holding an `.s3cfg` for the cluster (path-style, plain HTTP, SigV4 unless told). */
export function s3cmdHome(cluster: TestCluster): string {
  const home = mkdtempSync(join(tmpdir(), 'arca-s3cmd-'));
  const host = new URL(cluster.endpoint).host;
  writeFileSync(
    join(home, '.s3cfg'),
    [
      '[default]',
      `access_key = ${cluster.accessKey}`,
      `secret_key = ${cluster.secretKey}`,
      `host_base = ${host}`,
      `host_bucket = ${host}`,
      'use_https = False',
      'bucket_location = us-east-1',
      'signature_v2 = False',
      '',
    ].join('\n'),
  );
  return home;
}

/** Debian's s3cmd against the cluster. */
export function s3cmd(cluster: TestCluster, args: string[], home = s3cmdHome(cluster)): Promise<RunResult> {
  return runCommand('/usr/bin/s3cmd', ['-c', join(home, '.s3cfg'), ...args], { HOME: home });
}

/**
 * Runs a Python script with Debian's boto3 (/usr/bin/python3). The script gets `args` (the cluster's
 * endpoint and keys plus `extra`) as JSON in `sys.argv[1]` and should print one JSON line last.
 */
export async function boto3(cluster: TestCluster, script: string, extra: Record<string, unknown> = {}): Promise<RunResult & { out?: unknown }> {
  const home = mkdtempSync(join(tmpdir(), 'arca-boto3-'));
  const file = join(home, 'script.py');
  writeFileSync(file, script);
  const args = JSON.stringify({ endpoint: cluster.endpoint, ak: cluster.accessKey, sk: cluster.secretKey, ...extra });
  const r = await runCommand('/usr/bin/python3', [file, args], { HOME: home });
  const last = r.stdout.trim().split('\n').pop();
  let out: unknown;
  try {
    out = last ? JSON.parse(last) : undefined;
  } catch {
    out = undefined;
  }
  return { ...r, out };
}
