import { GENESIS_HASH } from './digest.js';
import type { LedgerEntry } from './entry.js';
import type { KeyResolver, PublicJwk } from './keys.js';
import { LedgerError, type LedgerErrorCode } from './ledger-error.js';
import { merkleRoot } from './merkle.js';
import { parseEntry } from './parse-entry.js';
import { AUDITOR_ID, signatureSpec } from './signature-spec.js';
import { storedEntryHash } from './stored-hash.js';
import { SignaturePool } from './verify-pool.js';

/** The first entry that does not verify, and why. */
export interface LedgerFailure {
  seq: number;
  code: LedgerErrorCode;
  reason: string;
}

/** Outcome of {@link verifyLedger}. */
export interface VerifyReport {
  ok: boolean;
  /** Seq of the first and last entry read (0 when none). */
  firstSeq: number;
  lastSeq: number;
  entries: number;
  envelopes: number;
  receipts: number;
  checkpoints: number;
  /** Entries after the last checkpoint: chained and signed, not yet under a signed root. */
  uncheckpointed: number;
  /** Hash of the last entry read. */
  headHash: string;
  failure?: LedgerFailure;
}

/** Options of {@link verifyLedger}. */
export interface VerifyOptions {
  /** Keys of senders, receivers and the auditor (directory client or offline directory file). */
  resolver: KeyResolver;
  /** Trusted auditor key: when given, checkpoints must verify with it instead of the resolver's. */
  auditorKey?: PublicJwk;
  /** Seq of the first entry expected (default 1). From a later seq, its prevHash and first batch are taken as they are. */
  startSeq?: number;
  /** Worker threads for signature checks (default: one per core). */
  threads?: number;
  /** Called every `progressEvery` entries read (default 1000) with the count so far. */
  onProgress?: (entries: number) => void;
  progressEvery?: number;
}

const KIND_CODE: Record<LedgerEntry['kind'], LedgerErrorCode> = {
  envelope: 'ERR_LEDGER_SEAL_INVALID',
  receipt: 'ERR_LEDGER_RECEIPT_INVALID',
  checkpoint: 'ERR_LEDGER_CHECKPOINT_INVALID',
};

/**
 * Verifies a ledger read in order: sequence continuity, every entry hash, the hash chain, every envelope
 * seal against the sender's key valid at `issuedAt`, every receipt signature, every checkpoint (range,
 * Merkle root, auditor signature). Signature checks run on worker threads. The report names the first
 * entry that fails, with a typed code; reading stops at the first structural failure.
 *
 * @example
 * ```ts
 * const report = await verifyLedger(readExportLines('ledger.jsonl'), { resolver });
 * if (!report.ok) console.error(report.failure); // { seq: 4812, code: 'ERR_LEDGER_CHAIN_BROKEN', reason: … }
 * ```
 */
