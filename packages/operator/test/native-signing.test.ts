import { decode } from '@nats-io/jwt';
import { createAccount, createOperator, createUser, fromSeed } from '@nats-io/nkeys';
import { describe, expect, test } from 'vitest';
import { encodeUserJwt } from '../src/index.js';
import { withNativeSigning } from '../src/internal.js';

describe('native signing of the operator keys', () => {
  test('signing - the same public key and the very signature bytes as nkeys, for operator and account keys', () => {
    for (const original of [createOperator(), createAccount()]) {
      const native = withNativeSigning(fromSeed(original.getSeed()));
      expect(native.getPublicKey()).toBe(original.getPublicKey());
      for (const size of [0, 1, 64, 100_000]) {
        const input = new Uint8Array(size).map((_, i) => (i * 31) % 256);
        const signature = native.sign(input);
        expect(Buffer.from(signature).equals(Buffer.from(original.sign(input)))).toBe(true);
        expect(original.verify(input, signature)).toBe(true);
      }
    }
  });

  test('signing - a user JWT signed natively verifies with the NATS JWT library; a cleared key signs no more', async () => {
    const account = withNativeSigning(fromSeed(createAccount().getSeed()));
    const user = createUser();
    const jwt = await encodeUserJwt('commune-90001', user, account);
    // decode checks the signature against the issuer it names
    const claims = decode(jwt);
    expect(claims.iss).toBe(account.getPublicKey());
    expect(claims.sub).toBe(user.getPublicKey());

    account.clear();
    expect(() => account.sign(new Uint8Array([1]))).toThrow();
  });
});
