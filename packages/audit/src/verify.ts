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
  const run = new LedgerVerification(options);
  let failure: LedgerFailure | undefined;
  try {
    for await (const raw of source) {
      failure = await run.read(raw);
      if (failure) break;
    }
    const bad = await run.firstBadSignature();
    if (bad && (!failure || bad.seq < failure.seq)) failure = bad;
  } finally {
    await run.close();
  }
  return run.finish(failure);
}

/**
 * One pass over a ledger: the state carried from entry to entry (expected seq, previous hash, the batch the
 * next checkpoint must cover, checkpoints waiting for a timestamp) and the report it builds. Signatures are
 * handed to the worker pool as entries are read, and their failures collected at the end.
 */
class LedgerVerification {
  readonly #options: VerifyOptions;
  readonly #startSeq: number;
  readonly #every: number;
  readonly #pool: SignaturePool;
  // One key per signer and kid, reused while the signing time lies in its validity window: the cache grows
  // with the keys of the directory, not with the entries.
  readonly #keyCache = new Map<string, PublicJwk>();
  readonly #pendingCheckpoints = new Map<number, PendingCheckpoint>();
  readonly #report: VerifyReport;
  #expected: number;
  #prevHash: string | undefined;
  #batch: string[] = [];
  #batchFirst: number;
  #partialBatch: boolean;
  #firstUnsigned: number | undefined;

  constructor(options: VerifyOptions) {
    const startSeq = options.startSeq ?? 1;
    this.#options = options;
    this.#startSeq = startSeq;
    this.#every = options.progressEvery ?? 1000;
    this.#pool = new SignaturePool(options.threads);
    this.#report = {
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
    this.#expected = startSeq;
    this.#prevHash = startSeq === 1 ? GENESIS_HASH : undefined;
    this.#batchFirst = startSeq;
    this.#partialBatch = startSeq !== 1;
  }

