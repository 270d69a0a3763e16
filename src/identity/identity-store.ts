/**
 * Accounts, users and access keys kept on the ring, in the system account's `.identity` bucket (a name no
 * S3 client can create or address), so every proxy sees the same identities. One small JSON object each:
 *
 *   accounts/<account>           { account, createdAt }
 *   users/<name>                 { name, account, createdAt }
 *   keys/<accessKeyId>           { accessKeyId, user, account, createdAt, secret: SealedSecret }
 *   user-keys/<name>/<keyId>     {}   (index: a user's keys without scanning all keys)
 *
 * The root user comes from config and always exists; it is never stored. Lookups are cached for a few
 * seconds (positive and negative answers alike), so a change made through another proxy is seen within
 * `cacheTtlMs`; changes made through this one invalidate the cache at once. Admin changes are not
 * transactional: a user is deleted first (its keys stop working) and its keys afterwards.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { readBounded } from '../common/read-stream.js';
import { type Credentials, type IdentityProvider, rootAccount, rootUser, type UserRef } from '../common/identity.js';
import type { BucketInfo, ObjectStore } from '../proxy/object-store.js';
import { IdentityError } from './errors.js';
import { checkAccountName, checkKeyPair, checkUserName, isIdentityName, newKeyPair } from './names.js';
import { type SealedSecret, SecretBox } from './secret-box.js';

/** The system account (cluster-store.ts's `systemAccount`) and the bucket identities live in. */
export const identityAccount = '.arca';
export const identityBucket = '.identity';

export interface UserRecord {
  name: string;
  account: string;
  createdAt: string;
}

export interface AccessKeyRecord {
  accessKeyId: string;
  user: string;
  account: string;
  createdAt: string;
}

/** A key as returned once, when it is created: with its secret. */
export interface NewAccessKey extends AccessKeyRecord {
  secretAccessKey: string;
}

interface StoredKey extends AccessKeyRecord {
  secret: SealedSecret;
}

export interface IdentityStoreOptions {
  store: ObjectStore;
  /** The root user's key pair (config); always valid, never stored. */
  root: { accessKeyId: string; secretKey: string };
  /** Cluster key material that protects stored secrets (config `identityKey`, else the root secret). */
  keyMaterial: string;
  /** How long lookups are cached (ms); 0 disables the cache. */
  cacheTtlMs: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/** Most entries per cache before the oldest are dropped. */
const maxCacheEntries = 10_000;

class TtlCache<T> {
  private readonly entries = new Map<string, { expires: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The cached value of `key`, or `load()`'s (concurrent misses share one load; failures are not kept). */
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const value = load();
    if (this.ttlMs > 0) {
      this.entries.delete(key);
      this.entries.set(key, { expires: this.now() + this.ttlMs, value });
      if (this.entries.size > maxCacheEntries) this.entries.delete(this.entries.keys().next().value!);
      value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    }
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}


/** The identity store: admin operations plus the IdentityProvider the S3 layer authenticates with. */
export class IdentityStore implements IdentityProvider {
  private readonly box: SecretBox;
  private readonly now: () => number;
  private readonly keys: TtlCache<Credentials | undefined>;
  private readonly users: TtlCache<UserRecord | undefined>;
  private readonly accounts: TtlCache<boolean>;
  private bucket?: BucketInfo;

  constructor(private readonly opts: IdentityStoreOptions) {
    this.box = new SecretBox(opts.keyMaterial);
    this.now = opts.now ?? Date.now;
    this.keys = new TtlCache(opts.cacheTtlMs, this.now);
    this.users = new TtlCache(opts.cacheTtlMs, this.now);
    this.accounts = new TtlCache(opts.cacheTtlMs, this.now);
  }

  private rootCredentials(): Credentials {
    const { accessKeyId, secretKey } = this.opts.root;
    return { accessKeyId, secretKey, user: rootUser, account: rootAccount, isRoot: true };
  }

  // --- storage -------------------------------------------------------------------------------------------

  /** The identity bucket; undefined until the first identity is written (unless `create`). */
  private async identityBucket(create: boolean): Promise<BucketInfo | undefined> {
    if (this.bucket) return this.bucket;
    let bucket = await this.opts.store.getBucket(identityBucket);
    if (!bucket && create) {
      await this.opts.store.createBucket(identityAccount, identityBucket);
      bucket = await this.opts.store.getBucket(identityBucket);
    }
    if (bucket && bucket.account !== identityAccount) throw new IdentityError('CorruptRecord', `bucket ${identityBucket} is not the system account's`);
    this.bucket = bucket;
    return bucket;
  }

