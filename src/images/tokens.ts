/**
 * API tokens for `X-Auth-Token`: one per request of an access key's owner, stored through the ObjectStore with
 * its expiry (`tokens/<sha256 of the token>` in the image system bucket), so every proxy accepts it and it can
 * be revoked. Identities come from the IdentityProvider: a token is only as good as the access key it was made
 * for, which is looked up again (cached by the provider) on every check, so deleting the key ends its tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IdentityProvider, Principal } from '../common/identity.js';
import { GlanceError } from './errors.js';
import type { ImageRepo } from './repo.js';
import { hexEqual, TOKEN_REQUEST_SKEW_MS, type TokenRequest, tokenRequestSignature } from './signing.js';

interface StoredToken {
  accessKeyId: string;
  expiresAt: string;
  createdAt: string;
  [field: string]: unknown;
}

export interface TokenOptions {
  /** Longest life a token may be given (seconds). */
  maxTtlSec: number;
  /** How long a checked token is remembered by this proxy (ms); a revocation shows after this. */
  cacheTtlMs: number;
}

const MAX_CACHED = 10_000;

function tokenKey(token: string): string {
  return `tokens/${createHash('sha256').update(token).digest('hex')}`;
}

export class TokenService {
  private readonly cache = new Map<string, { principal: Principal | undefined; until: number }>();

  constructor(
    private readonly repo: ImageRepo,
    private readonly identity: IdentityProvider,
    private readonly opts: TokenOptions,
  ) {}

  /** Checks a signed token request and issues the token; 401 for a bad signature, key or date. */
  async issueFor(request: TokenRequest, now = new Date()): Promise<{ token: string; expiresAt: string; principal: Principal }> {
    const { accessKeyId, date, expiresIn, signature } = request;
    if (typeof accessKeyId !== 'string' || typeof date !== 'string' || typeof signature !== 'string' || !Number.isInteger(expiresIn)) {
      throw new GlanceError('BadRequest', 'A token request needs accessKeyId, date, expiresIn and signature.');
    }
    const t = Date.parse(date);
    if (Number.isNaN(t) || Math.abs(now.getTime() - t) > TOKEN_REQUEST_SKEW_MS) throw new GlanceError('Unauthorized', 'The token request is too old or its date is invalid.');
    if (expiresIn < 1 || expiresIn > this.opts.maxTtlSec) throw new GlanceError('BadRequest', `expiresIn must be 1 to ${this.opts.maxTtlSec} seconds.`);
    const cred = await this.identity.lookup(accessKeyId);
    if (!cred || !hexEqual(tokenRequestSignature(cred.secretKey, { accessKeyId, date, expiresIn }), signature)) {
      throw new GlanceError('Unauthorized', 'The request you have made requires authentication.');
    }
    const token = `arca_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(now.getTime() + expiresIn * 1000).toISOString();
    const stored: StoredToken = { accessKeyId, expiresAt, createdAt: now.toISOString() };
    await this.repo.putDoc(tokenKey(token), stored);
    const { secretKey: _secret, ...principal } = cred;
    return { token, expiresAt, principal };
  }

  /** The caller a token stands for, or undefined for an unknown, expired or revoked token. */
  async verify(token: string, now = Date.now()): Promise<Principal | undefined> {
    const key = tokenKey(token);
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.principal;
    const stored = await this.repo.getDoc<StoredToken>(key);
    let principal: Principal | undefined;
    let until = now + this.opts.cacheTtlMs;
    if (stored && Date.parse(stored.expiresAt) > now) {
      const cred = await this.identity.lookup(stored.accessKeyId);
      if (cred) {
        const { secretKey: _secret, ...p } = cred;
        principal = p;
        until = Math.min(until, Date.parse(stored.expiresAt));
      }
    }
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { principal, until });
    return principal;
  }

  /** Ends a token now (on this proxy at once, on others within their cache time). */
  async revoke(token: string): Promise<boolean> {
    const key = tokenKey(token);
    this.cache.delete(key);
    return this.repo.deleteDoc(key);
  }
}
