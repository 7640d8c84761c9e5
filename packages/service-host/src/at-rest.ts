import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { StorageKeyring } from '@passerelle/directory';
import type { PrivateJwk } from '@passerelle/envelope';
import type { RecordCipher } from '@passerelle/procedure';

/** Records sealed under a storage key: `s2.<kid>.<iv>.<ciphertext and tag>`. */
const FORMAT = 's2';
/** Records sealed by releases before storage keys, under a key derived from the signing key. */
const LEGACY_FORMAT = 's1';

/**
 * The kinds of records the services seal at rest, by the name `passerelle storage reseal --store` takes,
 * with the purpose their keys are derived for (one key per purpose: a record of one kind never opens as
 * another).
 */
export const RECORD_PURPOSES = {
  dossiers: 'dossiers',
  register: 'register',
  'ict-stays': 'ict stays',
  'portal-dossiers': 'portal dossiers',
  'portal-idempotency': 'portal idempotency',
} as const;

/** A kind of record sealed at rest (see {@link RECORD_PURPOSES}). */
export type RecordStore = keyof typeof RECORD_PURPOSES;

function hkdf(secret: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
}

/** The key of one storage key for one purpose (HKDF-SHA-256). */
function storageKey(k: string, purpose: string): Buffer {
  return hkdf(Buffer.from(k, 'base64url'), `passerelle storage v1 ${purpose}`);
}

/**
 * LEGACY — how releases before storage keys derived their keys at rest: from the hosted participant's
 * private signing key. Used only to read what those releases sealed (`s1` records, commune register
 * pseudonyms), never to seal.
 */
function legacySigningKeyDerivation(jwk: PrivateJwk, purpose: string): Buffer {
  return hkdf(Buffer.from(jwk.d, 'base64url'), `passerelle service ${purpose}`);
}

function sealWith(key: Buffer, value: unknown, aad: string): { iv: string; body: string } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([
    cipher.update(JSON.stringify(value), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return { iv: iv.toString('base64url'), body: body.toString('base64url') };
}

function openWith<T>(key: Buffer, iv: string, body: string, aad: string): T | undefined {
  try {
    const data = Buffer.from(body, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Options of {@link StateCipher.fromKeyring}. */
export interface StateCipherOptions {
  /**
   * LEGACY — the hosted participant's signing key, to read records an earlier release sealed under a key
   * derived from it (they are sealed under the storage key at their next write, or by `passerelle storage
   * reseal`). Leave it out once no such record is left: with it, a stolen signing key still reads them.
   */
  legacySigningKey?: PrivateJwk;
  /** Called each time a record is read through the legacy path (the host logs it). */
  onLegacyRead?: () => void;
}

/**
 * AES-256-GCM for a service's own KV records under the participant's storage keyring: sealed under the
 * current storage key (a key per purpose, HKDF-SHA-256), a random IV per write, the KV key as additional
 * data, the storage key's `kid` in the record. Older keys of the ring still open what they sealed, so a
 * storage-key rotation loses nothing; the signing key plays no part, so a signing-key rotation neither.
 * NATS operators reading the bucket see keys and sizes only. A record that does not open (unknown key,
 * altered or moved) gives `undefined` (`ERR_STATE_UNREADABLE` in the stores).
 *
 * @example
 * ```ts
 * const cipher = StateCipher.fromKeyring(await loadStorageKeys('keys/commune-21004'), 'dossiers');
 * const sealed = cipher.seal({ phase: 'arrived' }, 'commune-21004.D-1');
 * ```
 */
export class StateCipher implements RecordCipher {
  private constructor(
    private readonly currentKid: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
    private readonly legacy: Buffer | undefined,
    private readonly onLegacyRead: (() => void) | undefined,
  ) {}

  /** The cipher of one participant's keyring for one purpose (`dossiers`, `register`…). */
  static fromKeyring(ring: StorageKeyring, purpose: string, options: StateCipherOptions = {}): StateCipher {
    return new StateCipher(
      ring.current,
      new Map(ring.keys.map((k) => [k.kid, storageKey(k.k, purpose)])),
      options.legacySigningKey ? legacySigningKeyDerivation(options.legacySigningKey, purpose) : undefined,
      options.onLegacyRead,
    );
  }

  seal(value: unknown, aad: string): string {
    const { iv, body } = sealWith(this.keys.get(this.currentKid)!, value, aad);
    return `${FORMAT}.${this.currentKid}.${iv}.${body}`;
  }

  open<T>(sealed: string, aad: string): T | undefined {
    const parts = sealed.split('.');
    if (parts[0] === FORMAT && parts.length === 4) {
      const key = this.keys.get(parts[1]!);
      return key ? openWith<T>(key, parts[2]!, parts[3]!, aad) : undefined;
    }
    if (parts[0] === LEGACY_FORMAT && parts.length === 3 && this.legacy) {
      const value = openWith<T>(this.legacy, parts[1]!, parts[2]!, aad);
      if (value !== undefined) this.onLegacyRead?.();
      return value;
    }
    return undefined;
  }

  /** The `kid` a record names, `legacy` for one sealed under the signing key, or undefined. */
  keyOf(sealed: string): string | undefined {
    const parts = sealed.split('.');
    if (parts[0] === FORMAT && parts.length === 4) return parts[1];
    if (parts[0] === LEGACY_FORMAT && parts.length === 3) return 'legacy';
    return undefined;
  }

  /**
   * The record sealed under the current key: itself when it already is, a new sealing otherwise, or
   * undefined when it does not open.
   */
  reseal(sealed: string, aad: string): string | undefined {
    if (this.keyOf(sealed) === this.currentKid)
      return this.open(sealed, aad) === undefined ? undefined : sealed;
    const value = this.open<unknown>(sealed, aad);
    return value === undefined ? undefined : this.seal(value, aad);
  }
}

/**
 * The KV-key-safe pseudonyms of a personal identifier (a passport number keying a commune's register):
 * HMAC-SHA-256 under a key derived from the keyring's pseudonym secret, 32 hex digits, then (with
 * `legacySigningKey`) the one an earlier release derived from the signing key. A lookup tries them in
 * order; a new record takes the first. The bucket's key list reveals no passport number, and rotating the
 * storage key leaves the pseudonyms as they are.
 */
export function pseudonymKeys(
  ring: StorageKeyring,
  purpose: string,
  value: string,
  legacySigningKey?: PrivateJwk,
): string[] {
  const hmac = (key: Buffer): string => createHmac('sha256', key).update(value).digest('hex').slice(0, 32);
  return [
    hmac(storageKey(ring.pseudonym, `pseudonym ${purpose}`)),
    ...(legacySigningKey ? [hmac(legacySigningKeyDerivation(legacySigningKey, `pseudonym ${purpose}`))] : []),
  ];
}

/**
 * The secret a hosted participant's decision documents are encrypted under (each document's own key is
 * derived from it and the document's hash: `DecisionArchive.putSealed`), from its current storage key:
 * the same document gives the same reference whatever its signing key, and a stolen signing key derives
 * none of them.
 */
export function documentSecret(ring: StorageKeyring): Buffer {
  const current = ring.keys.find((k) => k.kid === ring.current)!;
  return storageKey(current.k, 'decision documents');
}