  private async read<T>(key: string): Promise<T | undefined> {
    const bucket = await this.identityBucket(false);
    if (!bucket) return undefined;
    // Newest: a deleted key or user still held by a device that missed the delete must not come back.
    // Lookups are cached, so this is paid once per entry and TTL.
    const got = await this.opts.store.getObject(bucket, key, { newest: true });
    if (!got) return undefined;
    const text = (await readBounded(got.body, 1024 * 1024)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new IdentityError('CorruptRecord', `identity record ${key} is not JSON`);
    }
  }

  private async write(key: string, value: unknown): Promise<void> {
    const bucket = (await this.identityBucket(true))!;
    const data = Buffer.from(JSON.stringify(value));
    const etag = createHash('md5').update(data).digest('hex');
    await this.opts.store.putObject(bucket, key, { body: Readable.from([data]), contentType: 'application/json', finish: () => ({ etag }) });
  }

  private async remove(key: string): Promise<void> {
    const bucket = await this.identityBucket(false);
    if (bucket) await this.opts.store.deleteObject(bucket, key);
  }

  /** Every key under `prefix`, in order. */
  private async list(prefix: string): Promise<string[]> {
    const bucket = await this.identityBucket(false);
    if (!bucket) return [];
    const out: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.opts.store.listObjects(bucket, { prefix, marker, limit: 1000 });
      for (const e of page.entries) if ('key' in e) out.push(e.key);
      if (!page.truncated || page.entries.length === 0) return out;
      marker = out[out.length - 1];
    }
  }

  // --- IdentityProvider ----------------------------------------------------------------------------------

  lookup(accessKeyId: string): Promise<Credentials | undefined> {
    if (accessKeyId === this.opts.root.accessKeyId) return Promise.resolve(this.rootCredentials());
    if (!/^[A-Za-z0-9]{1,128}$/.test(accessKeyId)) return Promise.resolve(undefined);
    return this.keys.get(accessKeyId, async () => {
      const stored = await this.read<StoredKey>(`keys/${accessKeyId}`);
      if (!stored || stored.accessKeyId !== accessKeyId) return undefined;
      // A key whose user was deleted is dead even before its record is cleaned up.
      const user = await this.getUser(stored.user);
      if (!user || user.account !== stored.account) return undefined;
      const secretKey = this.box.open(stored.secret, accessKeyId);
      if (secretKey === undefined) throw new IdentityError('CorruptRecord', `the secret of access key ${accessKeyId} cannot be decrypted with this cluster key`);
      return { accessKeyId, secretKey, user: stored.user, account: stored.account, isRoot: false };
    });
  }

  async accountExists(account: string): Promise<boolean> {
    if (account === rootAccount) return true;
    if (!isIdentityName(account)) return false;
    return this.accounts.get(account, async () => (await this.read(`accounts/${account}`)) !== undefined);
  }

  async user(name: string): Promise<UserRef | undefined> {
    if (name === rootUser) return { name: rootUser, account: rootAccount };
    const u = await this.getUser(name);
    return u && { name: u.name, account: u.account };
  }

  // --- admin ---------------------------------------------------------------------------------------------

  /** A user by name (root included), or undefined. */
  getUser(name: string): Promise<UserRecord | undefined> {
    if (name === rootUser) return Promise.resolve({ name: rootUser, account: rootAccount, createdAt: '' });
    if (!isIdentityName(name)) return Promise.resolve(undefined);
    return this.users.get(name, () => this.read<UserRecord>(`users/${name}`));
  }

  /** Every stored user (root is not stored, but listed first). */
  async listUsers(): Promise<UserRecord[]> {
    const names = (await this.list('users/')).map((k) => k.slice('users/'.length));
    const records: Array<UserRecord | undefined> = [];
    // A few reads at a time: a cluster may have many users.
    for (let i = 0; i < names.length; i += 32) {
      records.push(...(await Promise.all(names.slice(i, i + 32).map((n) => this.read<UserRecord>(`users/${n}`)))));
    }
    return [(await this.getUser(rootUser))!, ...records.filter((r): r is UserRecord => r !== undefined)];
  }

  /**
   * Creates a user in `account` (default: an account named after the user, created if new) with one access
   * key (`accessKeyId`/`secretKey` when given, generated otherwise). UserAlreadyExists when the name is taken.
   */
  async createUser(name: string, opts: { account?: string; accessKeyId?: string; secretKey?: string } = {}): Promise<{ user: UserRecord; key: NewAccessKey }> {
    checkUserName(name);
    const account = checkAccountName(opts.account ?? name);
    const pair = this.keyPairFor(opts);
    this.users.delete(name);
    if (await this.getUser(name)) throw new IdentityError('UserAlreadyExists', `user ${name} already exists`);
    await this.assertKeyUnused(pair.accessKeyId);
    this.accounts.delete(account);
    if (!(await this.accountExists(account))) await this.write(`accounts/${account}`, { account, createdAt: new Date(this.now()).toISOString() });
    this.accounts.delete(account);
    const user: UserRecord = { name, account, createdAt: new Date(this.now()).toISOString() };
    await this.write(`users/${name}`, user);
    this.users.delete(name);
    const key = await this.storeKey(user, pair);
    return { user, key };
  }

