/**
 * Wiring of upload bodies for a reader that starts later. The store reads an upload only once it has opened
 * its node connections (or never, when that fails), while the request already flows in; a bad chunk
 * signature or a client gone in between would otherwise be an 'error' event nobody listens to yet, and
 * that ends the process.
 */
import type { Duplex, Readable } from 'node:stream';

/**
 * Pipes `source` into `dest` and returns `dest`: an error of `source` destroys `dest`, and `dest` keeps its
 * error for its reader (async iteration or `pipeline` still reject with it) instead of raising it unheard.
 */
export function relay<T extends Duplex>(source: Readable, dest: T): T {
  source.on('error', (err) => dest.destroy(err));
  dest.on('error', () => {});
  return source.pipe(dest);
}
