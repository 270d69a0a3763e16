/**
 * Who is calling: access keys map to a user in an account. The API dialects ask an IdentityProvider; where
 * identities are kept (config, the system account on the ring) is the provider's business.
 */

/** An authenticated caller. */
export interface Principal {
  accessKeyId: string;
  user: string;
  account: string;
  /** The root user may do anything, including managing users. */
  isRoot: boolean;
}

export interface Credentials extends Principal {
  secretKey: string;
}

export interface IdentityProvider {
  /** The credentials of an access key, or undefined when it does not exist. */
  lookup(accessKeyId: string): Promise<Credentials | undefined>;
}

/** The account the root user owns. */
export const rootAccount = 'root';

/** Identities fixed at start-up (the root user from config). */
export class StaticIdentity implements IdentityProvider {
  private readonly keys = new Map<string, Credentials>();

  constructor(credentials: Credentials[]) {
    for (const c of credentials) this.keys.set(c.accessKeyId, c);
  }

  async lookup(accessKeyId: string): Promise<Credentials | undefined> {
    return this.keys.get(accessKeyId);
  }
}
