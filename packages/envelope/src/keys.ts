import { generateKeyPair as generateKeyPairCb, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { isBase64Url } from './base64url.js';
import type { KeyUse, ParticipantKeys, PrivateJwk, PublicJwk } from './types.js';

const generateKeyPair = promisify(generateKeyPairCb);

/** Options of {@link generateKey}. */
export interface GenerateKeyOptions {
  /** Key id; default `<prefix>-<use>-<random>`. */
  kid?: string;
  /** Prefix of the generated kid (e.g. the participant id). */
  kidPrefix?: string;
  notBefore?: string;
  notAfter?: string;
}

/**
 * Generates an EC P-256 key pair as a private JWK with `kid` and `use` (node:crypto, off the event loop).
 *
 * @example
 * ```ts
 * const signing = await generateKey('sig', { kidPrefix: 'commune-21004' });
 * ```
 */
export async function generateKey(use: KeyUse, options: GenerateKeyOptions = {}): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid =
    options.kid ??
    `${options.kidPrefix ? `${options.kidPrefix}-` : ''}${use}-${randomBytes(6).toString('hex')}`;
  const key: PrivateJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: jwk.x as string,
    y: jwk.y as string,
    d: jwk.d as string,
    kid,
    use,
    alg: use === 'sig' ? 'ES256' : 'ECDH-ES+A256KW',
  };
  if (options.notBefore) key.notBefore = options.notBefore;
  if (options.notAfter) key.notAfter = options.notAfter;
  return key;
}

/**
 * A participant's private key set: one signing key and one encryption key.
 *
 * @example
 * ```ts
 * const keys = await generateParticipantKeys('region-bruxelles');
 * ```
 */
export async function generateParticipantKeys(
  participantId: string,
  options: Omit<GenerateKeyOptions, 'kid' | 'kidPrefix'> = {},
): Promise<ParticipantKeys> {
  const [signing, encryption] = await Promise.all([
    generateKey('sig', { ...options, kidPrefix: participantId }),
    generateKey('enc', { ...options, kidPrefix: participantId }),
  ]);
  return { participantId, signing, encryption: [encryption] };
}

/** The public half of a JWK (drops `d`), keeping kid, use, alg and the validity window. */
export function toPublicJwk(jwk: PublicJwk | PrivateJwk): PublicJwk {
  const pub: PublicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: jwk.kid };
  if (jwk.use) pub.use = jwk.use;
  if (jwk.alg) pub.alg = jwk.alg;
  if (jwk.notBefore) pub.notBefore = jwk.notBefore;
  if (jwk.notAfter) pub.notAfter = jwk.notAfter;
  return pub;
}

const COORDINATE = /^[A-Za-z0-9_-]{43}$/;

/** What a P-256 JWK of the exchange is, for error messages that refuse one. */
export const P256_JWK_RULE =
  'kty EC, crv P-256, x and y each 32 bytes in canonical unpadded base64url (43 characters), and a kid';

/**
 * Whether `v` spells a P-256 coordinate as RFC 7518 does: 32 bytes in unpadded base64url, and in the one
 * spelling that decodes to them (decoders ignore stray characters and the last character's spare bits, so
 * two different strings could otherwise name one key, or one string hide another).
 */
export function isCanonicalCoordinate(v: unknown): v is string {
  return typeof v === 'string' && COORDINATE.test(v) && isBase64Url(v);
}

/** Whether `j` has the members every P-256 JWK of the exchange has: kty, crv, x, y (canonical) and kid. */
function isP256WithKid(j: unknown): j is Record<string, unknown> {
  if (typeof j !== 'object' || j === null) return false;
  const r = j as Record<string, unknown>;
  return (
    r['kty'] === 'EC' &&
    r['crv'] === 'P-256' &&
    isCanonicalCoordinate(r['x']) &&
    isCanonicalCoordinate(r['y']) &&
    typeof r['kid'] === 'string'
  );
}

/** Whether `jwk` is the agreed public P-256 form (no private member). */
export function isPublicJwk(jwk: unknown): jwk is PublicJwk {
  return isP256WithKid(jwk) && !('d' in jwk);
}

/** Whether `jwk` is a private P-256 JWK with kid. */
export function isPrivateJwk(jwk: unknown): jwk is PrivateJwk {
  return isP256WithKid(jwk) && typeof jwk['d'] === 'string';
}
