/**
 * The object auditor (Swift's object-auditor): walks every hash dir of every device, re-reads the data files
 * of its version (for EC, every fragment archive held, pending ones included) at a bounded byte rate, and
 * checks each — the footer parses, the metadata names this hash dir and this version, the body has the
 * stored size and the stored XXH64, and an archive's fragment checksums cover exactly its fragments. A file
 * that fails is moved to `<device>/quarantined/objects[-N]/<hash>/` and its suffix hash invalidated, so the
 * replicator's (or reconstructor's) next pass sees the difference and restores it from good copies.
 * Tombstones and `.meta` files carry no body and are skipped. The walk goes at most `hashDirsPerSec` hash dirs
 * a second (Swift's `files_per_second`): listing them is most of a pass's CPU, a tombstone's as much as a
 * data file's, and at full speed a pass took both cores for seconds every interval.
 */
import type { Readable } from 'node:stream';
import { freeBytes } from '../src/common/free-bytes.js';
import { createXxh64 } from '../src/common/xxh64.js';
import { CorruptDataFileError, type DataFile, DeviceUnavailableError, hashOfName } from './disk-file.js';
import type { FsPartitions, HashDirRef } from './fs-partitions.js';
import { fragmentCount } from './fragments.js';
import { TokenBucket } from './pacer.js';

export interface ObjectAuditorDeps {
  devices: readonly string[];
  partitions: FsPartitions;
  /** Bytes per second the auditor may read (over all devices). */
  bytesPerSec: number;
  /** Hash dirs per second the walk goes through (over all devices); 0 or absent = no limit. */
  hashDirsPerSec?: number;
  log: (line: string) => void;
}

/** What one pass did. */
export interface AuditStats {
  /** Hash dirs walked (with a data file or a tombstone). */
  hashDirs: number;
  /** Data files checked, and body bytes read. */
  checked: number;
  bytes: number;
  /** Data files moved to quarantine. */
  quarantined: number;
}

/** Audits the data files of a node's devices; `runOnce` is one pass. */
export class ObjectAuditor {
  constructor(private readonly deps: ObjectAuditorDeps) {}

  async runOnce(signal?: AbortSignal): Promise<AuditStats> {
    const stats: AuditStats = { hashDirs: 0, checked: 0, bytes: 0, quarantined: 0 };
    const bucket = new TokenBucket(this.deps.bytesPerSec);
    const dirRate = this.deps.hashDirsPerSec ?? 0;
    const dirs = dirRate > 0 ? new TokenBucket(dirRate) : undefined;
    // Taken a quarter second's worth at a time: many short sleeps cost CPU of their own on this machine (16 at
    // a time, a pass at 200 a second took 2.1 CPU-s against 1.2: performance.md, proposal 39).
    const dirBatch = Math.max(1, Math.round(dirRate / 4));
    for (const device of this.deps.devices) {
      try {
        for await (const entry of this.deps.partitions.walk(device)) {
          stats.hashDirs++;
          if (dirs && stats.hashDirs % dirBatch === 0) await dirs.take(dirBatch, signal);
          if (signal?.aborted) return stats;
          // The version's data files (one per fragment index for EC) and EC archives awaiting their durable mark.
          for (const file of [...(entry.entry.files ?? []), ...(entry.entry.pending ?? [])]) {
            const problem = await this.#check(entry, file, bucket, stats, signal);
            if (problem === undefined) continue;
            const where = await this.deps.partitions.quarantine(entry, file);
            if (where) {
              stats.quarantined++;
              this.deps.log(`auditor: quarantined ${entry.device}/${entry.policyIndex}/${entry.partition}/${entry.suffix}/${entry.hash}/${file} to ${where}: ${problem}`);
            }
          }
        }
      } catch (err) {
        this.deps.log(`auditor: ${device}: ${(err as Error).message}`);
        if (!(err instanceof DeviceUnavailableError)) throw err;
      }
    }
    return stats;
  }

  /** Reads and checks one data file; the reason it is corrupt, or undefined when it is fine (or gone). */
  async #check(ref: HashDirRef, file: string, bucket: TokenBucket, stats: AuditStats, signal?: AbortSignal): Promise<string | undefined> {
    let opened: Awaited<ReturnType<FsPartitions['openVersion']>>;
    try {
      opened = await this.deps.partitions.openVersion(ref, file);
    } catch (err) {
      if (err instanceof CorruptDataFileError) return err.message;
      throw err;
    }
    if (opened?.kind !== 'data') return undefined; // replaced meanwhile
    const data = opened.file;
    const { meta } = data;
    const problem =
      meta.ts !== opened.ts
        ? `metadata says version ${meta.ts}`
        : typeof meta.name !== 'string' || hashOfName(meta.name) !== ref.hash
          ? 'metadata names another object'
          : meta.size !== data.size
            ? `body is ${data.size} bytes, metadata says ${meta.size}`
            : typeof meta.xxh64 !== 'string'
              ? 'metadata has no xxh64'
              : data.fragmentChecksums && data.fragmentChecksums.length !== fragmentCount(meta)
                ? `${data.fragmentChecksums.length} fragment checksums for an archive of ${data.size} bytes`
                : undefined;
    if (problem) {
      await data.close();
      return problem;
    }
    stats.checked++;
    const digest = await this.#digest(data, bucket, stats, signal);
    if (digest === undefined) return undefined; // stopped mid-file
    return digest === meta.xxh64 ? undefined : `body xxh64 ${digest}, metadata says ${meta.xxh64}`;
  }

  /** XXH64 of the body, read at the bucket's rate; undefined when `signal` aborted the read. */
  async #digest(data: DataFile, bucket: TokenBucket, stats: AuditStats, signal?: AbortSignal): Promise<string | undefined> {
    const hash = createXxh64();
    const body = data.read();
    if (Buffer.isBuffer(body)) {
      await bucket.take(body.length, signal);
      stats.bytes += body.length;
      return hash.update(body).digestHex();
    }
    const stream = body as Readable;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const bytes = chunk.length;
        stats.bytes += bytes;
        hash.update(chunk);
        // Nothing else holds the chunk: free it now rather than at V8's next collection (free-bytes.ts). Its
        // length reads 0 from here on.
        freeBytes(chunk);
        await bucket.take(bytes, signal);
        if (signal?.aborted) return undefined;
      }
    } finally {
      stream.destroy();
    }
    return hash.digestHex();
  }
}
