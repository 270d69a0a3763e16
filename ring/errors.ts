/**
 * The ring's own error. ring/ is a pure leaf and cannot use ArcaError, so it throws this and the I/O layer
 * (src/common/ring-files.ts) wraps it into `ArcaError('InvalidRing', …)` with the file name in front.
 */
export class RingError extends Error {
  /**
   * @param field the offending field as a path into the ring or builder data, e.g. `devices[3].weight`
   * @param reason what is wrong with it, in a few words
   */
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'RingError';
  }
}
