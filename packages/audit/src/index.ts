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
export type { KeyResolver, PrivateJwk, PublicJwk } from './keys.js';
export { LedgerError } from './ledger-error.js';
export type { LedgerErrorCode } from './ledger-error.js';
export { inclusionPath, leafHash, merkleRoot, nodeHash, rootFromPath } from './merkle.js';
export { parseEntry } from './parse-entry.js';
export { AUDITOR_ID } from './signature-spec.js';
export { assertLedgerOk, verifyLedger } from './verify.js';
export type { LedgerFailure, VerifyOptions, VerifyReport } from './verify.js';
export { openLedgerExport, writeLedgerExport } from './export-file.js';
export type { LedgerExport, LedgerExportHeader } from './export-file.js';
export { envelopeIntake, receiptIntake } from './intake.js';
export type { EnvelopeIntake, ReceiptIntake } from './intake.js';
export { checkProof, proveMessage } from './proof.js';
export type { InclusionProof, ProofCheck, ProofTrust } from './proof.js';
export { readLedger, readLedgerEntries } from './reader.js';
export type { LedgerRange, StoredLedgerMessage } from './reader.js';
export { traceDossier } from './trace.js';
export type { TraceReceipt, TraceStep } from './trace.js';
export { createLedgerWriter, loadChainState } from './writer.js';
export type { LedgerWriter, LedgerWriterOptions } from './writer.js';
