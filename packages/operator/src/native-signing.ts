import { createPrivateKey, sign } from 'node:crypto';
import type { KeyPair } from '@nats-io/nkeys';
import { base32nopad } from '@scure/base';

/**
 * `kp` signing through node:crypto's Ed25519 instead of nkeys' pure-JS one, which derives the key pair again
 * (a scalar multiplication) at every signature and every public key asked for: an approval signs several
 * JWTs, the STORES relay's growing with the writers. Ed25519 is deterministic, so the signatures are the
 * very bytes nkeys makes. The key reaches node:crypto through public APIs only: the seed and public key
 * nkeys gives (RFC 4648 base32 of a prefix, the 32 key bytes and a checksum), decoded by @scure/base and
 * imported as a JWK.
 */
export function withNativeSigning(kp: KeyPair): KeyPair {
  const seed = base32nopad.decode(new TextDecoder().decode(kp.getSeed()));
  const publicKey = kp.getPublicKey();
  const raw = base32nopad.decode(publicKey);
  // seed: two prefix bytes, then the 32-byte Ed25519 seed; public key: one prefix byte, then 32 bytes
  const d = Buffer.from(seed.subarray(2, 34));
  const x = Buffer.from(raw.subarray(1, 33));
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: d.toString('base64url'), x: x.toString('base64url') },
    format: 'jwk',
  });
  d.fill(0);
  seed.fill(0);
  return {
    getPublicKey: () => publicKey,
    getPrivateKey: () => kp.getPrivateKey(),
    getSeed: () => kp.getSeed(),
    sign: (input) => {
      kp.getSeed(); // throws, as nkeys does, once the pair is cleared
      return new Uint8Array(sign(null, input, privateKey));
    },
    verify: (input, sig) => kp.verify(input, sig),
    clear: () => kp.clear(),
    seal: (input, recipient, nonce) => kp.seal(input, recipient, nonce),
    open: (message, sender) => kp.open(message, sender),
  };
}
