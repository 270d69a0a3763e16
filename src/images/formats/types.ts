/** What a format parser concludes about an image, and the shape every parser has. */
import type { Capture } from './capture.js';

export interface FormatVerdict {
  /** The guest-visible disk size in bytes (undefined: the size of the file, for raw-like formats). */
  virtualSize?: number;
  /** Why the image is unsafe to hand to QEMU (a backing file, an external data file, …). */
  unsafe?: string;
  /** Why the bytes are not a valid image of this format (truncated or corrupt header). */
  invalid?: string;
}

/**
 * A parser looks at the captured bytes and answers a verdict, or `undefined` while bytes it asked for
 * (with `cap.need`) are still to come. It is called again after every chunk until it answers.
 */
export type FormatParser = (cap: Capture) => FormatVerdict | undefined;

/** The answer for bytes a parser needs but can no longer get. */
export function lost(what: string): FormatVerdict {
  return { invalid: `${what} is missing or truncated` };
}
