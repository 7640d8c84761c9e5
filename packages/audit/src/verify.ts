import { GENESIS_HASH, sha256Hex } from './digest.js';
import { type LedgerEntry, type TimestampLedgerEntry, timestampImprintInput } from './entry.js';
import type { KeyResolver, PublicJwk } from './keys.js';
import { LedgerError, type LedgerErrorCode } from './ledger-error.js';
import { merkleRoot } from './merkle.js';
import { parseEntry } from './parse-entry.js';
import { AUDITOR_ID, signatureSpec } from './signature-spec.js';
import { storedEntryHash } from './stored-hash.js';
import { type AttestedTime, type TsaTrust, verifyTimestampToken } from './timestamp-token.js';
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
  /** Entries after the last checkpoint: chained, not yet under a signed root. */
  uncheckpointed: number;
  /** Seq of the first of them (absent when the source ends on a checkpoint). */
  firstUncheckpointed?: number;
  /** Hash of the last entry read. */
  headHash: string;
  /** The RFC 3161 timestamps found: how many tokens, which checkpoints they cover, the last attested time. */
  timestamps: TimestampSummary;
  failure?: LedgerFailure;
}

/** What the timestamp entries of a verified ledger attest. */
export interface TimestampSummary {
  /** Timestamp entries (tokens) checked. */
  tokens: number;
  /** Checkpoints covered by a checked token. */
  checkpointsTimestamped: number;
  /** Checkpoints read that no token covers (yet). */
  checkpointsPending: number;
  /** The latest checkpoint covered by a token, and when the TSA saw it. */
  last?: { checkpointSeq: number; genTime: string; tsa: string; chain: AttestedTime['chain'] };
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
  /** Roots the TSA certificates of timestamp tokens must chain to; without it chains are not checked. */
  tsaTrust?: TsaTrust;
  /**
   * A checkpoint may claim an `issuedAt` at most this long after the time a TSA attests for it, in ms
   * (default 5 minutes): beyond, the auditor's clock was ahead of the TSA's and the token is refused.
   */
  clockToleranceMs?: number;
  /**
   * Refuse entries after the last checkpoint (`ERR_LEDGER_UNSIGNED_TAIL`): an export must end on a signed
   * checkpoint covering every entry in it (default false: the live stream has a tail waiting for one).
   */
  requireSignedTail?: boolean;
  /** Seq the source must end on (an export header's `to`): ending elsewhere is `ERR_LEDGER_GAP`. */
  expectedLastSeq?: number;
  /** Called every `progressEvery` entries read (default 1000) with the count so far. */
  onProgress?: (entries: number) => void;
  progressEvery?: number;
}

// Failed signatures come back from the pool by id; the id carries the kind in its low bits, so no map of
// every entry's kind is kept (memory stays flat however long the ledger).
const KINDS = ['envelope', 'receipt', 'checkpoint', 'erasure'] as const;
const KIND_CODE: Record<(typeof KINDS)[number], LedgerErrorCode> = {
  envelope: 'ERR_LEDGER_SEAL_INVALID',
  receipt: 'ERR_LEDGER_RECEIPT_INVALID',
  checkpoint: 'ERR_LEDGER_CHECKPOINT_INVALID',
  erasure: 'ERR_LEDGER_SEAL_INVALID',
};
const KIND_BITS = 4;

interface PendingCheckpoint {
  sealSha256: string;
  issuedAt: number;
}

/**
 * Checks a timestamp entry: every checkpoint it names is an earlier checkpoint not yet timestamped, with
 * the same JWS hash; its token imprints the claims and checks (signature, chain to the trust list); no
 * covered checkpoint claims a time later than the attested one (beyond the tolerance). Returns a reason, or
 * the attested time.
 */
