/**
 * Secret access keys at rest. SigV4 needs the secret itself (not a hash), so the identity store keeps it
 * encrypted: AES-256-GCM under a key derived (HKDF-SHA256) from the cluster's key material, with the access
 * key id as additional data so a sealed secret cannot be moved to another key's record. Whoever can read the
 * proxy config can decrypt; whoever can only read the storage nodes' disks cannot.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** A secret as stored: version, IV, ciphertext and GCM tag, base64. */
export interface SealedSecret {
  v: 1;
  iv: string;
  data: string;
  tag: string;
}

export class SecretBox {
  private readonly key: Buffer;

  /** `material`: the cluster key (config `identityKey`, by default the root secret key). */
  constructor(material: string) {
    if (!material) throw new Error('SecretBox needs key material');
    this.key = Buffer.from(hkdfSync('sha256', material, 'arca-identity', 'access-key-secrets-v1', 32));
  }

  seal(secret: string, accessKeyId: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return { v: 1, iv: iv.toString('base64'), data: data.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  }

  /** The secret, or undefined when it was sealed under another key or for another access key id. */
  open(sealed: SealedSecret, accessKeyId: string): string | undefined {
    if (sealed?.v !== 1) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
