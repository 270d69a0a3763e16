/** What a benchmark ran on and at which commit, for its report. */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages when asked. */
  loadAvg: number[];
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAvg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export interface CommitInfo {
  commit: string;
  /** Uncommitted changes to code that runs (src/, storage-nodes/, ring/) were present in the checkout. */
  dirty: boolean;
}

/** `git rev-parse HEAD` of `cwd`, and whether the running code differs from it. */
export function commitInfo(cwd: string): CommitInfo {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' });
  const status = spawnSync('git', ['status', '--porcelain', '--', 'src', 'storage-nodes', 'ring'], { cwd, encoding: 'utf8' });
  return { commit: head.status === 0 ? head.stdout.trim() : 'unknown', dirty: status.status === 0 && status.stdout.trim() !== '' };
}
