import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, importJWK, type CryptoKey } from 'jose';
import {
  bareJwk,
  createKeyCache,
  type CryptoProvider,
  type ProtectedHeaderExtras,
} from './crypto-provider.js';
import type { PrivateJwk, PublicJwk } from './types.js';

type Alg = 'ES256' | 'ECDH-ES+A256KW';

/**
 * The default provider, on panva/jose (WebCrypto: the EC work runs off the event loop). Imported keys
 * are cached (by JWK object, then by public coordinates).
 *
 * @example
 * ```ts
 * const provider = createJoseProvider();
 * const jws = await provider.sign(new TextEncoder().encode('{}'), keys.signing);
 * ```
 */
export function createJoseProvider(): CryptoProvider {
  const importFor = (alg: Alg) =>
    createKeyCache((jwk) =>
      importJWK(bareJwk(jwk), alg).then((imported): CryptoKey => {
        if (imported instanceof Uint8Array) throw new TypeError('An EC JWK imported as a secret key.');
        return imported;
      }),
    );
  const caches: Record<Alg, (jwk: PublicJwk | PrivateJwk) => Promise<CryptoKey>> = {
    ES256: importFor('ES256'),
    'ECDH-ES+A256KW': importFor('ECDH-ES+A256KW'),
  };
  const key = (jwk: PublicJwk | PrivateJwk, alg: Alg): Promise<CryptoKey> => caches[alg](jwk);
  return {
    name: 'jose',
    async sign(payload: Uint8Array, jwk: PrivateJwk, header: ProtectedHeaderExtras = {}): Promise<string> {
      return new CompactSign(payload)
        .setProtectedHeader({ ...header, alg: 'ES256', kid: jwk.kid })
        .sign(await key(jwk, 'ES256'));
    },
    async verify(jws: string, jwk: PublicJwk): Promise<Uint8Array> {
      const { payload } = await compactVerify(jws, await key(jwk, 'ES256'), { algorithms: ['ES256'] });
      return payload;
    },
    async encrypt(
      plaintext: Uint8Array,
      jwk: PublicJwk,
      header: ProtectedHeaderExtras = {},
    ): Promise<string> {
      return new CompactEncrypt(plaintext)
        .setProtectedHeader({ ...header, alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: jwk.kid })
        .encrypt(await key(jwk, 'ECDH-ES+A256KW'));
    },
    async decrypt(jwe: string, jwk: PrivateJwk): Promise<Uint8Array> {
      const { plaintext } = await compactDecrypt(jwe, await key(jwk, 'ECDH-ES+A256KW'), {
        keyManagementAlgorithms: ['ECDH-ES+A256KW'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      return plaintext;
    },
  };
}

/** The shared default {@link CryptoProvider}. */
export const joseProvider: CryptoProvider = createJoseProvider();
