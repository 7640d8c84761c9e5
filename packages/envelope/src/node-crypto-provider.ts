import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  type ECDH,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { PasserelleError } from '@passerelle/errors';
import { decodeBase64Url } from './base64url.js';
import { usableCores } from './cores.js';
import {
  bareJwk,
  createKeyCache,
  type CryptoProvider,
  type ProtectedHeaderExtras,
} from './crypto-provider.js';
import { isCanonicalCoordinate } from './keys.js';
import type { PrivateJwk, PublicJwk } from './types.js';

const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const P1363 = 'ieee-p1363' as const;

function signOnPool(data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign('sha256', data, { key, dsaEncoding: P1363 }, (err, sig) => (err ? reject(err) : resolve(sig))),
  );
}

function verifyOnPool(data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) =>
    verify('sha256', data, { key, dsaEncoding: P1363 }, signature, (err, ok) =>
      err ? reject(err) : resolve(ok),
    ),
  );
}

const signInline = (data: Buffer, key: KeyObject): Promise<Buffer> =>
  Promise.resolve(sign('sha256', data, { key, dsaEncoding: P1363 }));

const verifyInline = (data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> =>
  Promise.resolve(verify('sha256', data, { key, dsaEncoding: P1363 }, signature));

/** Options of {@link createNodeCryptoProvider}. */
export interface NodeCryptoProviderOptions {
  /**
   * Where ES256 signatures and verifications run. `thread-pool`: on libuv's thread pool, so one process
   * signing many messages at once uses more than one core. `inline`: on the calling thread, which saves the
   * hand-off to a pool thread and back (CPU and two thread switches per operation) but keeps all of the
   * process's work on one thread. `auto` (default): `inline` on a machine of at most two cores, which the
   * process usually shares with nats-server and its peers, so that the hand-off only costs (BENCHMARKS.md,
   * "Exchange end to end"); `thread-pool` on a larger one. The cores counted are those the process can keep
   * busy ({@link usableCores}): the ones it may run on, fewer under a container's CPU quota.
   */
  signatures?: 'auto' | 'thread-pool' | 'inline';
}

/** A P-256 ECDH agreement with the recipient's private key, ready for each message's ephemeral point. */
type Agreement = (peer: Buffer) => Buffer;

/**
 * The recipient's side of ECDH-ES: an `ECDH` object holding the private key `d`, checked once against its
 * public point. `computeSecret` refuses a peer point that is not on the curve (invalid-curve attacks).
 */
function agreementWith(d: Buffer, publicPoint: Buffer): Agreement {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  if (!ecdh.getPublicKey().equals(publicPoint)) throw new Error('d does not match x and y');
  return (peer) => ecdh.computeSecret(peer);
}

const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function lengthPrefixed(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** What `work` returns, or throws, as a promise: the provider's methods never throw synchronously. */
function settle<T>(work: () => T): Promise<T> {
  // the executor runs at once, and what it throws rejects the promise
  return new Promise((resolve) => resolve(work()));
}

/** Overwrites key material this module made once it has been handed on (the ciphers keep their own copies). */
function wipe(...buffers: Buffer[]): void {
  for (const b of buffers) b.fill(0);
}

/** Concat KDF of RFC 7518 §4.6.2 for a 256-bit key (one SHA-256 round). */
function concatKdf(z: Buffer, alg: string, apu: Buffer, apv: Buffer): Buffer {
  const suppPubInfo = Buffer.alloc(4);
  suppPubInfo.writeUInt32BE(256);
  return createHash('sha256')
    .update(Buffer.from([0, 0, 0, 1]))
    .update(z)
    .update(lengthPrefixed(Buffer.from(alg)))
    .update(lengthPrefixed(apu))
    .update(lengthPrefixed(apv))
    .update(suppPubInfo)
    .digest();
}

function parseHeader(segment: string): Record<string, unknown> {
  const header = JSON.parse(decodeBase64Url(segment, 'header').toString('utf8')) as unknown;
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new Error('header is not an object');
  if ('crit' in header) throw new Error('crit is not supported');
  return header as Record<string, unknown>;
}

/**
 * The uncompressed SEC 1 point (0x04 ‖ x ‖ y) of P-256 JWK coordinates; refuses coordinates of the wrong
 * size, and spellings other than the canonical base64url of 32 bytes (which could name the same point
 * twice, or two points alike).
 */
function p256Point(x: string, y: string): Buffer {
  // each coordinate on its own: a 33-byte x with a 31-byte y would make 65 bytes too
  if (!isCanonicalCoordinate(x) || !isCanonicalCoordinate(y))
    throw new Error('a P-256 point has 32-byte coordinates in canonical base64url');
  return Buffer.concat([Buffer.from([4]), Buffer.from(x, 'base64url'), Buffer.from(y, 'base64url')]);
}

/**
 * Where ES256 runs for a `signatures` setting: checked here because the option comes from settings, and
 * `auto` resolved once against the cores this process can keep busy.
 */
function resolveSignatures(setting: unknown): 'thread-pool' | 'inline' {
  if (setting !== 'auto' && setting !== 'thread-pool' && setting !== 'inline') {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `signatures must be 'auto', 'thread-pool' or 'inline', not ${String(setting).slice(0, 32)}.`,
      { details: { setting: 'signatures' } },
    );
  }
  return setting === 'auto' ? (usableCores() > 2 ? 'thread-pool' : 'inline') : setting;
}

/**
 * The recipient's private key as a ready agreement, checked against its public point: RFC 7518 spells `d`
 * in 32 bytes, and the key material this builds is wiped once the `ECDH` object holds its own copy.
 */
function importAgreement(jwk: PrivateJwk | PublicJwk): Agreement {
  if (!('d' in jwk) || typeof jwk.d !== 'string') throw new Error('decryption needs the private key');
  const raw = Buffer.from(jwk.d, 'base64url');
  // a shorter d (an encoder that dropped leading zeros, as ECDH#getPrivateKey does for one key in 256) is
  // the same number
  const d = raw.length < 32 ? Buffer.concat([Buffer.alloc(32 - raw.length), raw]) : raw;
  try {
    if (raw.length === 0 || d.length !== 32) throw new Error('a P-256 private key is 32 bytes');
    return agreementWith(d, p256Point(jwk.x, jwk.y));
  } finally {
    wipe(raw, d); // both ways copy it
  }
}

/**
 * Sealing one compact JWE (ECDH-ES+A256KW, A256GCM) for a checked recipient point, with `ephemeral` drawing
 * the message's fresh key: kept apart from the provider so the key caches and the JOSE steps read alone.
 */
function encryptCompact(
  ephemeral: ECDH,
  recipient: Buffer,
  kid: string,
  plaintext: Uint8Array,
  header: ProtectedHeaderExtras,
): string {
  const epk = ephemeral.generateKeys();
  const z = ephemeral.computeSecret(recipient);
  const protectedHeader = b64(
    JSON.stringify({
      ...header,
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      kid,
      epk: { kty: 'EC', crv: 'P-256', x: b64(epk.subarray(1, 33)), y: b64(epk.subarray(33)) },
    }),
  );
  const kek = concatKdf(z, 'ECDH-ES+A256KW', Buffer.alloc(0), Buffer.alloc(0));
  // the content key and the IV from one draw
  const random = randomBytes(44);
  const cek = random.subarray(0, 32);
  const iv = random.subarray(32);
  const wrap = createCipheriv('id-aes256-wrap', kek, AES_KW_IV);
  const wrapped = Buffer.concat([wrap.update(cek), wrap.final()]);
  const gcm = createCipheriv('aes-256-gcm', cek, iv);
  // the ciphers hold their own copies: these are not left for the collector to find
  wipe(z, kek, cek);
  gcm.setAAD(Buffer.from(protectedHeader));
  const ciphertext = Buffer.concat([gcm.update(plaintext), gcm.final()]);
  return [protectedHeader, b64(wrapped), b64(iv), b64(ciphertext), b64(gcm.getAuthTag())].join('.');
}

/**
 * Opening one compact JWE with the recipient's agreement, asked for only once the header passed (so a
 * malformed message is refused before the key is touched); every step refuses what it does not expect.
 */
function decryptCompact(jwe: string, agreementFor: () => Agreement): Uint8Array {
  const parts = jwe.split('.');
  if (parts.length !== 5) throw new Error('not a compact JWE');
  const [h, k, i, c, t] = parts as [string, string, string, string, string];
  const header = parseHeader(h);
  if (header['alg'] !== 'ECDH-ES+A256KW' || header['enc'] !== 'A256GCM')
    throw new Error('alg/enc not allowed');
  if ('zip' in header) throw new Error('zip is not supported');
  const epk = header['epk'] as { kty?: unknown; crv?: unknown; x?: unknown; y?: unknown } | undefined;
  if (
    !epk ||
    epk.kty !== 'EC' ||
    epk.crv !== 'P-256' ||
    typeof epk.x !== 'string' ||
    typeof epk.y !== 'string'
  ) {
    throw new Error('epk must be a P-256 public key');
  }
  const party = (name: 'apu' | 'apv'): Buffer =>
    typeof header[name] === 'string' ? decodeBase64Url(header[name], name) : Buffer.alloc(0);
  // a point that is not on the curve is refused here (invalid-curve attacks)
  const z = agreementFor()(p256Point(epk.x, epk.y));
  const kek = concatKdf(z, 'ECDH-ES+A256KW', party('apu'), party('apv'));
  wipe(z);
  const unwrap = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
  wipe(kek);
  const cek = Buffer.concat([unwrap.update(decodeBase64Url(k, 'encrypted key')), unwrap.final()]);
  if (cek.length !== 32) {
    wipe(cek);
    throw new Error('the content key must be 256 bits');
  }
  const iv = decodeBase64Url(i, 'IV');
  const tag = decodeBase64Url(t, 'tag');
  if (iv.length !== 12 || tag.length !== 16) {
    wipe(cek);
    throw new Error('bad IV or tag length');
  }
  const gcm = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
  wipe(cek);
  gcm.setAAD(Buffer.from(h));
  gcm.setAuthTag(tag);
  return new Uint8Array(Buffer.concat([gcm.update(decodeBase64Url(c, 'ciphertext')), gcm.final()]));
}

/**
 * A provider on the public API of Node's own `crypto` (OpenSSL), with no JOSE library: exactly ES256
 * compact JWS and ECDH-ES+A256KW / A256GCM compact JWE on P-256 (RFC 7515, 7516, 7518), nothing else.
 * Each key is imported once (a `KeyObject` for ES256, an `ECDH` object for a recipient's private key, a
 * checked point for a recipient's public key) and reused. ES256 signing and verification run inline on at
 * most two usable cores (`usableCores`) and on libuv's thread pool on a larger one (`signatures`); ECDH
 * works on raw points (each coordinate must be 32 bytes, and a point off the curve is refused); ECDH and
 * AES stay on the loop. It passes the shared conformance suite and interoperates with jose and node-jose;
 * BENCHMARKS.md shows why it is the default.
 *
 * @example
 * ```ts
 * const provider = createNodeCryptoProvider(); // or createNodeCryptoProvider({ signatures: 'thread-pool' })
 * await openEnvelope(bytes, { recipient, resolver, provider });
 * ```
 */
export function createNodeCryptoProvider(options: NodeCryptoProviderOptions = {}): CryptoProvider {
  const signatures = resolveSignatures(options.signatures ?? 'auto');
  const signWith = signatures === 'inline' ? signInline : signOnPool;
  const verifyWith = signatures === 'inline' ? verifyInline : verifyOnPool;
  // every cache below imports synchronously: a key already seen costs a map lookup, no promise
  const signingKey = createKeyCache((jwk): KeyObject => {
    p256Point(jwk.x, jwk.y); // the coordinates' spelling, as on every other path
    return 'd' in jwk
      ? createPrivateKey({ key: bareJwk(jwk), format: 'jwk' })
      : createPublicKey({ key: bareJwk(jwk), format: 'jwk' });
  });
  // a recipient's public point, checked on the curve once (a throw-away agreement: OpenSSL refuses a point
  // off the curve) and then reused
  const recipientPoint = createKeyCache((jwk): Buffer => {
    const point = p256Point(jwk.x, jwk.y);
    const probe = createECDH('prime256v1');
    probe.generateKeys();
    probe.computeSecret(point);
    return point;
  });
  // the recipient's private key, checked against its public point once, ready for agreements
  const agreement = createKeyCache(importAgreement);
  // One object for every message's ephemeral key: generateKeys draws a fresh key into the same OpenSSL key,
  // so only the last one stays in memory (a fresh object per message would leave each key until the
  // collector frees it), and the object is not built again each time.
  const ephemeral = createECDH('prime256v1');
  return {
    name: signatures === 'inline' ? 'node-crypto-inline' : 'node-crypto',
    async sign(payload: Uint8Array, jwk: PrivateJwk, header: ProtectedHeaderExtras = {}): Promise<string> {
      const input = `${b64(JSON.stringify({ ...header, alg: 'ES256', kid: jwk.kid }))}.${b64(Buffer.from(payload))}`;
      const signature = await signWith(Buffer.from(input), signingKey(jwk));
      return `${input}.${b64(signature)}`;
    },
    async verify(jws: string, jwk: PublicJwk): Promise<Uint8Array> {
      const parts = jws.split('.');
      if (parts.length !== 3) throw new Error('not a compact JWS');
      const [h, p, s] = parts as [string, string, string];
      if (parseHeader(h)['alg'] !== 'ES256') throw new Error('alg must be ES256');
      const signature = decodeBase64Url(s, 'signature');
      if (signature.length !== 64) throw new Error('an ES256 signature is 64 bytes');
      const payload = decodeBase64Url(p, 'payload');
      if (!(await verifyWith(Buffer.from(`${h}.${p}`), signingKey(jwk), signature)))
        throw new Error('signature verification failed');
      return new Uint8Array(payload);
    },
    encrypt: (plaintext: Uint8Array, jwk: PublicJwk, header: ProtectedHeaderExtras = {}) =>
      settle(() => encryptCompact(ephemeral, recipientPoint(jwk), jwk.kid, plaintext, header)),
    decrypt: (jwe: string, jwk: PrivateJwk) => settle(() => decryptCompact(jwe, () => agreement(jwk))),
  };
}

/**
 * The provider the envelope uses when none is given: {@link createNodeCryptoProvider}. BENCHMARKS.md
 * compares it with bare node:crypto doing the same work and with jose (WebCrypto: several asynchronous
 * calls per JWE). Pass `joseProvider` or `createNodeJoseProvider()` to use those libraries: all three pass
 * the same conformance suite and interoperate in every direction.
 */
export const defaultProvider: CryptoProvider = createNodeCryptoProvider();
