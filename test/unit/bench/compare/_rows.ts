/** Synthetic rows and limits for the bench/compare tests. */
import type { MachineLimits } from '../../../../bench/lib/limits.js';
import type { Figures, Row } from '../../../../bench/compare/summary.js';

export function figures(f: Partial<Figures>): Figures {
  return { ops: 100, errors: 0, opsPerSec: 0, mibPerSec: 0, p50Ms: 1, p99Ms: 2, cpuMsPerOp: 1, peakRssMiB: 100, pssMiB: 50, ...f };
}

export function row(id: string, size: number, arca: Partial<Figures> | undefined, swift: Partial<Figures> | undefined): Row {
  const [group, op = id] = id.includes(':') ? id.split(':') : [id, id.startsWith('list') ? 'list' : 'mixed'];
  return {
    id,
    workload: group,
    op,
    size,
    concurrency: 16,
    rounds: { arca: 3, swift: 3 },
    ...(arca ? { arca: figures(arca) } : {}),
    ...(swift ? { swift: figures(swift) } : {}),
  };
}

export const limits: MachineLimits = {
  loopbackMiBps: 2000,
  fsyncWriteMiBps: 900,
  durableCreates: { perSec: 720, creates: 1000, p50Ms: 1.3, p99Ms: 9 },
  md5GBps: 0.6,
  sha256GBps: 1.5,
};