  /** Checks the next line; returns the failure that stops reading, if any. */
  async read(raw: string | Uint8Array): Promise<LedgerFailure | undefined> {
    const fail = (code: LedgerErrorCode, reason: string): LedgerFailure => ({
      seq: this.#expected,
      code,
      reason,
    });
    const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
    let entry: LedgerEntry;
    try {
      entry = parseEntry(text, this.#expected);
    } catch (err) {
      return fail('ERR_LEDGER_ENTRY_MALFORMED', err instanceof Error ? err.message : 'not an entry');
    }
    if (entry.seq !== this.#expected) {
      return fail(
        'ERR_LEDGER_GAP',
        entry.seq > this.#expected
          ? `entry ${this.#expected} is missing (found ${entry.seq} in its place)`
          : `entry ${entry.seq} appears where ${this.#expected} belongs (moved or duplicated)`,
      );
    }
    if (this.#report.entries === 0) this.#report.firstSeq = entry.seq;
    if (storedEntryHash(text, entry) !== entry.hash) {
      return fail('ERR_LEDGER_HASH_MISMATCH', 'the entry does not hash to its recorded hash (altered)');
    }
    if (this.#prevHash !== undefined && entry.prevHash !== this.#prevHash) {
      return fail('ERR_LEDGER_CHAIN_BROKEN', `prevHash is not the hash of entry ${this.#expected - 1}`);
    }
    const problem = entry.kind === 'timestamp' ? await this.#timestamp(entry) : await this.#signed(entry);
    if (problem) return fail(problem.code, problem.reason);
    this.#prevHash = entry.hash;
    this.#report.headHash = entry.hash;
    this.#report.lastSeq = entry.seq;
    this.#report.entries++;
    this.#expected++;
    if (this.#options.onProgress && this.#report.entries % this.#every === 0)
      this.#options.onProgress(this.#report.entries);
    return undefined;
  }

  // A timestamp entry is chained like any other and counts in the next checkpoint's batch; its token is
  // checked here, since it carries no JWS for the pool.
  async #timestamp(entry: TimestampLedgerEntry): Promise<EntryProblem | undefined> {
    const checked = await checkTimestamp(entry, this.#pendingCheckpoints, this.#startSeq, this.#options);
    if ('reason' in checked) return { code: 'ERR_LEDGER_TIMESTAMP_INVALID', reason: checked.reason };
    const t = this.#report.timestamps;
    t.tokens++;
    for (const seq of checked.covered) this.#pendingCheckpoints.delete(seq);
    t.checkpointsTimestamped += checked.covered.length;
    const lastCovered = entry.meta.checkpoints[entry.meta.checkpoints.length - 1]?.seq ?? 0;
    t.last = {
      checkpointSeq: lastCovered,
      genTime: checked.attested.genTime.toISOString(),
      tsa: checked.attested.tsa,
      chain: checked.attested.chain,
    };
    this.#batch.push(entry.hash);
    if (this.#firstUnsigned === undefined) this.#firstUnsigned = entry.seq;
    return undefined;
  }

  // Envelopes, receipts and checkpoints: the signer's key valid at the signing time goes to the pool with
  // the signature; a checkpoint also closes the batch it must cover.
  async #signed(entry: Exclude<LedgerEntry, TimestampLedgerEntry>): Promise<EntryProblem | undefined> {
    const spec = signatureSpec(entry);
    if (!('signer' in spec)) return { code: spec.code, reason: spec.reason };
    let key: PublicJwk;
    try {
      key = await this.#resolveKey(spec.signer, spec.at, spec.kid);
    } catch (err) {
      const code = (err as { code?: string }).code;
      return {
        code: spec.code,
        reason: `no key ${spec.kid} of ${spec.signer} valid at ${spec.at.toISOString()}${code ? ` (${code})` : ''}`,
      };
    }
    await this.#pool.add(
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
            : !this.#partialBatch && (c.firstSeq !== this.#batchFirst || c.size !== this.#batch.length)
              ? `covers ${c.firstSeq}..${c.lastSeq} (${c.size}), expected ${this.#batchFirst}..${entry.seq - 1}`
              : !this.#partialBatch && c.root !== merkleRoot(this.#batch)
                ? 'the Merkle root does not match the entries it covers'
                : undefined;
      if (problem) return { code: 'ERR_LEDGER_CHECKPOINT_INVALID', reason: problem };
      this.#report.checkpoints++;
      this.#pendingCheckpoints.set(entry.seq, {
        sealSha256: sha256Hex(entry.seal),
        issuedAt: Date.parse(c.issuedAt),
      });
      this.#batch = [];
      this.#batchFirst = entry.seq + 1;
      this.#partialBatch = false;
      this.#firstUnsigned = undefined;
    } else {
      this.#batch.push(entry.hash);
      if (this.#firstUnsigned === undefined) this.#firstUnsigned = entry.seq;
      if (entry.kind === 'envelope') this.#report.envelopes++;
      else this.#report.receipts++;
    }
    return undefined;
  }

  async #resolveKey(signer: string, at: Date, kid: string): Promise<PublicJwk> {
    if (signer === AUDITOR_ID && this.#options.auditorKey) return this.#options.auditorKey;
    const id = `${signer}|${kid}`;
    const cached = this.#keyCache.get(id);
    if (cached && within(cached, at.getTime())) return cached;
    const jwk = await this.#options.resolver.resolve(signer, 'sig', at, kid);
    this.#keyCache.set(id, jwk);
    return jwk;
  }

  /** Waits for the pool's checks; the earliest entry whose signature failed, if any. */
  async firstBadSignature(): Promise<LedgerFailure | undefined> {
    const firstBad = (await this.#pool.drain())[0];
    if (firstBad === undefined) return undefined;
    const kind = KINDS[firstBad % 2 ** KIND_BITS] ?? 'envelope';
    return {
      seq: Math.floor(firstBad / 2 ** KIND_BITS),
      code: KIND_CODE[kind],
      reason:
        kind === 'envelope'
          ? "the seal's signature does not verify with the sender's key"
          : kind === 'receipt'
            ? "the receipt's signature does not verify with the receiver's key"
            : "the checkpoint's signature does not verify with the auditor's key",
    };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  /** The report, with the checks only the end of the source allows (its last seq, an unsigned tail). */
  finish(failure: LedgerFailure | undefined): VerifyReport {
    const report = this.#report;
    const firstUnsigned = this.#firstUnsigned;
    report.uncheckpointed = this.#batch.length;
    if (firstUnsigned !== undefined) report.firstUncheckpointed = firstUnsigned;
    report.timestamps.checkpointsPending = this.#pendingCheckpoints.size;
    if (
      !failure &&
      this.#options.expectedLastSeq !== undefined &&
      report.lastSeq !== this.#options.expectedLastSeq
    ) {
      failure = {
        seq: report.lastSeq + 1,
        code: 'ERR_LEDGER_GAP',
        reason: `the entries end at ${report.lastSeq}, not at ${this.#options.expectedLastSeq} as the export says`,
      };
    }
    if (!failure && this.#options.requireSignedTail && firstUnsigned !== undefined) {
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
}

/** Why an entry fails, before the seq is attached. */
type EntryProblem = Omit<LedgerFailure, 'seq'>;

const within = (jwk: PublicJwk, t: number): boolean =>
  (jwk.notBefore === undefined || t >= Date.parse(jwk.notBefore)) &&
  (jwk.notAfter === undefined || t <= Date.parse(jwk.notAfter));

/** Throws the {@link LedgerError} a failed report describes; returns the report when it is ok. */
export function assertLedgerOk(report: VerifyReport): VerifyReport {
  if (report.failure) {
    const f = report.failure;
    throw new LedgerError(f.code, `Ledger entry ${f.seq}: ${f.reason}.`, { details: { seq: f.seq } });
  }
  return report;
}
