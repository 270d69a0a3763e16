/**
 * A device's write journal: how a small write becomes durable with one shared sync instead of three of its
 * own (docs/storage-nodes.md, "The write journal").
 *
 * A small body or a tombstone goes into its hash dir as before (tmp file, rename), without a sync of the file
 * or of the directories whose entries changed. The whole file is also appended, as one record, to the
 * device's journal, and the write is acknowledged once the journal is fdatasync'd. Concurrent writes share
 * that sync: a sync asked for while one runs waits for it and then runs once for everyone who asked
 * meanwhile (CoalescedSyncs). So a write costs a share of one fdatasync of one file that only grows, where
 * it cost an fdatasync of its file and an fsync of its hash dir and of each directory it made, each a
 * device flush.
 *
 * The journal is a series of segments (`<device>/journal/<seq>.wal`). Every few seconds, or once a segment
 * is large, a checkpoint starts a new segment, flushes the whole file system (`syncfs`, through coreutils'
 * `sync -f` in a helper process, syncfs.ts: the files, their names and their directories are then on disk)
 * and removes the old segment.
 * After a crash, `replayJournal` reads what is left before the node serves: a record whose file is missing,
 * or is not what the record holds, is written again (unless a newer version in its hash dir made it
 * obsolete; a pending EC fragment archive marked durable since is looked for under its durable name), and
 * its suffix is marked in `hashes.invalid`.
 *
 * Record: magic `ARJ1` (u32 BE), header length (u32), data length (u32), CRC-32 of header then data (u32), the
 * header (JSON: the hash dir and the `hashes.invalid` path relative to the device, the file name, the line),
 * the data. Replay of a segment stops at the first record that is short or fails its CRC (a torn tail); an
 * append that fails retires its segment, so no good record follows a torn one.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CoalescedSyncs, fdatasyncFd, fsyncDir, readdirIfExistsSync, writeFileDurably } from './fs-util.js';
import { dataFileName, hashDirState, parseFileName } from './hash-dir.js';
import { syncFileSystem } from './syncfs.js';

export const journalDirName = 'journal';

const magic = 0x41524a31;
const prefixBytes = 16;
/** Header and data of a record larger than this are not a record (a corrupt length). */
const maxRecordBytes = 64 * 1024 * 1024;

/** One write as the journal holds it; paths are relative to the device's directory. */
export interface JournalRecord {
  /** The hash dir. */
  dir: string;
  /** The file's name in it. */
  file: string;
  /** The partition's `hashes.invalid`, and the line the write appended to it. */
  invalid: string;
  line: string;
  /** The whole file. */
  data: Uint8Array;
}

export function encodeRecord(rec: JournalRecord): Buffer[] {
  const header = Buffer.from(JSON.stringify({ dir: rec.dir, file: rec.file, invalid: rec.invalid, line: rec.line }));
  const prefix = Buffer.allocUnsafe(prefixBytes);
  prefix.writeUInt32BE(magic, 0);
  prefix.writeUInt32BE(header.length, 4);
  prefix.writeUInt32BE(rec.data.length, 8);
  prefix.writeUInt32BE(recordCrc(header, rec.data), 12);
  return [prefix, header, Buffer.from(rec.data.buffer, rec.data.byteOffset, rec.data.length)];
}

/**
 * CRC-32 of a record's header, then its data. An empty data is left out: zlib's crc32 of an empty array that
 * came from another thread answered 0, not the value it was given to continue.
 */
function recordCrc(header: Uint8Array, data: Uint8Array): number {
  const h = crc32(header);
  return data.length > 0 ? crc32(data, h) : h;
}

/** The whole records at the start of `buf`; stops at the first one that is short, corrupt or not a record. */
export function decodeRecords(buf: Buffer): JournalRecord[] {
  const out: JournalRecord[] = [];
  let at = 0;
  while (at + prefixBytes <= buf.length) {
    if (buf.readUInt32BE(at) !== magic) break;
    const headerLength = buf.readUInt32BE(at + 4);
    const dataLength = buf.readUInt32BE(at + 8);
    if (headerLength + dataLength > maxRecordBytes) break;
    const end = at + prefixBytes + headerLength + dataLength;
    if (end > buf.length) break;
    const header = buf.subarray(at + prefixBytes, at + prefixBytes + headerLength);
    const data = buf.subarray(at + prefixBytes + headerLength, end);
    if (recordCrc(header, data) !== buf.readUInt32BE(at + 12)) break;
    let h: { dir?: unknown; file?: unknown; invalid?: unknown; line?: unknown };
    try {
      h = JSON.parse(header.toString('utf8'));
    } catch {
      break;
    }
    if (typeof h.dir !== 'string' || typeof h.file !== 'string' || typeof h.invalid !== 'string' || typeof h.line !== 'string') break;
    out.push({ dir: h.dir, file: h.file, invalid: h.invalid, line: h.line, data });
    at = end;
  }
  return out;
}

