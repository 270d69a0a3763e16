/**
 * What identity names and keys may look like, and how new access keys are made. User and account names
 * follow IAM's user-name alphabet, but must start with a letter or digit: names starting with `.` belong
 * to Arca's own system accounts, and `root` is the configured root user's.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { rootAccount, rootUser } from '../common/identity.js';
import { IdentityError } from './errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@+=,-]{0,63}$/;
const ACCESS_KEY = /^[A-Za-z0-9]{16,128}$/;
const SECRET_KEY = /^[\x21-\x7e]{16,128}$/;

/** True when `s` has the shape of a user or account name (whether or not it is reserved). */
export function isIdentityName(s: string): boolean {
  return NAME.test(s);
}

/** Checks a user name; `root` is reserved. */
export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new IdentityError('InvalidArgument', `invalid user name ${JSON.stringify(name)}: 1-64 characters of A-Z a-z 0-9 _ . @ + = , -, starting with a letter or digit`);
  }
  if (name === rootUser) throw new IdentityError('InvalidArgument', `"${rootUser}" is the configured root user`);
  return name;
}

/** Checks an account name; the root account is reserved. */
export function checkAccountName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new IdentityError('InvalidArgument', `invalid account name ${JSON.stringify(name)}: 1-64 characters of A-Z a-z 0-9 _ . @ + = , -, starting with a letter or digit`);
  }
  if (name === rootAccount) throw new IdentityError('InvalidArgument', `"${rootAccount}" is the root user's account`);
  return name;
}

/** Checks a client-chosen access key pair (AWS's shapes: 16-128 alphanumerics; a secret of 16-128 visible ASCII characters). */
export function checkKeyPair(accessKeyId: unknown, secretKey: unknown): { accessKeyId: string; secretKey: string } {
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY.test(accessKeyId)) {
    throw new IdentityError('InvalidArgument', 'invalid access key: 16-128 characters of A-Z a-z 0-9');
  }
  if (typeof secretKey !== 'string' || !SECRET_KEY.test(secretKey)) {
    throw new IdentityError('InvalidArgument', 'invalid secret key: 16-128 visible ASCII characters, no spaces');
  }
  return { accessKeyId, secretKey };
}

/** A new access key pair in AWS's shapes (20 upper-case characters, 40 base64-like characters). */
export function newKeyPair(): { accessKeyId: string; secretKey: string } {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let accessKeyId = 'AK';
  for (let i = 0; i < 18; i++) accessKeyId += alphabet[randomInt(alphabet.length)];
  return { accessKeyId, secretKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x') };
}
