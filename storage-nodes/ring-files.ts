/**
 * Rings read from a ring directory for the storage node's workers: each ring file is loaded when first used
 * and reloaded when its modification time or size changes (`reloadIfChanged`). A missing or bad file makes
 * the access throw, which a worker logs before it skips that ring's partitions.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ringFileName } from '../src/common/config.js';
import { decodeRingFile, Ring } from '../ring/index.js';
import type { NodeRings } from './node-rings.js';

interface Loaded {
  ring: Ring;
  /** mtime and size when read. */
  stamp: string;
}

/** The rings of a ring directory, loaded lazily and reloaded on change. */
export class RingDirectory implements NodeRings {
  readonly #loaded = new Map<string, Loaded>();

  constructor(private readonly ringDir: string) {}

  get account(): Ring {
    return this.#ring(ringFileName('account'));
  }

  get container(): Ring {
    return this.#ring(ringFileName('container'));
  }

  object(policyIndex: number): Ring {
    return this.#ring(ringFileName({ policyIndex }));
  }

  reloadIfChanged(): boolean {
    let changed = false;
    for (const [file, loaded] of this.#loaded) {
      let stamp: string;
      try {
        stamp = stampOf(join(this.ringDir, file));
      } catch {
        continue; // a ring file being replaced: keep the one we have
      }
      if (stamp === loaded.stamp) continue;
      try {
        this.#load(file);
        changed = true;
      } catch {
        // Half-written or bad: keep the old ring until a good file is there.
      }
    }
    return changed;
  }

  #ring(file: string): Ring {
    return (this.#loaded.get(file) ?? this.#load(file)).ring;
  }

  #load(file: string): Loaded {
    const path = join(this.ringDir, file);
    const stamp = stampOf(path);
    const loaded = { ring: new Ring(decodeRingFile(readFileSync(path))), stamp };
    this.#loaded.set(file, loaded);
    return loaded;
  }
}

function stampOf(path: string): string {
  const st = statSync(path);
  return `${st.mtimeMs}:${st.size}:${st.ino}`;
}
