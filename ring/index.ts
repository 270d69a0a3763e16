/** The ring library: lookups (Ring), ring files (encode/decode) and the builder. Pure: no I/O, no clock. */
export { type BuilderData, type BuilderStats, type RebalanceResult, RingBuilder } from './builder.js';
export type { Device } from './device.js';
export { RingError } from './errors.js';
export { MAX_PART_POWER, MAX_REPLICAS } from './ring-data.js';
export { decodeRingFile, encodeRingFile, Ring, type RingData } from './ring.js';
export { type DeviceStats, type RingStats, statsOfRingData } from './stats.js';
