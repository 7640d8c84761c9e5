import type { EnvelopeMeta } from '@passerelle/envelope';
import type { ReceiptClaims } from '@passerelle/exchange/internal';
import { canonicalJson } from './canonical-json.js';
import { sha256Hex } from './digest.js';

/** Version of the entry format, part of every hashed entry. */
export const LEDGER_FORMAT_VERSION = 1;

/** Clear routing data of an envelope: the envelope's own meta. */
export type LedgerEnvelopeMeta = EnvelopeMeta;

/** Payload of a receipt JWS, as the exchange runtime signs it. */
export type LedgerReceiptClaims = ReceiptClaims;

/** Payload of a checkpoint JWS: the batch `firstSeq..lastSeq` and its RFC 6962 Merkle root. */
export interface CheckpointClaims {
  ledger: 'pex-ledger';
  firstSeq: number;
  lastSeq: number;
  size: number;
  /** Hex Merkle root over the entry hashes of the batch. */
  root: string;
  /** Hash of entry `lastSeq`: binds the checkpoint to the chain as well as to the batch. */
  headHash: string;
  issuedAt: string;
}

interface EntryCommon {
  v: typeof LEDGER_FORMAT_VERSION;
  /** Position in the ledger, from 1, equal to the LEDGER stream sequence. */
  seq: number;
  /** When the auditor recorded the entry (RFC 3339). */
  receivedAt: string;
  /** Hash of entry `seq - 1` ({@link GENESIS_HASH} for seq 1). */
  prevHash: string;
  /** Hex SHA-256 of the canonical JSON of the entry without `hash`. */
  hash: string;
}

/** An envelope as the auditor saw it: meta, the hashes, the sender's seal. No ciphertext, no payload. */
export interface EnvelopeLedgerEntry extends EntryCommon {
  kind: 'envelope';
  meta: LedgerEnvelopeMeta;
  /** Hex SHA-256 of the JWE string: what the seal binds. */
  jweSha256: string;
  /** Hex SHA-256 of the raw envelope bytes: what receipts name. */
  envelopeSha256: string;
  /** The sender's seal (compact JWS). */
  seal: string;
}

/** A signed receipt: its claims and the receiver's compact JWS. */
export interface ReceiptLedgerEntry extends EntryCommon {
  kind: 'receipt';
  meta: LedgerReceiptClaims;
  /** The receipt as published (compact JWS by the receiver). */
  seal: string;
}

/** One checkpoint a timestamp token covers: its seq and the SHA-256 of its JWS (the `seal`). */
export interface TimestampedCheckpoint {
  seq: number;
  sealSha256: string;
}

/**
 * Claims of a timestamp entry: the checkpoints one RFC 3161 token covers. The token's message imprint is
 * SHA-256 of the canonical JSON of these claims ({@link timestampImprintInput}).
 */
export interface TimestampClaims {
  ledger: 'pex-ledger';
  /** Checkpoints covered, in ledger order, each recorded before this entry. */
  checkpoints: TimestampedCheckpoint[];
}

/** A checkpoint: its claims and the auditor's compact JWS over them. */
export interface CheckpointLedgerEntry extends EntryCommon {
  kind: 'checkpoint';
  meta: CheckpointClaims;
  seal: string;
}

/**
 * A timestamp: an RFC 3161 token from a time-stamping authority over earlier checkpoints, obtained after
 * them (asynchronously, in batches) and recorded in the chain like any entry.
 */
export interface TimestampLedgerEntry extends EntryCommon {
  kind: 'timestamp';
  meta: TimestampClaims;
  /** The TimeStampToken (CMS SignedData over a TSTInfo), DER, base64. */
  token: string;
}

/**
 * Claims of an erasure: one dossier's key was destroyed (`passerelle dossier erase`), on a legal basis. No
 * personal data: the pseudonymous dossier id, the basis as a reference, who erased it and when.
 */
export interface ErasureClaims {
  ledger: 'pex-ledger';
  dossierId: string;
  /** The legal basis, as a reference (an article, a decision's number), never personal data. */
  basis: string;
  /** The participant that erased the dossier and signs these claims. */
  by: string;
  /** Ids of the keys destroyed, as the dossier's sealed payloads name them. */
  kids: string[];
  /** Participants whose copy of the key was destroyed. */
  holders: string[];
  erasedAt: string;
}

/** An erasure: its claims and the erasing participant's compact JWS over them. */
export interface ErasureLedgerEntry extends EntryCommon {
  kind: 'erasure';
  meta: ErasureClaims;
  seal: string;
}

/** One entry of the audit ledger. */
export type LedgerEntry =
  | EnvelopeLedgerEntry
  | ReceiptLedgerEntry
  | CheckpointLedgerEntry
  | TimestampLedgerEntry
  | ErasureLedgerEntry;

/** The bytes a timestamp entry's token imprints: the canonical JSON of its claims. */
export function timestampImprintInput(claims: TimestampClaims): string {
  return canonicalJson(claims);
}

/** An entry before its hash is computed. */
export type UnhashedEntry<E extends LedgerEntry = LedgerEntry> = E extends LedgerEntry
  ? Omit<E, 'hash'>
  : never;

/** Hash of an entry: hex SHA-256 of its canonical JSON without the `hash` field. */
export function entryHash(entry: UnhashedEntry | LedgerEntry): string {
  const { hash: _hash, ...rest } = entry as LedgerEntry;
  return sha256Hex(canonicalJson(rest));
}

/** Adds `hash` to an entry. */
export function sealEntry<E extends LedgerEntry>(entry: UnhashedEntry<E>): E {
  return { ...entry, hash: entryHash(entry) } as unknown as E;
}

/** Serialises an entry as stored in LEDGER and in exports: canonical JSON, one line. */
export function serializeEntry(entry: LedgerEntry): string {
  return canonicalJson(entry);
}
