import { createPublicKey } from 'node:crypto';
import nodeJose from 'node-jose';
import { decodeBase64Url } from './base64url.js';
import {
  bareJwk,
  createKeyCache,
  type CryptoProvider,
  type ProtectedHeaderExtras,
} from './crypto-provider.js';
import type { PrivateJwk, PublicJwk } from './types.js';

const { JWE, JWK, JWS } = nodeJose;

/**
 * node-jose imports an EC public key without checking that the point is on the curve; an ephemeral key
 * off P-256 is the lever of invalid-curve attacks on ECDH-ES, so it is checked here with OpenSSL first.
 */
function assertEpkOnCurve(jwe: string): void {
  const header = JSON.parse(decodeBase64Url(jwe.split('.')[0] ?? '', 'JWE header').toString('utf8')) as {
    epk?: { x?: unknown; y?: unknown };
  };
  const { x, y } = header.epk ?? {};
  if (typeof x !== 'string' || typeof y !== 'string') throw new Error('epk must be a P-256 public key');
  createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
}

/**
 * A provider on Cisco's node-jose, for integrators who already use it: it passes the same conformance
 * suite and interoperates with {@link createJoseProvider} both ways. Its P-256 ephemeral key generation is
 * pure JavaScript and blocks the event loop (see BENCHMARKS.md); prefer the jose provider in services.
 *
 * @example
 * ```ts
 * const envelope = await sealEnvelope({ meta, payload, sender, recipientKey, provider: createNodeJoseProvider() });
 * ```
 */
export function createNodeJoseProvider(): CryptoProvider {
  const key = createKeyCache((jwk) => JWK.asKey({ ...bareJwk(jwk), kid: jwk.kid }));
  return {
    name: 'node-jose',
    async sign(payload: Uint8Array, jwk: PrivateJwk, header: ProtectedHeaderExtras = {}): Promise<string> {
      const signer = JWS.createSign(
        { format: 'compact', fields: { ...header, alg: 'ES256', kid: jwk.kid } },
        await key(jwk),
      );
      return (await signer.update(Buffer.from(payload)).final()) as unknown as string;
    },
    async verify(jws: string, jwk: PublicJwk): Promise<Uint8Array> {
      const result = await JWS.createVerify(await key(jwk), { algorithms: ['ES256'] }).verify(jws);
      return new Uint8Array(result.payload);
    },
    async encrypt(
      plaintext: Uint8Array,
      jwk: PublicJwk,
      header: ProtectedHeaderExtras = {},
    ): Promise<string> {
      const encrypter = JWE.createEncrypt(
        {
          format: 'compact',
          contentAlg: 'A256GCM',
          fields: { ...header, alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: jwk.kid },
        },
        await key(jwk),
      );
      return await encrypter.update(Buffer.from(plaintext)).final();
    },
    async decrypt(jwe: string, jwk: PrivateJwk): Promise<Uint8Array> {
      assertEpkOnCurve(jwe);
      const result = await JWE.createDecrypt(await key(jwk), {
        algorithms: ['ECDH-ES+A256KW', 'A256GCM'],
      }).decrypt(jwe);
      return new Uint8Array(result.plaintext);
    },
  };
}