export interface WriteJournalOptions {
  /** A checkpoint starts once the current segment is this old (ms). Default 5,000. */
  maxAgeMs?: number;
  /** …or this large. Default 32 MiB. */
  maxBytes?: number;
  /** Flushes the device's file system (tests count the calls). */
  syncfs?: (dir: string) => Promise<void>;
}

interface Segment {
  path: string;
  /** -1 once closed by its checkpoint. */
  fd: number;
  bytes: number;
  checkpointed: boolean;
  /** The checkpoint's last fdatasync of it failed: its records may not be on disk. */
  lost?: boolean;
}

/** The journal of one device, kept by the thread that runs the writes (write-queue-worker.ts, `WriteRunner`). */
export class WriteJournal {
  readonly #dir: string;
  readonly #maxAgeMs: number;
  readonly #maxBytes: number;
  readonly #syncfs: (dir: string) => Promise<void>;
  /** The segment appends go to; a new one is made by the first append after a checkpoint took this one. */
  #current: Segment | undefined;
  #seq = -1;
  /** Segments by path, while open. */
  readonly #open = new Map<string, { seg: Segment; named: Promise<void> }>();
  /** fdatasyncs of a segment, shared by the appends made while another one ran. */
  readonly #syncs = new CoalescedSyncs((path) => this.#syncSegment(path));
  /** The checkpoints, one after another. */
  #checkpoints: Promise<void> = Promise.resolve();
  #pending = 0;
  /** Segments whose records a failed flush did not make redundant; removed by the next that succeeds. */
  readonly #retired: string[] = [];

  constructor(
    readonly deviceDir: string,
    opts: WriteJournalOptions = {},
  ) {
    this.#dir = join(deviceDir, journalDirName);
    this.#maxAgeMs = opts.maxAgeMs ?? 5000;
    this.#maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
    this.#syncfs = opts.syncfs ?? syncFileSystem;
  }

