/** src/cli/local-cluster: the node configs a local cluster's data directory gets. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { prepareLocalCluster } from '../../../src/cli/local-cluster.js';

function nodeConfigs(opts: { reconRun?: boolean }): Array<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'arca-local-cluster-'));
  try {
    const layout = prepareLocalCluster(dir, { port: 18080, nodes: 2, policies: [{ index: 0, name: 'replica-2' }], defaultPolicy: 'replica-2', partPower: 4, seed: 1 }, opts);
    return layout.nodeConfigFiles.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reconRun (arca cluster --recon-run) lets every node run passes on request; without it no node does', (t) => {
  t.deepEqual(
    nodeConfigs({ reconRun: true }).map((c) => c.reconRun),
    [true, true],
  );
  for (const c of nodeConfigs({})) t.false('reconRun' in c);
});
