import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { PrivateJwk } from '@passerelle/envelope';
import type { RecordCipher } from '@passerelle/procedure';

const FORMAT = 's1';

function derive(jwk: PrivateJwk, purpose: string): Buffer {
  // The hosted participant's private signing key is the only secret the service holds; HKDF separates uses.
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(jwk.d, 'base64url'), Buffer.alloc(0), `passerelle service ${purpose}`, 32),
  );
}

/**
 * AES-256-GCM for a service's own KV records, keyed per hosted participant from its private signing key
 * (HKDF-SHA-256): NATS operators reading the bucket see keys and sizes only. A random IV per write; the KV
 * key as additional data. A replaced signing key makes older records unreadable (ERR_STATE_UNREADABLE).
 *
 * @example
 * ```ts
 * const cipher = StateCipher.fromPrivateKey(keys.signing, 'dossiers');
 * const sealed = cipher.seal({ phase: 'arrived' }, 'commune-21004.D-1');
 * ```
 */
export class StateCipher implements RecordCipher {
  private constructor(private readonly key: Buffer) {}

  /** The cipher of one hosted participant for one purpose (`dossiers`, `register`…). */
  static fromPrivateKey(jwk: PrivateJwk, purpose: string): StateCipher {
    return new StateCipher(derive(jwk, purpose));
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

/**
 * A KV-key-safe pseudonym of a personal identifier (a passport number keying a commune's register):
 * HMAC-SHA-256 under a key derived from the participant's signing key, 32 hex digits. The bucket's key
 * list then reveals no passport number.
 */
export function pseudonymKey(jwk: PrivateJwk, purpose: string, value: string): string {
  return createHmac('sha256', derive(jwk, `pseudonym ${purpose}`))
    .update(value)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The secret a hosted participant's decision documents are encrypted under (each document's own key is
 * derived from it and the document's hash: `DecisionArchive.putSealed`), from its private signing key.
 */
export function documentSecret(jwk: PrivateJwk): Buffer {
  return derive(jwk, 'decision documents');
}