  /**
   * Appends a record (a synchronous write into the page cache); `sync` with what it returns makes it durable.
   * Throws when the append fails: the segment is then retired, and the write must not go on.
   */
  append(rec: JournalRecord): Segment {
    const seg = this.#current ?? this.#newSegment();
    const chunks = encodeRecord(rec);
    const length = chunks.reduce((n, c) => n + c.length, 0);
    try {
      let done = fs.writevSync(seg.fd, chunks);
      // A regular file takes a short write only when it runs out of room: finish it, or fail on the error.
      while (done < length) done += fs.writeSync(seg.fd, Buffer.concat(chunks).subarray(done));
    } catch (err) {
      this.#checkpoint(seg);
      throw err;
    }
    seg.bytes += length;
    if (seg.bytes >= this.#maxBytes) this.#checkpoint(seg);
    return seg;
  }

  /** Resolves once everything appended to `seg` before the call is on disk. */
  sync(seg: Segment): Promise<void> {
    return this.#syncs.sync(seg.path);
  }

  /** Checkpoints what was appended so far, and waits for every checkpoint (tests; a clean stop). */
  async flush(): Promise<void> {
    if (this.#current) this.#checkpoint(this.#current);
    while (this.#pending > 0) await this.#checkpoints;
  }

  #newSegment(): Segment {
    // Made when missing (a new device, or a wiped one that its node made usable again), and its entry
    // synced; the device's own directory is never made here (mkdir fails when it is gone).
    const made = !fs.existsSync(this.#dir);
    if (made) fs.mkdirSync(this.#dir);
    if (this.#seq < 0) {
      let seq = 0;
      for (const name of readdirIfExistsSync(this.#dir) ?? []) {
        const m = /^(\d+)\.wal$/.exec(name);
        if (m) seq = Math.max(seq, Number(m[1]) + 1);
      }
      this.#seq = seq;
    }
    const path = join(this.#dir, `${String(this.#seq++).padStart(10, '0')}.wal`);
    const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_APPEND, 0o644);
    // The segment's name (and the journal dir's, when just made) is durable before its first sync counts.
    const named = Promise.all([fsyncDir(this.#dir), made ? fsyncDir(this.deviceDir) : undefined]).then(() => {});
    named.catch(() => {});
    const seg: Segment = { path, fd, bytes: 0, checkpointed: false };
    this.#open.set(path, { seg, named });
    this.#current = seg;
    setTimeout(() => this.#checkpoint(seg), this.#maxAgeMs).unref();
    return seg;
  }

  async #syncSegment(path: string): Promise<void> {
    const open = this.#open.get(path);
    // Closed by its checkpoint, after a last fdatasync that covered every append (writers ask for their sync
    // in the turn of their append, before any checkpoint runs).
    if (!open || open.seg.fd < 0) {
      if (open?.seg.lost) throw Object.assign(new Error(`EIO: the journal segment ${path} could not be synced`), { code: 'EIO' });
      return;
    }
    await open.named;
    await fdatasyncFd(open.seg.fd);
    // A segment that is no longer in the journal dir (the device was wiped and made usable again while it
    // was open) would not be replayed: flush the file system instead, which makes the writes it holds
    // durable where they are, and stop appending to it.
    if (open.seg.fd >= 0 && fs.fstatSync(open.seg.fd).nlink === 0) {
      await this.#syncfs(this.deviceDir);
      this.#checkpoint(open.seg);
    }
  }

  /** Stops appends to `seg` and queues its checkpoint. */
  #checkpoint(seg: Segment): void {
    if (seg.checkpointed) return;
    seg.checkpointed = true;
    if (this.#current === seg) this.#current = undefined;
    this.#pending++;
    // A checkpoint that throws (a close that failed) must not stop the ones after it.
    this.#checkpoints = this.#checkpoints
      .then(() => this.#runCheckpoint(seg))
      .catch(() => {})
      .finally(() => this.#pending--);
  }

  /**
   * Makes `seg`'s records redundant and removes it: its syncs end first (their writers wait on them), then
   * the file system is flushed. Every file a record of it holds was renamed into place in the same turn as
   * the record's append, so the flush covers it.
   */
  async #runCheckpoint(seg: Segment): Promise<void> {
    await this.#syncs.sync(seg.path).catch(() => {
      seg.lost = true;
    });
    fs.closeSync(seg.fd);
    seg.fd = -1;
    this.#retired.push(seg.path);
    try {
      await this.#syncfs(this.deviceDir);
    } catch {
      // The records stay: a crash replays them, and the next checkpoint that succeeds removes the segment.
      return;
    } finally {
      this.#open.delete(seg.path);
    }
    for (const path of this.#retired.splice(0)) {
      try {
        fs.unlinkSync(path);
      } catch {}
    }
  }
}

/** What a replay did on a device. */
export interface ReplayResult {
  records: number;
  /** Files written again (missing, or not what the record holds). */
  restored: number;
  segments: number;
}

/**
 * Replays a device's journal before the node serves it (nothing else writes the device meanwhile), then
 * flushes the file system and removes the segments. Files are written again through the device's `tmp/`.
 */
export async function replayJournal(deviceDir: string, syncfs: (dir: string) => Promise<void> = syncFileSystem): Promise<ReplayResult> {
  const dir = join(deviceDir, journalDirName);
  const segments = (readdirIfExistsSync(dir) ?? []).filter((n) => /^\d+\.wal$/.test(n)).sort();
  const result: ReplayResult = { records: 0, restored: 0, segments: segments.length };
  if (segments.length === 0) return result;
  // Grouped by hash dir, so a record that a later one made obsolete is not written only to be removed.
  const byDir = new Map<string, JournalRecord[]>();
  for (const name of segments) {
    for (const rec of decodeRecords(fs.readFileSync(join(dir, name)))) {
      result.records++;
      if (!isRelative(rec.dir) || !isRelative(rec.invalid) || rec.file.includes('/')) continue;
      const list = byDir.get(rec.dir) ?? [];
      list.push(rec);
      byDir.set(rec.dir, list);
    }
  }
  for (const records of byDir.values()) result.restored += await restoreDir(deviceDir, records);
  await syncfs(deviceDir);
  for (const name of segments) fs.unlinkSync(join(dir, name));
  await fsyncDir(dir);
  return result;
}

/**
 * Writes the files of one hash dir's records again unless they are there intact, or a newer version (on disk
 * or in a later record) made them obsolete; returns how many it wrote. A pending EC fragment archive may have
 * been marked durable since its record (a rename, which keeps the bytes): the durable name is checked then.
 */
async function restoreDir(deviceDir: string, records: JournalRecord[]): Promise<number> {
  const hashDir = join(deviceDir, records[0].dir);
  const names = readdirIfExistsSync(hashDir) ?? [];
  const files = records.map((rec) => {
    const p = parseFileName(rec.file);
    const durable = p?.kind === 'data' && !p.durable && p.frag !== undefined ? dataFileName(p.ts, p.frag, true) : undefined;
    return durable !== undefined && names.includes(durable) ? durable : rec.file;
  });
  const obsolete = new Set(hashDirState([...new Set([...names, ...files])]).obsolete);
  let written = 0;
  for (const [i, rec] of records.entries()) {
    const file = files[i];
    if (obsolete.has(file)) continue;
    if (names.includes(file)) {
      let current: Buffer | undefined;
      try {
        current = fs.readFileSync(join(hashDir, file));
      } catch {}
      if (current?.equals(rec.data)) continue;
    }
    // Not synced here: the replay flushes the file system once at the end.
    await writeFileDurably(join(deviceDir, 'tmp'), join(hashDir, file), rec.data, false);
    fs.appendFileSync(join(deviceDir, rec.invalid), rec.line, 'latin1');
    written++;
  }
  return written;
}

const isRelative = (p: string) => p.length > 0 && !p.startsWith('/') && !p.split('/').includes('..');
