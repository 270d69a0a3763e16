/** Reed–Solomon erasure coding and segment arithmetic for EC storage policies. */
export { CODEC_SCHEME, type CodecImpl, createCodec, type ErasureCodec, MAX_K, MAX_M } from './codec.js';
export {
  allocSegment,
  DEFAULT_SEGMENT_SIZE,
  FRAGMENT_ALIGNMENT,
  fragmentArchiveSize,
  fragmentOffset,
  fragmentSize,
  MAX_SEGMENT_SIZE,
  mapRange,
  type SegmentInfo,
  type SegmentRange,
  segmentCount,
  segments,
  segmentLength,
} from './segments.js';
