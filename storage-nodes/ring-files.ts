/**
 * The rings of the node's ring directory for its workers: a `RingSet` (src/common/ring-files.ts) made when
 * first needed rather than at startup, so a node starts (and serves its devices) before ring files exist or
 * while one is bad; a worker that finds no usable ring logs it and skips its pass.
 */
import { RingSet } from '../src/common/ring-files.js';
import type { Ring } from '../ring/index.js';
import type { NodeRings } from './node-rings.js';

/** A RingSet loaded on first use and reloaded when its files change. */
export class RingDirectory implements NodeRings {
  #set: RingSet | undefined;

  constructor(
    private readonly ringDir: string,
    private readonly policyIndexes: readonly number[],
  ) {}

  get account(): Ring {
    return this.#rings().account;
  }

  get container(): Ring {
    return this.#rings().container;
  }

  object(policyIndex: number): Ring {
    return this.#rings().object(policyIndex);
  }

  /** Loads the rings if they were never loaded, else reloads changed files; true when rings changed. */
  reloadIfChanged(): boolean {
    if (!this.#set) {
      this.#rings();
      return true;
    }
    return this.#set.reloadIfChanged();
  }

  #rings(): RingSet {
    this.#set ??= new RingSet(this.ringDir, this.policyIndexes);
    return this.#set;
  }
}
