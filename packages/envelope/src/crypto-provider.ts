import type { PrivateJwk, PublicJwk } from './types.js';

/** Extra protected-header members a caller may set on a JWS or JWE (alg, enc and kid are fixed). */
export interface ProtectedHeaderExtras {
  typ?: string;
  cty?: string;
}

/**
 * The four JOSE operations the envelope needs, with the algorithms fixed: ES256 for signatures,
 * ECDH-ES+A256KW with A256GCM on P-256 for encryption. The envelope checks headers against its allowlist
 * before calling a provider; providers also pin their algorithms. Failures reject with any error: the
 * envelope maps them to its own codes.
 */
export interface CryptoProvider {
  /** Short name used in benchmarks and logs (`jose`, `node-jose`). */
  readonly name: string;
  /** Compact JWS (ES256), `kid` taken from `key`. */
  sign(payload: Uint8Array, key: PrivateJwk, header?: ProtectedHeaderExtras): Promise<string>;
  /** Verifies a compact JWS (ES256) and returns its payload. */
  verify(jws: string, key: PublicJwk): Promise<Uint8Array>;
  /** Compact JWE (ECDH-ES+A256KW, A256GCM) to `key`, `kid` taken from `key`. */
  encrypt(plaintext: Uint8Array, key: PublicJwk, header?: ProtectedHeaderExtras): Promise<string>;
  /** Decrypts a compact JWE (ECDH-ES+A256KW, A256GCM) and returns its plaintext. */
  decrypt(jwe: string, key: PrivateJwk): Promise<Uint8Array>;
}

/** The bare key members, without kid/use/validity (libraries are picky about extra members). */
export function bareJwk(jwk: PublicJwk | PrivateJwk): {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d?: string;
} {
  const bare: { kty: 'EC'; crv: 'P-256'; x: string; y: string; d?: string } = {
    kty: 'EC',
    crv: 'P-256',
    x: jwk.x,
    y: jwk.y,
  };
  if ('d' in jwk && typeof jwk.d === 'string') bare.d = jwk.d;
  return bare;
}

/**
 * A small cache of imported keys, by object identity first and then by public coordinates (callers that
 * rebuild JWK objects per message still hit it). The cache key never contains the private member. An import
 * that throws, or a promise of one that rejects, is not kept.
 */
export function createKeyCache<K>(
  importKey: (jwk: PublicJwk | PrivateJwk) => K,
  max = 1024,
): (jwk: PublicJwk | PrivateJwk) => K {
  const byObject = new WeakMap<object, K>();
  const byCoordinates = new Map<string, K>();
  return (jwk) => {
    if (byObject.has(jwk)) return byObject.get(jwk) as K;
    // one string per key, whatever characters kid, x and y hold
    const id = JSON.stringify(['d' in jwk ? 'private' : 'public', jwk.kid, jwk.x, jwk.y]);
    let k: K;
    if (byCoordinates.has(id)) {
      k = byCoordinates.get(id) as K;
    } else {
      k = importKey(jwk);
      if (k instanceof Promise) {
        k.catch(() => {
          if (byCoordinates.get(id) === k) byCoordinates.delete(id);
          byObject.delete(jwk);
        });
      }
      if (byCoordinates.size >= max) byCoordinates.clear();
      byCoordinates.set(id, k);
    }
    byObject.set(jwk, k);
    return k;
  };
}
