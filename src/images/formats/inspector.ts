/**
 * Disk format inspection while an image streams in, once: which format the bytes are, whether that is the
 * declared `disk_format`, the virtual size, and whether QEMU could be made to open other host files through it.
 * A refusal is an ArcaError `BadRequest` thrown from `update` (as soon as the header says so) or `finish`; the
 * upload then aborts and nothing is stored.
 */
import { ArcaError } from '../../common/errors.js';
import { Capture } from './capture.js';
import { parseQcow2, QCOW2_MAGIC } from './qcow2.js';
import type { FormatParser, FormatVerdict } from './types.js';
import { isVdi, parseVdi } from './vdi.js';
import { parseVhd, VHD_MAGIC } from './vhd.js';
import { parseVhdx, VHDX_MAGIC } from './vhdx.js';
import { isVmdkDescriptorText, parseVmdk, VMDK_MAGIC } from './vmdk.js';

/** Formats QEMU recognises by their header (and would interpret if handed the file as "raw"). */
export type ProbedFormat = 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi';
export type DetectedFormat = ProbedFormat | 'iso' | 'raw';

const PARSERS: Record<ProbedFormat, FormatParser> = { qcow2: parseQcow2, vmdk: parseVmdk, vhd: parseVhd, vhdx: parseVhdx, vdi: parseVdi };
/** Declared formats whose bytes must be exactly that format. */
const STRICT: ReadonlySet<string> = new Set(['qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso']);
const ISO_SIGNATURE_OFFSET = 0x8001;

function isProbed(f: DetectedFormat): f is ProbedFormat {
  return f in PARSERS;
}

/** The format announced by the first bytes (at least 512 unless the image is shorter), or raw. */
export function detectByMagic(head: Buffer): DetectedFormat {
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) return 'qcow2';
  if (head.subarray(0, 4).equals(VMDK_MAGIC) || isVmdkDescriptorText(head)) return 'vmdk';
  if (head.subarray(0, 8).equals(VHDX_MAGIC)) return 'vhdx';
  if (head.subarray(0, 8).equals(VHD_MAGIC)) return 'vhd';
  if (isVdi(head)) return 'vdi';
  return 'raw';
}

export interface InspectionResult {
  format: DetectedFormat;
  /** The guest-visible size; null for an empty upload. */
  virtualSize: number | null;
}

export class FormatInspector {
  private readonly cap = new Capture();
  private detected: DetectedFormat | undefined;
  private verdict: FormatVerdict | undefined;

  /**
   * @param declared the image's disk_format
   * @param bare whether the container format is `bare` (or unset): only then must the bytes be the declared
   *   disk format; unsafe images are refused in any container.
   */
  constructor(
    private readonly declared: string | null,
    private readonly bare: boolean,
  ) {}

  /** Feeds the next chunk; throws BadRequest as soon as the image is known to be refused. */
  update(chunk: Buffer): void {
    this.cap.feed(chunk);
    this.step();
  }

  /** True once the verdict is in (more bytes would change nothing). */
  get decided(): boolean {
    return this.detected !== undefined && (!isProbed(this.detected) || this.verdict !== undefined);
  }

  /**
   * Ends the stream: the final verdict, or BadRequest. `totalSize` is the image's size when only its start was
   * fed (an existing object inspected by range reads); by default, what was fed.
   */
  finish(totalSize = this.cap.seen): InspectionResult {
    this.cap.end();
    if (totalSize === 0) return { format: 'raw', virtualSize: null };
    this.step();
    const format = this.detected ?? 'raw';
    if (isProbed(format) && !this.verdict) this.refuse(`the ${format} header could not be read`);
    const v = this.verdict;
    if (v?.invalid && this.bare && this.declared === format) this.refuse(`image data is not a valid ${format} image: ${v.invalid}`);
    return { format, virtualSize: v?.virtualSize ?? totalSize };
  }

  private refuse(why: string): never {
    throw new ArcaError('BadRequest', why);
  }

  private step(): void {
    const cap = this.cap;
    if (this.detected === undefined) {
      if (cap.seen < 512 && !cap.done) return;
      const head = cap.need(0, Math.min(cap.seen, 512)) as Buffer;
      let format = detectByMagic(head);
      if (format === 'raw' && this.declared === 'iso') {
        const sig = cap.need(ISO_SIGNATURE_OFFSET, 5);
        if (sig === 'wait') return;
        if (sig !== 'lost' && sig.toString('latin1') === 'CD001') format = 'iso';
      }
      this.detected = format;
      this.checkMatch(format);
    }
    const format = this.detected;
    if (!isProbed(format) || this.verdict) return;
    const verdict = PARSERS[format](cap);
    if (!verdict) return;
    this.verdict = verdict;
    if (verdict.unsafe) this.refuse(`image refused: ${verdict.unsafe}`);
  }

  private checkMatch(format: DetectedFormat): void {
    const problem = formatProblem(this.declared, this.bare, format);
    if (problem) this.refuse(problem);
  }
}

/** Why bytes of `format` may not be stored as `declared` (in a bare container or not), or undefined. */
export function formatProblem(declared: string | null, bare: boolean, format: DetectedFormat): string | undefined {
  if (!bare || declared === null) return undefined;
  if (STRICT.has(declared) && format !== declared) {
    return `image data does not match disk_format ${declared} (the bytes are ${format === 'raw' ? 'not a known disk format' : `a ${format} image`})`;
  }
  if (!STRICT.has(declared) && isProbed(format)) return `image data does not match disk_format ${declared} (the bytes are a ${format} image)`;
  return undefined;
}
