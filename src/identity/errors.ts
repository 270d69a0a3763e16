/** Errors of the identity store, with stable codes the admin API turns into statuses. */

export type IdentityErrorCode = 'InvalidArgument' | 'NoSuchUser' | 'NoSuchAccessKey' | 'UserAlreadyExists' | 'AccessKeyAlreadyExists' | 'CorruptRecord';

export class IdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}
