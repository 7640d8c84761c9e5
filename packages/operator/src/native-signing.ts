import { createPrivateKey, sign } from 'node:crypto';
import type { KeyPair } from '@nats-io/nkeys';

/** The DER prefix of a PKCS#8 Ed25519 private key, before its 32-byte seed (RFC 8410). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * `kp` signing through node:crypto's Ed25519 instead of nkeys' pure-JS one, which derives the key pair again
 * (a scalar multiplication) at every signature and every public key asked for: an approval signs several
 * JWTs, the STORES relay's growing with the writers. Ed25519 is deterministic, so the signatures are the
 * very bytes nkeys makes. A key pair whose seed cannot be read is returned as it is.
 */
export function withNativeSigning(kp: KeyPair): KeyPair {
  const raw = (kp as KeyPair & { getRawSeed?: () => Uint8Array }).getRawSeed?.();
  if (!raw || raw.length !== 32) return kp;
  const der = Buffer.concat([PKCS8_ED25519, raw]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  raw.fill(0);
  const publicKey = kp.getPublicKey();
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
