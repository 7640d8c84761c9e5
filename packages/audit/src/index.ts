export { canonicalJson } from './canonical-json.js';
export { LedgerChain } from './chain.js';
export type { ChainState } from './chain.js';
export { GENESIS_HASH, sha256Hex } from './digest.js';
export { entryHash, serializeEntry } from './entry.js';
export type {
  CheckpointClaims,
  CheckpointLedgerEntry,
  EnvelopeLedgerEntry,
  LedgerEntry,
  LedgerEnvelopeMeta,
  LedgerReceiptClaims,
  ReceiptLedgerEntry,
  TimestampClaims,
  TimestampLedgerEntry,
  TimestampedCheckpoint,
  UnhashedEntry,
  ErasureClaims,
  ErasureLedgerEntry,
} from './entry.js';
export type { SignedLedgerEntry } from './signature-spec.js';
export { parseTsaTrust } from './timestamp-token.js';
export type { AttestedTime, TsaTrust } from './timestamp-token.js';
export { createTsaClient } from './tsa-client.js';
export type { TimestampToken, TsaClient, TsaClientOptions } from './tsa-client.js';
export type { KeyResolver, PrivateJwk, PublicJwk } from './keys.js';
export type { LedgerErrorCode } from './ledger-error.js';
export { merkleRoot } from './merkle.js';
export { parseEntry } from './parse-entry.js';
export { AUDITOR_ID } from './signature-spec.js';
export { assertLedgerOk, verifyLedger } from './verify.js';
export type { LedgerFailure, TimestampSummary, VerifyOptions, VerifyReport } from './verify.js';
export { openLedgerExport, writeLedgerExport } from './export-file.js';
export type { LedgerExport, LedgerExportHeader } from './export-file.js';
export { receiptIntake } from './intake.js';
export type { ReceiptIntake } from './intake.js';
export { checkProof, proveMessage } from './proof.js';
export type { InclusionProof, ProofCheck, ProofTrust } from './proof.js';
export { readLedger, readLedgerEntries } from './reader.js';
export type { LedgerRange, StoredLedgerMessage } from './reader.js';
export { traceDossier } from './trace.js';
export type { TraceReceipt, TraceStep } from './trace.js';
export { createLedgerWriter } from './writer.js';
export { recordErasure, verifyErasureSeal } from './erasure.js';
export type { ErasureRecord } from './erasure.js';
export type { LedgerWriter, LedgerWriterOptions } from './writer.js';
export { createTimestamper, untimestampedCheckpoints } from './timestamper.js';
export type { Timestamper, TimestamperOptions } from './timestamper.js';
export { dossierFilter, envelopeSubject, erasureSubject, ledgerSubject, receiptSubject } from './subjects.js';
export { lastLedgerMessage, nextLedgerMessage } from './stream-lookup.js';
export type { LedgerHead } from './writer.js';
export { signedExportRange } from './export-range.js';
export type { SignedRange } from './export-range.js';
export { archiveHead, archiveLedger } from './archive/archiver.js';
export { applyLedgerMaxAge } from './archive/ledger-max-age.js';
export type { LedgerMaxAge, LedgerMaxAgeOptions } from './archive/ledger-max-age.js';
export type { ArchiveHead, ArchiveOptions, ArchivedSegment } from './archive/archiver.js';
export { restoreLedger } from './archive/restore.js';
export type { RestoreResult } from './archive/restore.js';
export type { SegmentClaims } from './archive/segment.js';
export { folderArchive } from './archive/store.js';
export type { ArchiveStore, SegmentWriter } from './archive/store.js';
export { verifyArchive } from './archive/verify-archive.js';
export type { ArchiveReport, SegmentCheck, VerifyArchiveOptions } from './archive/verify-archive.js';
export { storedEntryHash } from './stored-hash.js';
