/** Builds the storage policy strategies of a cluster from its configured policies. */
import { ArcaError } from '../../common/errors.js';
import { type PolicyConfig, parsePolicyName } from '../../common/config.js';
import { ErrorLimiter } from '../../common/error-limiter.js';
import type { NodeClient } from '../node-client.js';
import { type ClusterRings, ReadAffinity } from '../placement.js';
import type { StoragePolicy } from './policy.js';
import { DEFAULT_SEGMENT_SIZE } from '../../erasure/index.js';
import { ErasureCodedPolicy } from './ec.js';
import { ReplicatedPolicy } from './replicated.js';

/** Settings of the policies beside their names. */
export interface PolicyOptions {
  /** Bytes per segment of new EC objects (default DEFAULT_SEGMENT_SIZE, 1 MiB). */
  ecSegmentSize?: number;
  /** Storage nodes (`ip:port`) that reads of replicated objects ask first, in this order (default: ring order). */
  readAffinity?: readonly string[];
  /** Swift's error limiting: reads and writes, replicated and EC (error-limiter.ts; default: none). */
  errorLimit?: { limit: number; intervalMs: number };
}

export class PolicyRegistry {
  private readonly byName = new Map<string, StoragePolicy>();

  constructor(configs: PolicyConfig[], rings: ClusterRings, client: NodeClient, opts: PolicyOptions = {}) {
    const routing = {
      affinity: opts.readAffinity?.length ? new ReadAffinity(opts.readAffinity) : undefined,
      // One limiter for every policy: a node that hangs does so for all of them.
      limiter: opts.errorLimit && opts.errorLimit.limit > 0 ? new ErrorLimiter(opts.errorLimit) : undefined,
    };
    for (const c of configs) {
      const parsed = parsePolicyName(c.name);
      if (!parsed) throw new ArcaError('InvalidConfig', `unknown storage policy "${c.name}"`);
      if (parsed.kind === 'replica') {
        this.byName.set(c.name, new ReplicatedPolicy(c.name, c.index, parsed.replicas, rings, client, routing));
      } else {
        this.byName.set(c.name, new ErasureCodedPolicy(c.name, c.index, parsed.k, parsed.m, rings, client, { segmentSize: opts.ecSegmentSize ?? DEFAULT_SEGMENT_SIZE, limiter: routing.limiter }));
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
