// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to envelope's users.
export { decodeBase64Url, isBase64Url } from './base64url.js';
export { assertJweHeader, assertJwsHeader } from './compact.js';
export { type UsableCoresOptions, usableCores } from './cores.js';
export { bareJwk } from './crypto-provider.js';
export type { ProtectedHeaderExtras } from './crypto-provider.js';
export { P256_JWK_RULE, isCanonicalCoordinate, isPrivateJwk, isPublicJwk } from './keys.js';
export {
  META_KEYS,
  type MetaKey,
  assertEnvelopeMeta,
  canonicalMeta,
  isWellFormedMetaField,
  wellFormedMetaFields,
} from './meta.js';
export { parseStrictJson } from './strict-json.js';
export { UUID_V7, sha256Hex } from './util.js';
export { EnvelopeError } from './envelope-error.js';
export type { EnvelopeErrorCode } from './envelope-error.js';
