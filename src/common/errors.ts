/**
 * Domain errors raised inside Arca. Each has a stable `code`; the API layers (S3, Glance, Swift) map codes
 * to their own protocol errors at the edge. Anything that is not an ArcaError is an internal error there.
 */
export type ArcaErrorCode =
  | 'NotFound'
  | 'Conflict'
  | 'Locked' // an object lock (retention, legal hold) refuses the change; detail.lock names it
  | 'PreconditionFailed'
  | 'RangeNotSatisfiable' // detail.size holds the object size
  | 'InsufficientReplicas' // a write or read could not reach its quorum
  | 'BadDigest' // the body did not match a digest the client supplied
  | 'BadRequest'
  | 'ClientAborted' // the client went away before the body was complete
  | 'Timeout'
  | 'InvalidConfig'
  | 'InvalidRing'
  | 'HookRejected' // a compute hook refused the request; the message is the hook's (detail.hook)
  | 'HookFailed' // a compute hook trapped, overran its CPU time or memory, or broke the ABI (detail.hook, detail.reason)
  | 'Busy' // no capacity right now (every hook worker busy); retryable
  | 'Internal';

/** An error with a stable code; `detail` carries machine-readable context for the edge to use. */
export class ArcaError extends Error {
  constructor(
    readonly code: ArcaErrorCode,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ArcaError';
  }
}

/** True when `err` is an ArcaError with one of the given codes. */
export function isArcaError(err: unknown, ...codes: ArcaErrorCode[]): err is ArcaError {
  return err instanceof ArcaError && (codes.length === 0 || codes.includes(err.code));
}
