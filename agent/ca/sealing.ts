/**
 * Seals the few secrets the replicated store must hold in clear for managers (the join tokens today;
 * secrets later) so that the raft log and snapshots on disk carry only ciphertext.
 *
 * The key is derived (HKDF-SHA256) from the root CA's signing key, which every manager holds in a 0600
 * file and no worker ever has: whoever can read sealed values could already sign certificates. Sealed
 * values are AES-256-GCM, so tampering is detected, and the cluster ID is bound in as associated data.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const SEALED_PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealingError extends Error {
  override readonly name = 'SealingError';
}

export class SecretSealer {
  private readonly key: Buffer;
  private readonly aad: Buffer;

  constructor(caKeyPem: string, clusterId: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(caKeyPem, 'utf8'), Buffer.from(clusterId, 'utf8'), 'swarmdesk store secrets v1', 32));
    this.aad = Buffer.from(clusterId, 'utf8');
  }

  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(this.aad);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  unseal(sealed: string): string {
    if (!sealed.startsWith(SEALED_PREFIX)) throw new SealingError('the value is not sealed');
    const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SealingError('the sealed value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(this.aad);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealingError('the sealed value does not open with this cluster\'s key (tampered, or sealed by another cluster)');
    }
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}
