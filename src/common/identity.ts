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

/** A user as others see it: its name and the account it belongs to. */
export interface UserRef {
  name: string;
  account: string;
}

export interface IdentityProvider {
  /** The credentials of an access key, or undefined when it does not exist. */
  lookup(accessKeyId: string): Promise<Credentials | undefined>;
  /** Whether an account exists (ACL grantees and bucket-policy principals must name one). */
  accountExists(account: string): Promise<boolean>;
  /** A user by name, or undefined when there is none. */
  user(name: string): Promise<UserRef | undefined>;
}

/** The account the root user owns. */
export const rootAccount = 'root';
/** The root user's name. */
export const rootUser = 'root';

/** Identities fixed at start-up (the root user from config; tests). */
export class StaticIdentity implements IdentityProvider {
  private readonly keys = new Map<string, Credentials>();

  constructor(credentials: Credentials[]) {
    for (const c of credentials) this.keys.set(c.accessKeyId, c);
  }

  async lookup(accessKeyId: string): Promise<Credentials | undefined> {
    return this.keys.get(accessKeyId);
  }

  async accountExists(account: string): Promise<boolean> {
    for (const c of this.keys.values()) if (c.account === account) return true;
    return false;
  }

  async user(name: string): Promise<UserRef | undefined> {
    for (const c of this.keys.values()) if (c.user === name) return { name: c.user, account: c.account };
    return undefined;
  }
}
