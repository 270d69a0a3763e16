/**
 * Page-cache advice for object files: `posix_fadvise(POSIX_FADV_DONTNEED)` through the `fadvise` addon (Node
 * has no binding of its own).
 *
 * Once a streamed body (one larger than the inline limit) is synced, the write job drops its pages from the
 * cache, as Swift's object server drops every object it wrote (`drop_buffer_cache`): object data written is
 * rarely read back soon, and keeping it evicts what is (listing databases, hash dirs, small objects). The
 * freed pages are the ones the next upload's pages come from. On VMs that hand free guest memory back to the
 * host, that reuse is also what keeps writes cheap: there, filling the cache with pages never touched (or
 * returned) costs ~2.4 ms of kernel time per MiB against ~0.15 for recycled ones (docs/storage-nodes.md,
 * "Page cache").
 *
 * Advice is advice: where the addon did not build, or the call fails, nothing is dropped and nothing else
 * changes. `pageCacheAdvice` says which it is.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

/** The part of the addon's API used here (fadvise.cpp): returns 0 or an errno. */
interface FadviseBinding {
  posix_fadvise(fd: number, offset: number, length: number, advice: number): number;
  POSIX_FADV_DONTNEED: number;
  /** Set by the package's index.js when its build is missing (it then exports a no-op). */
  failed_to_load?: boolean;
}

const binding = load();

function load(): FadviseBinding | undefined {
  try {
    const b = createRequire(import.meta.url)('fadvise') as FadviseBinding;
    return b.failed_to_load ? undefined : b;
  } catch {
    return undefined;
  }
}

/** Whether this process can drop cached pages (the addon loaded). */
export const pageCacheAdvice = binding !== undefined;

/**
 * Drops the clean cached pages of `fd` from `offset` for `length` bytes (0: to the end of the file); sync a
 * written file first, since dirty pages stay. Pages only partly in the range stay too. Synchronous, about a
 * millisecond per 20 MiB dropped. Returns whether the advice was taken.
 */
export function dropCachedPages(fd: number, offset = 0, length = 0): boolean {
  if (!binding) return false;
  return binding.posix_fadvise(fd, offset, length, binding.POSIX_FADV_DONTNEED) === 0;
}

/** How much a read stream reads between two drops behind it. */
const dropWindowBytes = 1024 * 1024;
/** The page size the drops are aligned to. */
const pageBytes = 4096;

/** `offset` rounded down to a page boundary. */
export function pageFloor(offset: number): number {
  return offset - (offset % pageBytes);
}

type ReadCallback = (err: NodeJS.ErrnoException | null, bytesRead: number, buffer: NodeJS.ArrayBufferView) => void;

/**
 * The `fs` calls for a `fs.createReadStream` over a large object that leaves nothing in the page cache behind
 * it: what it read is dropped a MiB at a time, and everything after that, readahead included, when the stream
 * closes its fd. Swift's object server reads objects over its `keep_cache_size` the same way. `start` is where
 * the stream starts reading.
 */
export function dropBehindReads(start: number): {
  read(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null, cb: ReadCallback): void;
  close(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
} {
  let dropped = pageFloor(start);
  let end = start;
  return {
    read(fd, buffer, offset, length, position, cb) {
      fs.read(fd, buffer, offset, length, position, (err, bytesRead, buf) => {
        if (!err && position !== null) {
          end = Math.max(end, position + bytesRead);
          if (end - dropped >= dropWindowBytes) {
            const upTo = pageFloor(end);
            dropCachedPages(fd, dropped, upTo - dropped);
            dropped = upTo;
          }
        }
        cb(err, bytesRead, buf);
      });
    },
    close(fd, cb) {
      // To the end of the file: the kernel's readahead may have read well past the range (8 MiB here).
      dropCachedPages(fd, dropped, 0);
      fs.close(fd, cb);
    },
  };
}