async function checkTimestamp(
  entry: TimestampLedgerEntry,
  pending: Map<number, PendingCheckpoint>,
  startSeq: number,
  options: VerifyOptions,
): Promise<{ reason: string } | { attested: AttestedTime; covered: number[] }> {
  const covered: number[] = [];
  let latestClaim = Number.NEGATIVE_INFINITY;
  for (const c of entry.meta.checkpoints) {
    if (c.seq >= entry.seq) return { reason: `names checkpoint ${c.seq}, which comes after it` };
    if (c.seq < startSeq) continue; // before the verified range: taken as given, like the first prevHash
    const p = pending.get(c.seq);
    if (!p) return { reason: `names entry ${c.seq}, which is not a checkpoint waiting for a timestamp` };
    if (p.sealSha256 !== c.sealSha256)
      return { reason: `the hash it gives for checkpoint ${c.seq} is not its JWS's` };
    latestClaim = Math.max(latestClaim, p.issuedAt);
    covered.push(c.seq);
  }
  let attested: AttestedTime;
  try {
    attested = await verifyTimestampToken(
      Buffer.from(entry.token, 'base64'),
      timestampImprintInput(entry.meta),
      options.tsaTrust ? { trust: options.tsaTrust } : {},
    );
  } catch (err) {
    return {
      reason: (err as Error).message
        .replace(/^Timestamp token refused: /, 'the token does not check: ')
        .replace(/\.$/, ''),
    };
  }
  const tolerance = options.clockToleranceMs ?? 5 * 60_000;
  if (latestClaim > attested.genTime.getTime() + tolerance) {
    return {
      reason: `a checkpoint it covers claims a time after ${attested.genTime.toISOString()}, the time the TSA attests`,
    };
  }
  return { attested, covered };
}

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
  // One key per signer and kid, reused while the signing time lies in its validity window: the cache grows
  // with the keys of the directory, not with the entries.
  const keyCache = new Map<string, PublicJwk>();
  const pendingCheckpoints = new Map<number, PendingCheckpoint>();
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
    timestamps: { tokens: 0, checkpointsTimestamped: 0, checkpointsPending: 0 },
  };
  let failure: LedgerFailure | undefined;
  let expected = startSeq;
  let prevHash: string | undefined = startSeq === 1 ? GENESIS_HASH : undefined;
  let batch: string[] = [];
  let batchFirst = startSeq;
  let partialBatch = startSeq !== 1;
  const every = options.progressEvery ?? 1000;

  const within = (jwk: PublicJwk, t: number): boolean =>
    (jwk.notBefore === undefined || t >= Date.parse(jwk.notBefore)) &&
    (jwk.notAfter === undefined || t <= Date.parse(jwk.notAfter));
  const resolveKey = async (signer: string, at: Date, kid: string): Promise<PublicJwk> => {
    if (signer === AUDITOR_ID && options.auditorKey) return options.auditorKey;
    const id = `${signer}|${kid}`;
    const cached = keyCache.get(id);
    if (cached && within(cached, at.getTime())) return cached;
    const jwk = await options.resolver.resolve(signer, 'sig', at, kid);
    keyCache.set(id, jwk);
    return jwk;
  };
  let firstUnsigned: number | undefined;

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
      if (entry.kind === 'timestamp') {
        const checked = await checkTimestamp(entry, pendingCheckpoints, startSeq, options);
        if ('reason' in checked) {
          fail('ERR_LEDGER_TIMESTAMP_INVALID', checked.reason);
          break;
        }
        const t = report.timestamps;
        t.tokens++;
        for (const seq of checked.covered) pendingCheckpoints.delete(seq);
        t.checkpointsTimestamped += checked.covered.length;
        const lastCovered = entry.meta.checkpoints[entry.meta.checkpoints.length - 1]?.seq ?? 0;
        t.last = {
          checkpointSeq: lastCovered,
          genTime: checked.attested.genTime.toISOString(),
          tsa: checked.attested.tsa,
          chain: checked.attested.chain,
        };
        batch.push(entry.hash);
        if (firstUnsigned === undefined) firstUnsigned = entry.seq;
        prevHash = entry.hash;
        report.headHash = entry.hash;
        report.lastSeq = entry.seq;
        report.entries++;
        expected++;
        if (options.onProgress && report.entries % every === 0) options.onProgress(report.entries);
        continue;
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
      await pool.add(
        entry.seq * 2 ** KIND_BITS + KINDS.indexOf(entry.kind),
        key,
        spec.signingInput,
        spec.signature,
      );
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
        pendingCheckpoints.set(entry.seq, {
          sealSha256: sha256Hex(entry.seal),
          issuedAt: Date.parse(c.issuedAt),
        });
        batch = [];
        batchFirst = entry.seq + 1;
        partialBatch = false;
        firstUnsigned = undefined;
      } else {
        batch.push(entry.hash);
        if (firstUnsigned === undefined) firstUnsigned = entry.seq;
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
    const firstBad = failedSignatures[0];
    const firstBadSignature = firstBad === undefined ? undefined : Math.floor(firstBad / 2 ** KIND_BITS);
    if (
      firstBad !== undefined &&
      firstBadSignature !== undefined &&
      (!failure || firstBadSignature < failure.seq)
    ) {
      const kind = KINDS[firstBad % 2 ** KIND_BITS] ?? 'envelope';
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
  if (firstUnsigned !== undefined) report.firstUncheckpointed = firstUnsigned;
  report.timestamps.checkpointsPending = pendingCheckpoints.size;
  if (!failure && options.expectedLastSeq !== undefined && report.lastSeq !== options.expectedLastSeq) {
    failure = {
      seq: report.lastSeq + 1,
      code: 'ERR_LEDGER_GAP',
      reason: `the entries end at ${report.lastSeq}, not at ${options.expectedLastSeq} as the export says`,
    };
  }
  if (!failure && options.requireSignedTail && firstUnsigned !== undefined) {
    failure = {
      seq: firstUnsigned,
      code: 'ERR_LEDGER_UNSIGNED_TAIL',
      reason: `entries ${firstUnsigned}..${report.lastSeq} come after the last checkpoint: no signature covers them`,
    };
  }
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
