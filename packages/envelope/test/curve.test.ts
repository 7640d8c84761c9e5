import { generateKeyPairSync } from 'node:crypto';
import nodeJose from 'node-jose';
import { describe, expect, test } from 'vitest';
import { createNodeJoseProvider, generateKey, toPublicJwk } from '../src/index.js';
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
});
