export { signCompact, verifyCompact } from './compact-jws.js';
export type { CryptoProvider } from './crypto-provider.js';
export { openEnvelope, sealEnvelope, verifySeal } from './envelope.js';
export type { OpenOptions, SealInput, VerifySealOptions } from './envelope.js';
export { createJoseProvider, joseProvider } from './jose-provider.js';
export { generateKey, generateParticipantKeys, toPublicJwk } from './keys.js';
export type { GenerateKeyOptions } from './keys.js';
export {
  type NodeCryptoProviderOptions,
  createNodeCryptoProvider,
  defaultProvider,
} from './node-crypto-provider.js';
export { createNodeJoseProvider } from './node-jose-provider.js';
export type {
  EnvelopeMeta,
  Envelope,
  KeyResolver,
  KeyUse,
  ParticipantKeys,
  PrivateJwk,
  PublicJwk,
} from './types.js';
export { deriveMessageId, newMessageId } from './util.js';
export { createStaticResolver, publicKeysOf, selectKey } from './static-resolver.js';
export type { ParticipantPublicKeys } from './static-resolver.js';
