import { generateKeyPairSync } from 'node:crypto';
import nodeJose from 'node-jose';
import { describe, expect, test } from 'vitest';
import {
  createJoseProvider,
  createNodeCryptoProvider,
  createNodeJoseProvider,
  generateKey,
  toPublicJwk,
} from '../src/index.js';
import { decodeHeader, withHeader } from './fixtures.js';

describe('curve', () => {
  test('curve - node-jose alone imports an off-curve point; the node-jose provider refuses such an epk before decrypting', async () => {
    const j = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const y = Buffer.from(j.y!, 'base64url');
    y[31] = y[31]! ^ 1;
    const offCurve = { kty: 'EC', crv: 'P-256', x: j.x!, y: y.toString('base64url') };
    // the library gap the provider closes
    await expect(nodeJose.JWK.asKey(offCurve)).resolves.toBeTruthy();

    const provider = createNodeJoseProvider();
    const key = await generateKey('enc');
    const jwe = await provider.encrypt(new TextEncoder().encode('x'), toPublicJwk(key));
    expect(Buffer.from(await provider.decrypt(jwe, key)).toString()).toBe('x');
    const tampered = withHeader(jwe, { ...decodeHeader(jwe), epk: offCurve });
    await expect(provider.decrypt(tampered, key)).rejects.toThrow(/point|curve|invalid/i);
  });

  function offCurvePoint(): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
    const j = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const y = Buffer.from(j.y!, 'base64url');
    y[31] = y[31]! ^ 1;
    return { kty: 'EC', crv: 'P-256', x: j.x!, y: y.toString('base64url') };
  }

  // node:crypto names the curve, or the coordinates' size
  const nodeCryptoReason = /not valid for specified curve|32-byte coordinates/;
  // jose reports every decryption failure alike (by design); the others name the bad point
  const providers = [
    { provider: createJoseProvider(), reason: /decryption operation failed/ },
    { provider: createNodeCryptoProvider(), reason: nodeCryptoReason },
    { provider: createNodeJoseProvider(), reason: /Invalid JWK EC key/ },
  ];
  for (const { provider, reason } of providers) {
    test(`curve - ${provider.name} refuses an epk off the curve or with coordinates of the wrong size, and encrypting to one`, async () => {
      const key = await generateKey('enc');
      const jwe = await provider.encrypt(new TextEncoder().encode('x'), toPublicJwk(key));
      const offCurve = offCurvePoint();
      const withEpk = (epk: object): string => withHeader(jwe, { ...decodeHeader(jwe), epk });
      await expect(provider.decrypt(withEpk(offCurve), key)).rejects.toThrow(reason);
      const short = { ...offCurve, y: Buffer.alloc(31, 1).toString('base64url') };
      await expect(provider.decrypt(withEpk(short), key)).rejects.toThrow(reason);
      // the right 64 bytes split one byte late: x of 33 bytes, y of 31
      const skew = (jwk: { x: string; y: string }): { x: string; y: string } => {
        const xy = Buffer.concat([Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
        return { x: xy.subarray(0, 33).toString('base64url'), y: xy.subarray(33).toString('base64url') };
      };
      const epk = decodeHeader(jwe)['epk'] as { x: string; y: string };
      await expect(provider.decrypt(withEpk({ ...epk, ...skew(epk) }), key)).rejects.toThrow();
      await expect(
        provider.encrypt(new TextEncoder().encode('x'), { ...toPublicJwk(key), ...skew(toPublicJwk(key)) }),
      ).rejects.toThrow();
      await expect(
        provider.encrypt(new TextEncoder().encode('x'), {
          ...toPublicJwk(key),
          ...offCurve,
          kid: 'off-curve',
        }),
      ).rejects.toThrow(/curve|key/i);
    });
  }
});