export async function verifyLedger(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const startSeq = options.startSeq ?? 1;
  const pool = new SignaturePool(options.threads);
  const keyCache = new Map<string, Promise<PublicJwk>>();
  const kinds = new Map<number, LedgerEntry['kind']>();
  const report: VerifyReport = {
    ok: true,
    firstSeq: 0,
    lastSeq: 0,
    entries: 0,
    envelopes: 0,
    receipts: 0,
    checkpoints: 0,
    uncheckpointed: 0,
    headHash: startSeq === 1 ? GENESIS_HASH : '',
  };
  let failure: LedgerFailure | undefined;
  let expected = startSeq;
  let prevHash: string | undefined = startSeq === 1 ? GENESIS_HASH : undefined;
  let batch: string[] = [];
  let batchFirst = startSeq;
  let partialBatch = startSeq !== 1;
  const every = options.progressEvery ?? 1000;

  const resolveKey = (signer: string, at: Date, kid: string): Promise<PublicJwk> => {
    if (signer === AUDITOR_ID && options.auditorKey) return Promise.resolve(options.auditorKey);
    const id = `${signer}|${kid}|${at.getTime()}`;
    let p = keyCache.get(id);
    if (!p) {
      p = options.resolver.resolve(signer, 'sig', at, kid);
      keyCache.set(id, p);
    }
    return p;
  };

  try {
    for await (const raw of source) {
      const fail = (code: LedgerErrorCode, reason: string, seq = expected): void => {
        failure = { seq, code, reason };
      };
      const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
      let entry: LedgerEntry;
      try {
        entry = parseEntry(text, expected);
      } catch (err) {
        fail('ERR_LEDGER_ENTRY_MALFORMED', err instanceof Error ? err.message : 'not an entry');
        break;
      }
      if (entry.seq !== expected) {
        fail(
          'ERR_LEDGER_GAP',
          entry.seq > expected
            ? `entry ${expected} is missing (found ${entry.seq} in its place)`
            : `entry ${entry.seq} appears where ${expected} belongs (moved or duplicated)`,
        );
        break;
      }
      if (report.entries === 0) report.firstSeq = entry.seq;
      if (storedEntryHash(text, entry) !== entry.hash) {
        fail('ERR_LEDGER_HASH_MISMATCH', 'the entry does not hash to its recorded hash (altered)');
        break;
      }
      if (prevHash !== undefined && entry.prevHash !== prevHash) {
        fail('ERR_LEDGER_CHAIN_BROKEN', `prevHash is not the hash of entry ${expected - 1}`);
        break;
      }
      const spec = signatureSpec(entry);
      if (!('signer' in spec)) {
        fail(spec.code, spec.reason);
        break;
      }
      let key: PublicJwk;
      try {
        key = await resolveKey(spec.signer, spec.at, spec.kid);
      } catch (err) {
        const code = (err as { code?: string }).code;
        fail(
          spec.code,
          `no key ${spec.kid} of ${spec.signer} valid at ${spec.at.toISOString()}${code ? ` (${code})` : ''}`,
        );
        break;
      }
      kinds.set(entry.seq, entry.kind);
      await pool.add(entry.seq, key, spec.signingInput, spec.signature);
      if (entry.kind === 'checkpoint') {
        const c = entry.meta;
        const problem =
          c.lastSeq !== entry.seq - 1
            ? `covers up to ${c.lastSeq}, not ${entry.seq - 1}`
            : c.headHash !== entry.prevHash
              ? 'headHash is not the hash of the entry before it'
              : !partialBatch && (c.firstSeq !== batchFirst || c.size !== batch.length)
                ? `covers ${c.firstSeq}..${c.lastSeq} (${c.size}), expected ${batchFirst}..${entry.seq - 1}`
                : !partialBatch && c.root !== merkleRoot(batch)
                  ? 'the Merkle root does not match the entries it covers'
                  : undefined;
        if (problem) {
          fail('ERR_LEDGER_CHECKPOINT_INVALID', problem);
          break;
        }
        report.checkpoints++;
        batch = [];
        batchFirst = entry.seq + 1;
        partialBatch = false;
      } else {
        batch.push(entry.hash);
        if (entry.kind === 'envelope') report.envelopes++;
        else report.receipts++;
      }
      prevHash = entry.hash;
      report.headHash = entry.hash;
      report.lastSeq = entry.seq;
      report.entries++;
      expected++;
      if (options.onProgress && report.entries % every === 0) options.onProgress(report.entries);
    }
    const failedSignatures = await pool.drain();
    const firstBadSignature = failedSignatures[0];
    if (firstBadSignature !== undefined && (!failure || firstBadSignature < failure.seq)) {
      const kind = kinds.get(firstBadSignature) ?? 'envelope';
      failure = {
        seq: firstBadSignature,
        code: KIND_CODE[kind],
        reason:
          kind === 'envelope'
            ? "the seal's signature does not verify with the sender's key"
            : kind === 'receipt'
              ? "the receipt's signature does not verify with the receiver's key"
              : "the checkpoint's signature does not verify with the auditor's key",
      };
    }
  } finally {
    await pool.close();
  }
  report.uncheckpointed = batch.length;
  if (failure) {
    report.ok = false;
    report.failure = failure;
  }
  return report;
}

/** Throws the {@link LedgerError} a failed report describes; returns the report when it is ok. */
export function assertLedgerOk(report: VerifyReport): VerifyReport {
  if (report.failure) {
    const f = report.failure;
    throw new LedgerError(f.code, `Ledger entry ${f.seq}: ${f.reason}.`, { details: { seq: f.seq } });
  }
  return report;
}
