import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { PrivateJwk } from '@passerelle/envelope';

const FORMAT = 'r1';

/**
 * Encrypts the portal's own KV records (dossier status, idempotency answers) so that whoever reads the
 * buckets — NATS operators included — sees keys and sizes only. Idempotency answers hold document
 * references, whose `objectKey` is a read capability; dossier records hold fee amounts. AES-256-GCM with
 * a random IV per write, the KV key as additional data (a record cannot be moved to another key).
 */
export class AtRestCipher {
  private constructor(private readonly key: Buffer) {}

  /**
   * Derives the record key from the portal's private signing key (HKDF-SHA-256), so no extra secret has
   * to be configured; only the portal process can read its records. A new signing key makes older records
   * unreadable, which the stores treat as absent.
   */
  static fromPrivateKey(jwk: PrivateJwk, purpose: string): AtRestCipher {
    const ikm = Buffer.from(jwk.d, 'base64url');
    return new AtRestCipher(
      Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), `passerelle portal ${purpose}`, 32)),
    );
  }

  seal(value: unknown, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([
      cipher.update(JSON.stringify(value), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${FORMAT}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** The record, or undefined when it does not decrypt (another key, altered). */
  open<T>(sealed: string, aad: string): T | undefined {
    const [format, iv, body] = sealed.split('.');
    if (format !== FORMAT || !iv || !body) return undefined;
    try {
      const data = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }
}
