/**
 * Ring and builder files on disk. ring/ is pure; this is where its data meets the file system:
 * reading (with errors that name the file and the field), atomic writing, and the set of rings a process
 * serves, reloaded when a file changes so processes pick up a rebalance without restarting.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type BuilderData, Ring, RingBuilder, type RingData, RingError, decodeRingFile, encodeRingFile } from '../../ring/index.js';
import { ringFileName } from './config.js';
import { ArcaError } from './errors.js';

/** `ArcaError('InvalidRing', '<file>: <field>: <reason>')` for a RingError; other errors keep their message. */
function invalid(path: string, err: unknown): ArcaError {
  if (err instanceof ArcaError) return err;
  if (err instanceof RingError) return new ArcaError('InvalidRing', `${path}: ${err.field}: ${err.reason}`, { file: path, field: err.field });
  const e = err as NodeJS.ErrnoException;
  const reason = e?.code === 'ENOENT' ? 'no such file' : e?.code === 'EACCES' ? 'permission denied' : String(e?.message ?? err);
  return new ArcaError('InvalidRing', `${path}: ${reason}`, { file: path });
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalid(path, err);
  }
}

/** Reads and validates a ring file; throws ArcaError('InvalidRing') naming the file and the bad field. */
export function readRingFile(path: string): Ring {
  const data = readRingData(path);
  try {
    return new Ring(data);
  } catch (err) {
    throw invalid(path, err);
  }
}

/** Reads and validates a ring file's data (for tools that inspect rather than look up). */
export function readRingData(path: string): RingData {
  const buf = readBytes(path);
  try {
    return decodeRingFile(buf);
  } catch (err) {
    throw invalid(path, err);
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory, fsync, rename, fsync of the
 * directory. Readers see the old file or the new one, never a torn one.
 */
export function writeFileAtomic(path: string, bytes: Buffer | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created or is already gone
    }
    throw invalid(path, err);
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename itself has happened.
  }
}

/** Writes a ring file (gzip JSON) atomically, after checking the data is a valid ring. */
export function writeRingFile(path: string, data: RingData): void {
  try {
    new Ring(data);
  } catch (err) {
    throw invalid(path, err);
  }
  writeFileAtomic(path, encodeRingFile(data));
}

/** Reads a builder file (plain JSON); throws ArcaError('InvalidRing') naming the file and the bad field. */
export function readBuilderFile(path: string): RingBuilder {
  const text = readBytes(path).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ArcaError('InvalidRing', `${path}: not valid JSON (corrupt or truncated builder file)`, { file: path });
  }
  try {
    return RingBuilder.fromJSON(parsed as BuilderData);
  } catch (err) {
    throw invalid(path, err);
  }
}

/** Writes a builder file atomically. */
export function writeBuilderFile(path: string, builder: RingBuilder | BuilderData): void {
  const data = builder instanceof RingBuilder ? builder.toJSON() : builder;
  writeFileAtomic(path, `${JSON.stringify(data)}\n`);
}

/** What identifies one version of a file: a rename gives a new inode even within one mtime tick. */
function signature(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

interface Loaded {
  path: string;
  ring: Ring;
  signature: string;
}

/**
 * The rings of one cluster directory: account, container and one object ring per storage policy. All are
 * read when the set is made (a missing or bad file is an error then); `reloadIfChanged()` re-reads files
 * whose identity on disk changed.
 */
export class RingSet {
  readonly #rings = new Map<string, Loaded>();

  /** @param ringDir directory holding the ring files; @param policyIndexes the storage policies served */
  constructor(
    readonly ringDir: string,
    policyIndexes: readonly number[],
  ) {
    for (const key of ['account', 'container', ...policyIndexes.map((i) => `object:${i}`)]) {
      const path = join(ringDir, ringFileName(key === 'account' || key === 'container' ? key : { policyIndex: Number(key.slice(7)) }));
      const sig = signature(path);
      this.#rings.set(key, { path, ring: readRingFile(path), signature: sig });
    }
  }

  /** The account ring. */
  get account(): Ring {
    return this.#get('account');
  }

  /** The container (bucket listing) ring. */
  get container(): Ring {
    return this.#get('container');
  }

  /** The object ring of a storage policy. */
  object(policyIndex: number): Ring {
    return this.#get(`object:${policyIndex}`);
  }

  /**
   * Re-reads ring files that changed on disk since they were read; true when any ring was replaced. A
   * changed file that does not read as a valid ring leaves the previous ring in service and throws (once
   * per change of the file), so a timer can log it and carry on.
   */
  reloadIfChanged(): boolean {
    let changed = false;
    let failure: unknown;
    for (const loaded of this.#rings.values()) {
      const sig = signature(loaded.path);
      if (sig === loaded.signature) continue;
      loaded.signature = sig;
      try {
        loaded.ring = readRingFile(loaded.path);
        changed = true;
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure) throw failure;
    return changed;
  }

  #get(key: string): Ring {
    const loaded = this.#rings.get(key);
    if (!loaded) {
      throw new ArcaError('InvalidConfig', `no ring for ${key.replace(':', ' policy ')} in ${this.ringDir} (not among the policies served)`);
    }
    return loaded.ring;
  }
}
