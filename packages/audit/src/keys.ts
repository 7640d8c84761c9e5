import type { JsonWebKey } from 'node:crypto';

/** A public EC P-256 JWK as the directory hands it out (`kid` names it; validity fields are optional). */
export type PublicJwk = JsonWebKey & { kid?: string };

/** A private EC P-256 JWK (the auditor's checkpoint signing key). */
export type PrivateJwk = JsonWebKey & { kid?: string; d?: string };

/**
 * Resolves a participant's public key valid at `at` (same shape as `KeyResolver` of `@passerelle/envelope`,
 * so a directory client or an offline directory file can be passed as is). Throws when no key is valid.
 */
export interface KeyResolver {
  resolve(participantId: string, use: 'sig' | 'enc', at: Date, kid?: string): Promise<PublicJwk>;
}

/** One key of a {@link staticKeyResolver}: the JWK and the window in which it may verify. */
export interface StaticKey {
  jwk: PublicJwk;
  notBefore?: string;
  notAfter?: string;
}

/**
 * A {@link KeyResolver} over a fixed set of signing keys (tests, benchmarks, offline files).
 *
 * @example
 * ```ts
 * const resolver = staticKeyResolver({ auditor: [{ jwk: auditorPublic }] });
 * ```
 */
export function staticKeyResolver(keys: Record<string, readonly StaticKey[]>): KeyResolver {
  return {
    resolve(participantId, _use, at, kid) {
      const candidates = keys[participantId];
      if (!candidates) return Promise.reject(new Error(`unknown participant ${participantId}`));
      const t = at.getTime();
      const found = candidates.find(
        (k) =>
          (kid === undefined || k.jwk.kid === kid) &&
          (k.notBefore === undefined || Date.parse(k.notBefore) <= t) &&
          (k.notAfter === undefined || t < Date.parse(k.notAfter)),
      );
      if (!found) {
        return Promise.reject(
          new Error(`no key ${kid ?? ''} of ${participantId} valid at ${at.toISOString()}`),
        );
      }
      return Promise.resolve(found.jwk);
    },
  };
}

/** The public half of a private JWK (drops `d`). */
export function publicJwkOf(key: PrivateJwk): PublicJwk {
  const { d: _d, ...pub } = key;
  return pub;
}
