export { decodeBase64Url, isBase64Url } from './base64url.js';
export { assertJweHeader, assertJwsHeader } from './compact.js';
export { signCompact, verifyCompact } from './compact-jws.js';
export { type UsableCoresOptions, usableCores } from './cores.js';
export { bareJwk } from './crypto-provider.js';
export type { CryptoProvider, ProtectedHeaderExtras } from './crypto-provider.js';
export {
  DEFAULT_FRESHNESS_MS,
  DEFAULT_MAX_BYTES,
  openEnvelope,
  parseEnvelope,
  sealEnvelope,
  verifySeal,
} from './envelope.js';
export type { OpenOptions, SealInput, VerifySealOptions } from './envelope.js';
export { EnvelopeError, EnvelopeErrorCodes, isEnvelopeError } from './envelope-error.js';
export type { EnvelopeErrorCode } from './envelope-error.js';
export { createJoseProvider, joseProvider } from './jose-provider.js';
export {
  P256_JWK_RULE,
  generateKey,
  generateParticipantKeys,
  isCanonicalCoordinate,
  isPrivateJwk,
  isPublicJwk,
  toPublicJwk,
} from './keys.js';
export type { GenerateKeyOptions } from './keys.js';
export {
  META_KEYS,
  type MetaKey,
  assertEnvelopeMeta,
  canonicalMeta,
  isWellFormedMetaField,
  wellFormedMetaFields,
} from './meta.js';
export {
  type NodeCryptoProviderOptions,
  createNodeCryptoProvider,
  defaultProvider,
} from './node-crypto-provider.js';
export { createNodeJoseProvider } from './node-jose-provider.js';
export { parseStrictJson } from './strict-json.js';
export type {
  EnvelopeMeta,
  Envelope,
  KeyResolver,
  KeyUse,
  ParticipantKeys,
  PrivateJwk,
  PublicJwk,
} from './types.js';
export { UUID_V7, deriveMessageId, newMessageId, sha256Hex } from './util.js';
export { createStaticResolver, isKeyValidAt, publicKeysOf, selectKey } from './static-resolver.js';
export type { ParticipantPublicKeys } from './static-resolver.js';
