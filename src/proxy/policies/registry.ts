/** Builds the storage policy strategies of a cluster from its configured policies. */
import { ArcaError } from '../../common/errors.js';
import { type PolicyConfig, parsePolicyName } from '../../common/config.js';
import type { NodeClient } from '../node-client.js';
import type { ClusterRings } from '../placement.js';
import type { StoragePolicy } from './policy.js';
import { ReplicatedPolicy } from './replicated.js';

export class PolicyRegistry {
  private readonly byName = new Map<string, StoragePolicy>();

  constructor(configs: PolicyConfig[], rings: ClusterRings, client: NodeClient) {
    for (const c of configs) {
      const parsed = parsePolicyName(c.name);
      if (!parsed) throw new ArcaError('InvalidConfig', `unknown storage policy "${c.name}"`);
      if (parsed.kind === 'replica') {
        this.byName.set(c.name, new ReplicatedPolicy(c.name, c.index, parsed.replicas, rings, client));
      } else {
        throw new ArcaError('InvalidConfig', `storage policy "${c.name}": erasure coding is not available yet`);
      }
    }
  }

  /** The policy called `name`, or undefined. */
  get(name: string): StoragePolicy | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
