import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { DoorError } from './door-error.js';

/**
 * The keys a door derives from its one secret (HKDF-SHA-256, one key per use):
 * - `hash`: HMAC-SHA-256 of client secrets and access tokens, as stored. The secrets are 256-bit random
 *   values the door makes, so a slow password hash (scrypt) would add only cost at every token request;
 *   the keyed hash adds what matters here: whoever can write the bucket but does not hold the door's secret
 *   cannot plant a client or a token of their own, nor test a guess against a stolen copy.
 * - `seal`: AES-256-GCM of what must be read back (webhook signing secrets, idempotency records holding
 *   answers), each bound to its record's key so that a sealed value cannot be moved to another record.
 * - `mac`: the tags of collection cursors, so that a door only reads cursors it made.
 */
export class DoorKeys {
  private constructor(
    private readonly hashKey: Buffer,
    private readonly sealKey: Buffer,
    private readonly macKey: Buffer,
  ) {}

  /**
   * Derives the keys from the door's secret (at least 32 random bytes, kept outside NATS).
   *
   * @example
   * ```ts
   * const keys = DoorKeys.fromSecret(Buffer.from(process.env.DOOR_SECRET!, 'base64'));
   * ```
   */
  static fromSecret(secret: Uint8Array): DoorKeys {
    if (!(secret instanceof Uint8Array) || secret.byteLength < 32) {
      throw new DoorError('ERR_CONFIG_INVALID', 'door setting secret must hold at least 32 random bytes', {
        details: { setting: 'secret' },
      });
    }
    const derive = (info: string): Buffer =>
      Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `passerelle door ${info}`, 32));
    return new DoorKeys(derive('hash'), derive('seal'), derive('mac'));
  }

  /** Lower-case hex HMAC-SHA-256 of `value` for one `purpose` (`client-secret`, `access-token`). */
  hash(purpose: string, value: string): string {
    return createHmac('sha256', this.hashKey).update(`${purpose}\n`).update(value, 'utf8').digest('hex');
  }

  /** Whether `value` hashes to `expected` (hex), compared in constant time. */
  hashMatches(purpose: string, value: string, expected: string): boolean {
    const a = Buffer.from(this.hash(purpose, value), 'hex');
    const b = Buffer.from(expected, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Encrypts `plaintext` for the record `context` (base64url of nonce, ciphertext and tag). */
  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** Decrypts what {@link seal} made for `context`; `undefined` if it was altered, moved or sealed under another secret. */
  open(sealed: string, context: string): string | undefined {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < 28) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([
        decipher.update(bytes.subarray(12, bytes.length - 16)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** A 128-bit tag of `value` (base64url). */
  mac(value: string): string {
    return createHmac('sha256', this.macKey)
      .update(value, 'utf8')
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }

  /** Whether `tag` is {@link mac} of `value`, compared in constant time. */
  macMatches(value: string, tag: string): boolean {
    const a = Buffer.from(this.mac(value), 'base64url');
    const b = Buffer.from(tag, 'base64url');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/**
 * A fresh secret: a short prefix saying what it is (so that secret scanners and people recognise it) and
 * 256 random bits in base64url.
 *
 * @example
 * ```ts
 * randomSecret('pdc'); // 'pdc_4mJ…' (a client secret)
 * ```
 */
export function randomSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}
