import {
  type JsonWebKey,
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
} from 'node:crypto';
import { decodeBase64Url, isBase64Url } from '@passerelle/envelope';
import type { PrivateJwk, PublicJwk } from './keys.js';

/** A compact JWS split into its parts; `signingInput` is what ES256 signs. */
export interface CompactParts {
  header: { alg?: unknown; kid?: unknown; typ?: unknown } & Record<string, unknown>;
  payload: unknown;
  signingInput: string;
  signature: string;
}

/**
 * Splits a compact JWS and decodes header and payload; `undefined` when it is not one, or when a segment
 * is not canonical base64url (one JWS, one spelling: the ledger hashes the text).
 */
export function decodeCompact(jws: unknown): CompactParts | undefined {
  if (typeof jws !== 'string') return undefined;
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!h || !p || !s || !isBase64Url(s)) return undefined;
  try {
    const header = JSON.parse(decodeBase64Url(h, 'JWS header').toString('utf8')) as unknown;
    const payload = JSON.parse(decodeBase64Url(p, 'JWS payload').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    return { header: header as CompactParts['header'], payload, signingInput: `${h}.${p}`, signature: s };
  } catch {
    return undefined;
  }
}

const privateKeys = new WeakMap<object, KeyObject>();

/**
 * Signs `payload` as a compact ES256 JWS. Internal stand-in for `signCompact` of `@passerelle/envelope`
 * with the same output format, kept behind this function so either can be used.
 */
export function signEs256Compact(payload: object, key: PrivateJwk, typ: string): string {
  let keyObject = privateKeys.get(key);
  if (!keyObject) {
    keyObject = createPrivateKey({
      key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y, d: key.d } as JsonWebKey,
      format: 'jwk',
    });
    privateKeys.set(key, keyObject);
  }
  const header = { alg: 'ES256', kid: key.kid, typ };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const sig = sign('sha256', Buffer.from(input), { key: keyObject, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

const publicKeys = new Map<string, KeyObject>();

/** Verifies an ES256 signature over a compact JWS signing input (same thread; workers use their own copy). */
export function verifyEs256(signingInput: string, signature: string, key: PublicJwk): boolean {
  const id = `${key.x ?? ''}.${key.y ?? ''}`;
  let keyObject = publicKeys.get(id);
  if (!keyObject) {
    keyObject = createPublicKey({
      key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y } as JsonWebKey,
      format: 'jwk',
    });
    publicKeys.set(id, keyObject);
  }
  try {
    return verify(
      'sha256',
      Buffer.from(signingInput),
      { key: keyObject, dsaEncoding: 'ieee-p1363' },
      decodeBase64Url(signature, 'JWS signature'),
    );
  } catch {
    return false;
  }
}
