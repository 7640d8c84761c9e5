export { canonicalJson } from './canonical-json.js';
export { CHECKPOINT_TYP, LedgerChain, emptyChainState } from './chain.js';
export type { ChainState } from './chain.js';
export { GENESIS_HASH, sha256Hex } from './digest.js';
export { LEDGER_FORMAT_VERSION, entryHash, sealEntry, serializeEntry } from './entry.js';
export type {
  CheckpointClaims,
  CheckpointLedgerEntry,
  EnvelopeLedgerEntry,
  LedgerEntry,
  LedgerEnvelopeMeta,
  LedgerReceiptClaims,
  ReceiptLedgerEntry,
  UnhashedEntry,
} from './entry.js';
export { publicJwkOf, staticKeyResolver } from './keys.js';
export type { KeyResolver, PrivateJwk, PublicJwk, StaticKey } from './keys.js';
export { LedgerError } from './ledger-error.js';
export type { LedgerErrorCode } from './ledger-error.js';
export { inclusionPath, leafHash, merkleRoot, nodeHash, rootFromPath } from './merkle.js';
export { parseEntry } from './parse-entry.js';
export { AUDITOR_ID } from './signature-spec.js';
export { assertLedgerOk, verifyLedger } from './verify.js';
export type { LedgerFailure, VerifyOptions, VerifyReport } from './verify.js';
