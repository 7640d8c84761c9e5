import { GENESIS_HASH } from '../digest.js';

/** Format name in the first line of every archive segment. */
export const ARCHIVE_FORMAT = 'passerelle-ledger-archive';

/** Media type of the auditor's JWS over a segment. */
export const ARCHIVE_SEAL_TYP = 'pex-archive+jws';

/** `prevSeal` of the first segment: no segment before it. */
export const NO_PREVIOUS_SEGMENT = GENESIS_HASH;

/**
 * First line of a segment. The segment then holds the entries `firstSeq..lastSeq` byte for byte as LEDGER
 * stored them (the last one a checkpoint, so a signed Merkle root covers every entry), and ends on a
 * {@link SegmentTrailer} line.
 */
export interface SegmentHeader {
  format: typeof ARCHIVE_FORMAT;
  version: 1;
  /** Position of the segment in the archive, from 1. */
  segment: number;
  firstSeq: number;
  /** Hex SHA-256 of the previous segment's seal (64 zeros for the first): the segments are hash-linked. */
  prevSeal: string;
}

/** What the auditor signs for a segment (the payload of its seal). */
export interface SegmentClaims {
  ledger: 'pex-ledger';
  segment: number;
  firstSeq: number;
  lastSeq: number;
  /** Entry lines in the segment (`lastSeq - firstSeq + 1`). */
  entries: number;
  /** Hex SHA-256 of the entry lines, each followed by a newline, as the file holds them. */
  bodySha256: string;
  /** Hash of entry `lastSeq`: where the chain stands at the end of the segment. */
  headHash: string;
  prevSeal: string;
  sealedAt: string;
}

/** Last line of a segment: the auditor's seal over its claims and a TSA's RFC 3161 token over that seal. */
export interface SegmentTrailer {
  /** Compact ES256 JWS by the auditor, `typ: pex-archive+jws`, over the {@link SegmentClaims}. */
  seal: string;
  /** Base64 DER TimeStampToken whose imprint is SHA-256 of `seal`; absent when no TSA is configured. */
  token?: string;
}

/** The name a segment is stored under: its range, zero-padded so that names sort in ledger order. */
export function segmentName(firstSeq: number, lastSeq: number): string {
  return `ledger-${String(firstSeq).padStart(12, '0')}-${String(lastSeq).padStart(12, '0')}.jsonl`;
}

/** The range a segment name gives, or undefined for any other file. */
export function parseSegmentName(name: string): { firstSeq: number; lastSeq: number } | undefined {
  const m = /^ledger-(\d{12})-(\d{12})\.jsonl$/.exec(name);
  return m ? { firstSeq: Number(m[1]), lastSeq: Number(m[2]) } : undefined;
}
