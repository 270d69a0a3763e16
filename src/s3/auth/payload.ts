/**
 * `x-amz-content-sha256`: what the client says about the body, and the check of a hex hash once the body has
 * been read. https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import { S3Error } from '../errors.js';
import type { PayloadMode } from './types.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

function invalidValue(value: string): S3Error {
  return new S3Error('InvalidArgument', {
    message:
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    extra: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  });
}

/**
 * The payload mode a `x-amz-content-sha256` value announces. Throws InvalidArgument for anything else,
 * including the SigV4a (ECDSA) streaming values, which Arca does not implement.
 */
export function parseContentSha256(value: string): PayloadMode {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
      return { kind: 'streaming-signed', trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { kind: 'streaming-signed', trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming-unsigned-trailer' };
    default:
      if (SHA256_HEX.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
      throw invalidValue(value);
  }
}

/**
 * Call when the whole body has been read: throws XAmzContentSHA256Mismatch if the request announced a hex
 * SHA-256 and `computedHex` (from `Digester` with `sha256Hex`) differs. Does nothing for other modes.
 */
export function assertPayloadSha256(payload: PayloadMode, computedHex: string): void {
  if (payload.kind !== 'sha256' || payload.hex === computedHex.toLowerCase()) return;
  throw new S3Error('XAmzContentSHA256Mismatch', {
    extra: { ClientComputedContentSHA256: payload.hex, S3ComputedContentSHA256: computedHex.toLowerCase() },
  });
}

/** True when the handler must compute the body's SHA-256 to call {@link assertPayloadSha256}. */
export function needsPayloadSha256(payload: PayloadMode): boolean {
  return payload.kind === 'sha256';
}