  /** Deletes a user and all its access keys; NoSuchUser when there is none. */
  async deleteUser(name: string): Promise<void> {
    if (name === rootUser) throw new IdentityError('InvalidArgument', 'the root user comes from config and cannot be deleted');
    this.users.delete(name);
    if (!(await this.getUser(name))) throw new IdentityError('NoSuchUser', `user ${name} does not exist`);
    const keyIds = await this.keyIdsOf(name);
    await this.remove(`users/${name}`);
    this.users.delete(name);
    for (const id of keyIds) {
      await this.remove(`keys/${id}`);
      await this.remove(`user-keys/${name}/${id}`);
      this.keys.delete(id);
    }
  }

  /** The access keys of a user (without secrets); NoSuchUser when there is none. */
  async listKeys(name: string): Promise<AccessKeyRecord[]> {
    const user = await this.getUser(name);
    if (!user) throw new IdentityError('NoSuchUser', `user ${name} does not exist`);
    if (name === rootUser) return [{ accessKeyId: this.opts.root.accessKeyId, user: rootUser, account: rootAccount, createdAt: user.createdAt }];
    const stored = await Promise.all((await this.keyIdsOf(name)).map((id) => this.read<StoredKey>(`keys/${id}`)));
    return stored
      .filter((k): k is StoredKey => k !== undefined && k.user === name)
      .map(({ accessKeyId, user: u, account, createdAt }) => ({ accessKeyId, user: u, account, createdAt }));
  }

  /** Adds an access key to a user; NoSuchUser, AccessKeyAlreadyExists. */
  async createKey(name: string, opts: { accessKeyId?: string; secretKey?: string } = {}): Promise<NewAccessKey> {
    const pair = this.keyPairFor(opts);
    if (name === rootUser) throw new IdentityError('InvalidArgument', 'the root user has exactly the key in the proxy config');
    const user = await this.getUser(name);
    if (!user) throw new IdentityError('NoSuchUser', `user ${name} does not exist`);
    await this.assertKeyUnused(pair.accessKeyId);
    return this.storeKey(user, pair);
  }

  /** Deletes an access key; NoSuchAccessKey when there is none. */
  async deleteKey(accessKeyId: string): Promise<void> {
    if (accessKeyId === this.opts.root.accessKeyId) throw new IdentityError('InvalidArgument', 'the root key comes from config and cannot be deleted');
    const stored = /^[A-Za-z0-9]+$/.test(accessKeyId) ? await this.read<StoredKey>(`keys/${accessKeyId}`) : undefined;
    if (!stored) throw new IdentityError('NoSuchAccessKey', `access key ${accessKeyId} does not exist`);
    await this.remove(`keys/${accessKeyId}`);
    await this.remove(`user-keys/${stored.user}/${accessKeyId}`);
    this.keys.delete(accessKeyId);
  }

  private keyPairFor(opts: { accessKeyId?: string; secretKey?: string }): { accessKeyId: string; secretKey: string } {
    if (opts.accessKeyId === undefined && opts.secretKey === undefined) return newKeyPair();
    if (opts.accessKeyId === undefined || opts.secretKey === undefined) {
      throw new IdentityError('InvalidArgument', 'give both an access key and a secret key, or neither');
    }
    return checkKeyPair(opts.accessKeyId, opts.secretKey);
  }

  private async assertKeyUnused(accessKeyId: string): Promise<void> {
    this.keys.delete(accessKeyId);
    if (accessKeyId === this.opts.root.accessKeyId || (await this.read(`keys/${accessKeyId}`)) !== undefined) {
      throw new IdentityError('AccessKeyAlreadyExists', `access key ${accessKeyId} already exists`);
    }
  }

  private async storeKey(user: UserRecord, pair: { accessKeyId: string; secretKey: string }): Promise<NewAccessKey> {
    const record: AccessKeyRecord = { accessKeyId: pair.accessKeyId, user: user.name, account: user.account, createdAt: new Date(this.now()).toISOString() };
    await this.write(`user-keys/${user.name}/${pair.accessKeyId}`, {});
    await this.write(`keys/${pair.accessKeyId}`, { ...record, secret: this.box.seal(pair.secretKey, pair.accessKeyId) } satisfies StoredKey);
    this.keys.delete(pair.accessKeyId);
    return { ...record, secretAccessKey: pair.secretKey };
  }

  private async keyIdsOf(name: string): Promise<string[]> {
    const prefix = `user-keys/${name}/`;
    return (await this.list(prefix)).map((k) => k.slice(prefix.length));
  }
}
